"""Whatever a candidate says (name, version, errors, trace values) renders inert: the HTML
report runs no injected script in Chromium, the JUnit XML parses, the Markdown keeps its shape."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from idlespec.conformance.browsers.engines import Chromium, find_browser
from idlespec.conformance.cli import main

EVIL = (
    "</script><script>window.__pwned=1;document.title='pwned'</script><img src=x onerror=\"window.__pwned=2\">|\n`*x*` \x07 'q' \"dq\" "
    + "long " * 400
)


def _hostile_raw(folder: Path) -> None:
    raw = folder / "raw"
    raw.mkdir(parents=True)
    header = {
        "type": "header",
        "suite_revision": "x",
        "idlespec_version": "0",
        "candidate": {
            "name": "evil" + EVIL[:80],
            "version": EVIL[:60],
            "kind": "userland",
            "provenance": EVIL,
        },
    }
    result = {
        "type": "result",
        "row": "fifo-callbacks-run-in-posting-order",
        "area": "fifo",
        "level": "must",
        "spec": "#x",
        "verdict": "ERROR",
        "raw_verdict": "ERROR",
        "known_failure": None,
        "mismatches": [EVIL],
        "error": EVIL,
        "timeout": None,
        "unsupported": None,
        "trace": {
            "calls": [
                {
                    "t": 0,
                    "kind": "idle",
                    "label": EVIL,
                    "window": EVIL,
                    "did_timeout": None,
                    "remaining": None,
                    "argc": 1,
                }
            ],
            "notes": [EVIL],
        },
    }
    (raw / "evil.jsonl").write_text(
        json.dumps(header) + "\n" + json.dumps(result) + "\n", encoding="utf-8"
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("escaping")
    _hostile_raw(folder)
    import io

    assert main(["report", str(folder), "--out", str(folder / "out")], stdout=io.StringIO()) == 0
    return folder / "out"


def test_junit_parses_and_keeps_the_text(report: Path) -> None:
    suites = ET.parse(report / "junit.xml").getroot()
    (error,) = list(suites.iter("error"))
    assert "window.__pwned=1" in (error.text or "")


def test_the_markdown_table_keeps_its_shape(report: Path) -> None:
    lines = (report / "summary.md").read_text(encoding="utf-8").splitlines()
    table = [line for line in lines if line.startswith("| ")]
    header_cells = table[0].count("|")
    assert all(line.count("|") - line.count("\\|") == header_cells for line in table), table
    failures = [line for line in lines if line.startswith("- `fifo-")]
    assert failures and all("\n" not in line and "<script>" not in line for line in failures)


@pytest.mark.engines
def test_chromium_runs_no_injected_script(report: Path) -> None:
    executable = find_browser("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run must install it")
        pytest.skip("chromium is not installed")
    engine = Chromium(executable)
    try:
        engine._session = None
        target = engine._cdp("Target.createTarget", {"url": (report / "index.html").as_uri()})
        engine._session = engine._cdp(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )["sessionId"]
        state = None
        for _ in range(200):
            state = engine.evaluate(
                # The new target starts on about:blank, itself 'complete': wait for the file.
                "location.protocol === 'file:' && document.readyState === 'complete' ? "
                "[document.title, String(window.__pwned), "
                "document.querySelectorAll('script').length, document.querySelectorAll('img').length] : null",
                10,
            )
            if state:
                break
        assert state == ["requestIdleCallback conformance", "undefined", 1, 0]
    finally:
        engine.close()
