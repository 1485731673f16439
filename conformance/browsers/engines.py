"""Debian's browsers, driven by the protocols built into them: CDP (Chromium), BiDi (Firefox).

Each :class:`Engine` launches its browser headless with a throw-away profile, opens the
runner page and evaluates JavaScript in it, awaiting promises. Nothing is downloaded: the
browsers are Debian's ``chromium`` and ``firefox-esr`` packages, found on ``PATH``
(``IDLESPEC_CHROMIUM`` / ``IDLESPEC_FIREFOX`` name others). The clients speak the
protocols directly over a WebSocket (the ``websockets`` package's synchronous client), with
a real-time limit on every answer: a hung page never hangs the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from idlespec.conformance.api import CandidateCrashed
from idlespec.reference import wall_clock

_LAUNCH_S = 30.0


class EngineError(CandidateCrashed):
    """The browser died, did not start, or stopped answering."""


class PageError(Exception):
    """The page's JavaScript threw (a JS exception, not a broken browser)."""


def find_browser(engine: str) -> str | None:
    """The executable of ``chromium`` or ``firefox-esr``, or None."""
    variable = {"chromium": "IDLESPEC_CHROMIUM", "firefox-esr": "IDLESPEC_FIREFOX"}[engine]
    return shutil.which(os.environ.get(variable) or engine)


def browser_version(executable: str) -> str:
    """The version the browser reports (``chromium --version``: ``Chromium 156.0...``)."""
    out = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    match = re.search(r"(\d+\.\d+[\w.]*)", out)
    return match.group(1) if match else "unknown"


def _wait_for_line(log: IO[bytes], pattern: re.Pattern[str], proc: subprocess.Popen[bytes]) -> str:
    """The first match of ``pattern`` in the browser's stderr (a file), or EngineError."""
    deadline = wall_clock() + _LAUNCH_S
    while wall_clock() < deadline:
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
        match = pattern.search(text)
        if match:
            return match.group(1)
        if proc.poll() is not None:
            raise EngineError(f"the browser exited with status {proc.returncode}: {text[-600:]}")
        time.sleep(0.05)  # real time: waiting for a process to start, never for semantics
    raise EngineError(f"the browser did not start within {_LAUNCH_S:g} s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Engine:
    """One running browser with one page."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.version = browser_version(executable)
        self._profile = tempfile.mkdtemp(prefix="idlespec-browser-")
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._proc: subprocess.Popen[bytes] | None = None
        self._ws: Any = None
        self._seq = 0

    # The protocol ----------------------------------------------------------------------

    def _send(self, message: Mapping[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send a command; return its answer (events meanwhile go to :meth:`_event`)."""
        from websockets.exceptions import WebSocketException  # noqa: PLC0415

        self._seq += 1
        own = self._seq
        try:
            self._ws.send(json.dumps({**message, "id": own}))
            deadline = wall_clock() + timeout_s
            while True:
                left = deadline - wall_clock()
                if left <= 0:
                    raise EngineError(f"no answer to {message.get('method')} in {timeout_s:g} s")
                answer = json.loads(self._ws.recv(timeout=left))
                if answer.get("id") == own:
                    return dict(answer)
                self._event(answer)
        except (TimeoutError, WebSocketException, OSError) as error:
            raise EngineError(f"the browser stopped answering: {error}") from None

    def _event(self, message: Mapping[str, Any]) -> None:
        """An event the browser sent while we waited for an answer."""

    def _connect(self, url: str) -> None:
        from websockets.sync.client import connect  # noqa: PLC0415 - only browsers need it

        # Entered as a context manager (websockets 17 deprecates a bare connect()); left in
        # close().
        self._ws = connect(url, max_size=None, open_timeout=_LAUNCH_S).__enter__()

    def evaluate(self, expression: str, timeout_s: float) -> Any:
        """The value of ``expression`` in the page (a promise is awaited); JSON-ready values."""
        raise NotImplementedError

    def open_page(self, url: str) -> None:
        """Load ``url`` in the page and wait until the runner is there."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the browser; remove its profile."""
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.__exit__(None, None, None)
            self._ws = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _wait_for_runner(self) -> None:
        deadline = wall_clock() + _LAUNCH_S
        while wall_clock() < deadline:
            try:
                if self.evaluate("typeof window.idlespecRunRow === 'function'", 5.0) is True:
                    return
            except (EngineError, PageError):
                pass  # no execution context yet: the page is still loading
            time.sleep(0.05)  # real time: waiting for a page to load
        raise EngineError("the runner page did not load")


class Chromium(Engine):
    """Chromium, headless, over the Chrome DevTools Protocol."""

    def __init__(self, executable: str) -> None:
        super().__init__(executable)
        self._proc = subprocess.Popen(
            [
                executable,
                "--headless=new",
                "--remote-debugging-port=0",
                f"--user-data-dir={self._profile}",
                "--no-first-run",
                "--no-default-browser-check",
                "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
                "--disable-gpu",
                "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        url = _wait_for_line(self._log, re.compile(r"DevTools listening on (ws://\S+)"), self._proc)
        self._connect(url)
        self._session: str | None = None
        self._budget_expired = False

    def _cdp(
        self, method: str, params: Mapping[str, Any] | None = None, timeout_s: float = 30.0
    ) -> Any:
        message: dict[str, Any] = {"method": method, "params": dict(params or {})}
        if self._session is not None:
            message["sessionId"] = self._session
        answer = self._send(message, timeout_s)
        if "error" in answer:
            raise EngineError(f"{method}: {answer['error'].get('message')}")
        return answer.get("result", {})

    def open_page(self, url: str) -> None:
        """A new target on ``url``, attached with a flat session."""
        self._session = None
        target = self._cdp("Target.createTarget", {"url": url})["targetId"]
        self._session = self._cdp("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self._wait_for_runner()

    def evaluate(self, expression: str, timeout_s: float) -> Any:
        """``Runtime.evaluate`` with ``awaitPromise`` and ``returnByValue``."""
        result = self._cdp(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout_s,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise PageError(str(text))
        return result.get("result", {}).get("value")

    def _event(self, message: Mapping[str, Any]) -> None:
        if message.get("method") == "Emulation.virtualTimeBudgetExpired":
            self._budget_expired = True

    def virtual_time(self, policy: str, budget_ms: float | None = None) -> None:
        """``Emulation.setVirtualTimePolicy``: ``pause`` or ``advance`` (with a budget)."""
        params: dict[str, Any] = {"policy": policy}
        if budget_ms is not None:
            params["budget"] = budget_ms
            self._budget_expired = False
        self._cdp("Emulation.setVirtualTimePolicy", params)

    def wait_for_budget(self, timeout_s: float) -> None:
        """Until ``Emulation.virtualTimeBudgetExpired`` arrives.

        Raises:
            EngineError: it did not come within ``timeout_s`` real seconds.
        """
        deadline = wall_clock() + timeout_s
        while not self._budget_expired:
            if wall_clock() > deadline:
                raise EngineError(f"the virtual-time budget did not expire in {timeout_s:g} s")
            self.evaluate("0", timeout_s)  # serves events while it waits for its answer
            time.sleep(0.01)  # real time: polling the browser


class Firefox(Engine):
    """Firefox ESR, headless, over WebDriver BiDi."""

    def __init__(self, executable: str) -> None:
        super().__init__(executable)
        Path(self._profile, "user.js").write_text(
            'user_pref("browser.shell.checkDefaultBrowser", false);\n'
            'user_pref("datareporting.policy.dataSubmissionEnabled", false);\n'
            'user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);\n'
            'user_pref("privacy.reduceTimerPrecision", false);\n',
            encoding="utf-8",
        )
        port = _free_port()
        self._proc = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-remote",
                f"--remote-debugging-port={port}",
                "--profile",
                self._profile,
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env={**os.environ, "MOZ_CRASHREPORTER_DISABLE": "1"},
        )
        url = _wait_for_line(
            self._log, re.compile(r"WebDriver BiDi listening on (ws://\S+)"), self._proc
        )
        self._connect(url.rstrip("/") + "/session")
        self._bidi("session.new", {"capabilities": {}})
        self._context = self._bidi("browsingContext.getTree", {})["contexts"][0]["context"]

    def _bidi(self, method: str, params: Mapping[str, Any], timeout_s: float = 30.0) -> Any:
        answer = self._send({"method": method, "params": dict(params)}, timeout_s)
        if answer.get("type") == "error":
            raise EngineError(f"{method}: {answer.get('error')}: {answer.get('message')}")
        return answer.get("result", {})

    def open_page(self, url: str) -> None:
        """Navigate the top-level context to ``url``."""
        self._bidi(
            "browsingContext.navigate", {"context": self._context, "url": url, "wait": "complete"}
        )
        self._wait_for_runner()

    def evaluate(self, expression: str, timeout_s: float) -> Any:
        """``script.evaluate`` with ``awaitPromise``; the value comes back JSON-encoded."""
        result = self._bidi(
            "script.evaluate",
            {
                "expression": f"(async () => JSON.stringify(await ({expression})))()",
                "target": {"context": self._context},
                "awaitPromise": True,
            },
            timeout_s,
        )
        if result.get("type") == "exception":
            details = result.get("exceptionDetails", {})
            raise PageError(str(details.get("text")))
        value = result.get("result", {})
        if value.get("type") != "string":
            return None
        return json.loads(value["value"])


ENGINES: Mapping[str, type[Engine]] = {"chromium": Chromium, "firefox-esr": Firefox}
