"""Live engines: repeated rows (FLAKY), tolerances per predicate kind, and the page server."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from idlespec.conformance.browsers.server import PageServer
from idlespec.conformance.candidates import ReferenceCandidate
from idlespec.conformance.connectors import run_row
from idlespec.conformance.expect import LIVE_TOLERANCES, check
from idlespec.conformance.rows import Row, load_rows, rows_by_id
from idlespec.conformance.runner import run_rows
from idlespec.conformance.trace import Trace
from idlespec.conformance.verdicts import Verdict

INDEX = rows_by_id(load_rows())
FIRST = INDEX["idl-handle-first-call-returns-one"]


class Wobbly:
    """Self-hosted: the reference, but every other run returns a trace with no calls."""

    name, version, kind = "wobbly", "0", "self-hosted"
    unsupported_actions: frozenset[str] = frozenset()

    def __init__(self, repetitions: int, wobble: bool) -> None:
        self.repetitions = repetitions
        self.wobble = wobble
        self.runs = 0

    def run_row(self, row: Row) -> Trace:
        self.runs += 1
        trace = run_row(row, ReferenceCandidate())
        if self.wobble and self.runs % 2 == 0:
            trace.handles.clear()
        return trace


def test_a_row_that_disagrees_with_itself_is_flaky_with_every_outcome() -> None:
    candidate = Wobbly(3, wobble=True)
    (result,) = run_rows([FIRST], candidate)
    assert candidate.runs == 3
    assert result.raw_verdict is Verdict.FLAKY
    assert result.outcome.repetitions is not None
    assert [r.split(":")[0] for r in result.outcome.repetitions] == ["PASS", "FAIL", "PASS"]
    assert result.to_json()["repetitions"] == result.outcome.repetitions


def test_a_row_that_agrees_with_itself_keeps_its_verdict() -> None:
    (result,) = run_rows([FIRST], Wobbly(3, wobble=False))
    assert result.raw_verdict is Verdict.PASS
    assert result.outcome.repetitions == ["PASS: matches"] * 3


def test_live_tolerances_widen_each_timed_predicate_by_its_kind_only() -> None:
    row = replace(FIRST, expect={"time": {"a": 10}, "remaining_max": {"a": 20}})
    trace = run_row(replace(row, expect={}), ReferenceCandidate())
    trace.calls[0].t = 10 + LIVE_TOLERANCES["time"] - 0.01
    trace.calls[0].remaining = 20 + LIVE_TOLERANCES["remaining"] - 0.01
    assert check(row.expect, trace, row.tolerance) != []
    assert check(row.expect, trace, row.tolerance, LIVE_TOLERANCES) == []
    trace.calls[0].t = 10 + LIVE_TOLERANCES["time"] + 0.01
    assert len(check(row.expect, trace, row.tolerance, LIVE_TOLERANCES)) == 1
    counted = replace(row, expect={"handles": {"a": 2}})
    assert check(counted.expect, trace, row.tolerance, LIVE_TOLERANCES) != []


@pytest.fixture
def server(tmp_path: Path) -> PageServer:
    page = tmp_path / "page"
    page.mkdir()
    (page / "index.html").write_text("<p>runner</p>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    modules = tmp_path / "node_modules" / "pkg"
    modules.mkdir(parents=True)
    (modules / "index.js").write_text("window.x = 1;", encoding="utf-8")
    found = PageServer(tmp_path / "node_modules", page)
    yield found
    found.close()


def _get(server: PageServer, path: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(server.origin + path, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, "", ""


def test_the_page_server_serves_the_page_and_the_packages_only(server: PageServer) -> None:
    assert server.origin.startswith("http://127.0.0.1:")
    assert _get(server, "/")[2] == "<p>runner</p>"
    assert _get(server, "/node_modules/pkg/index.js")[:2] == (200, "text/javascript")
    for path in ("/../secret.txt", "/node_modules/../../secret.txt", "/%2e%2e/secret.txt", "/nope"):
        assert _get(server, path)[0] == 404, path


def _raw(folder: Path, name: str, verdicts: dict[str, str]) -> None:
    from idlespec.conformance.reports import RawWriter

    writer = RawWriter(folder, {"name": name, "version": "1", "kind": "self-hosted"}, "rev")
    for row, verdict in verdicts.items():
        writer.write({"type": "result", "row": row, "verdict": verdict, "error": "boom"})
    writer.close(1.0)


def test_a_browser_run_is_unsound_only_when_the_harness_broke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from idlespec.conformance.browsers.check import main

    old, new = tmp_path / "old", tmp_path / "new"
    _raw(old, "engine@1", {"a": "PASS", "b": "FAIL"})
    _raw(new, "engine@1", {"a": "FAIL", "b": "FLAKY"})
    assert main([str(new), str(old)]) == 0
    assert "a: PASS -> FAIL" in capsys.readouterr().out
    _raw(new, "engine@1", {"a": "ERROR", "b": "FAIL"})
    _raw(old, "gone@1", {"a": "PASS"})
    _raw(new, "dead@1", {"a": "UNSUPPORTED", "b": "UNSUPPORTED"})
    assert main([str(new), str(old)]) == 1
    out = capsys.readouterr().out
    assert "unsound: engine@1: a: ERROR: boom" in out
    assert "unsound: gone@1: in the committed run, not in the fresh one" in out
    assert "unsound: dead@1: nothing ran" in out
    # A candidate left out on purpose is said, not unsound.
    assert main(["--not-run", "gone@1", str(new), str(old)]) == 1
    out = capsys.readouterr().out
    assert "gone@1: not run here" in out and "unsound: gone@1" not in out


def test_polyfills_are_compared_row_by_row_between_the_bridge_and_chromium(tmp_path: Path) -> None:
    from idlespec.conformance.browsers.check import main
    from idlespec.conformance.reports import RawWriter

    def raw(folder: Path, name: str, verdicts: dict[str, str]) -> None:
        writer = RawWriter(folder, {"name": name, "version": "1", "kind": "userland"}, "rev")
        for row, verdict in verdicts.items():
            writer.write({"type": "result", "row": row, "verdict": verdict, "raw_verdict": verdict})
        writer.close(1.0)

    raw(tmp_path / "bridge", "npm:x@1", {"a": "PASS", "b": "FAIL", "c": "PASS", "d": "PASS"})
    raw(
        tmp_path / "chrome",
        "chromium@9 + npm:x@1",
        {"a": "PASS", "b": "PASS", "c": "FLAKY", "d": "UNSUPPORTED"},
    )
    assert main(["--bridge-vs-browser", str(tmp_path / "bridge"), str(tmp_path / "chrome")]) == 0
    text = (tmp_path / "chrome" / "bridge-vs-browser.md").read_text(encoding="utf-8")
    assert "| npm:x@1 | 3 | 1 | 1 | 1 |" in text
    assert (
        "- `b`: bridge FAIL, Chromium PASS" in text and "- `c`: bridge PASS, Chromium FLAKY" in text
    )


def test_the_check_runs_as_a_module(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "a" / "raw").mkdir(parents=True)
    (tmp_path / "b" / "raw").mkdir(parents=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "idlespec.conformance.browsers.check",
            "--bridge-vs-browser",
            str(tmp_path / "a"),
            str(tmp_path / "b"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (
        (tmp_path / "b" / "bridge-vs-browser.md")
        .read_text(encoding="utf-8")
        .startswith("# Polyfills")
    )


def test_a_new_browser_version_is_news_not_an_unsound_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from idlespec.conformance.browsers.check import main
    from idlespec.conformance.reports import RawWriter

    for folder, version in (("old", "1"), ("new", "2")):
        info = {
            "name": f"engine@{version}",
            "version": version,
            "kind": "self-hosted",
            "expectations": "engine-live",
        }
        writer = RawWriter(tmp_path / folder, info, "rev")
        writer.write({"type": "result", "row": "a", "verdict": "PASS", "raw_verdict": "PASS"})
        writer.close(1.0)
    assert main([str(tmp_path / "new"), str(tmp_path / "old")]) == 0
    assert "engine-live: now engine@2, committed engine@1: regenerate it" in capsys.readouterr().out


def test_a_bound_the_live_tolerance_swallows_is_not_judged_live() -> None:
    from idlespec.conformance.expect import LIVE_TOLERANCES, VIRTUAL_TOLERANCES, vacuous

    expect = {"any_of": [{"remaining_max": {"a": 5}}, {"time_min": {"a": 5}}]}
    assert vacuous(expect, 0.001, LIVE_TOLERANCES) == [
        "time_min 'a' 5 is within the 5 ms tolerance of 0"
    ]
    assert vacuous(expect, 0.001, VIRTUAL_TOLERANCES) == []
    # A bound of 0 still catches a negative timeRemaining(); 20 ms is beyond the tolerance.
    assert vacuous({"remaining_min": {"a": 0}, "time_min": {"a": 20}}, 0.001, LIVE_TOLERANCES) == []
    assert vacuous({"remaining_min": {"a.s": 0.001}}, 0.001, VIRTUAL_TOLERANCES)
