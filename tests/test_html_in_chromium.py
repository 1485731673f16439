"""The HTML report, opened in a real headless Chromium, shows the matrix.

CI installs Debian's chromium (.ci/run); without it this test is skipped, and says so.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from idlespec.conformance.cli import main

pytestmark = pytest.mark.engines

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.verdict_cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        self._in_cell = tag == "td" and "v" in classes and len(classes) == 2
        if self._in_cell:
            self.verdict_cells.append(classes[1])


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
def test_chromium_renders_the_matrix(tmp_path: Path) -> None:
    out = tmp_path / "report"
    status = main(
        [
            "run",
            "-c",
            "reference",
            "-c",
            "broken_candidates:lifo",
            "--area",
            "fifo",
            "--out",
            str(out),
            "--progress",
            "never",
        ],
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert status == 1  # the broken candidate fails rows
    url = (out / "index.html").as_uri()
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        shot = tmp_path / "shot.png"
        subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--window-size=1200,900",
                f"--screenshot={shot}",
                url,
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
    parser = _Cells()
    parser.feed(dom)
    fifo_rows = dom.count('<tr data-area="fifo"')
    assert fifo_rows > 0
    assert len(parser.verdict_cells) == 2 * fifo_rows  # one cell per row and candidate
    assert "PASS" in parser.verdict_cells and "FAIL" in parser.verdict_cells
    assert "requestIdleCallback conformance" in dom
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
