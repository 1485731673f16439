"""A read-only HTTP server on localhost: the runner page, and the npm packages a page loads.

Only three roots are served: the runner page's folder at ``/``, the ``node_modules`` folder
at ``/node_modules/`` and idlespec's own JS candidates (``conformance/node``) at
``/idlespec/``. Nothing outside them is reachable (``..`` is refused), and only GET
and HEAD are answered. It listens on 127.0.0.1 on a port the system picks.
"""

from __future__ import annotations

import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

PAGE_DIR = Path(__file__).with_name("page")
OWN_JS_DIR = Path(__file__).parent.parent / "node"

_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".cjs": "text/javascript"}


class PageServer:
    """Serves ``page_dir`` at ``/`` and ``node_modules`` at ``/node_modules/``."""

    def __init__(self, node_modules: Path, page_dir: Path = PAGE_DIR) -> None:
        roots = {
            "": page_dir.resolve(),
            "node_modules": node_modules.resolve(),
            "idlespec": OWN_JS_DIR.resolve(),
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(body=True)

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def _answer(self, body: bool) -> None:
                file = _resolve(roots, urlsplit(self.path).path)
                if file is None:
                    self.send_error(404)
                    return
                data = file.read_bytes()
                kind = _TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0]
                self.send_response(200)
                self.send_header("Content-Type", kind or "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                # Cross-origin isolated, so performance.now() is not coarsened to 100 µs.
                self.send_header("Cross-Origin-Opener-Policy", "same-origin")
                self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
                self.send_header("Cross-Origin-Resource-Policy", "same-origin")
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: a run's output is its results."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


def _resolve(roots: dict[str, Path], url_path: str) -> Path | None:
    parts = [p for p in unquote(url_path).split("/") if p]
    if any(p in (".", "..") or "\\" in p for p in parts):
        return None
    if parts and parts[0] in ("node_modules", "idlespec"):
        root, rest = roots[parts[0]], parts[1:]
    else:
        root, rest = roots[""], parts or ["index.html"]
    file = root.joinpath(*rest).resolve()
    if not file.is_relative_to(root) or not file.is_file():
        return None
    return file
