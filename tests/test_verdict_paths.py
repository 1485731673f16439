"""Every verdict, end to end: through the CLI's reports and the pytest plugin.

A private table holds one row per outcome; `verdict_candidates` (below, importable as a
module) holds candidates that produce them; a private expectations folder lists known
failures.
"""

from __future__ import annotations

import io
import json
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from idlespec.conformance.cli import main
from idlespec.conformance.connectors import run_row
from idlespec.conformance.html_report import _uncovered
from idlespec.conformance.rows import load_table
from idlespec.conformance.trace import Trace

TABLE = """
[[row]]
id = "fifo-a-must-row"
description = "Two callbacks run in posting order (must)."
spec = "#invoke-idle-callbacks-algorithm step 3.1"
level = "must"
area = "fifo"
tags = ["ordering"]
source = "spec-digest:T-10"
covers = ["R-12"]
run_until = 500
steps = [{ post = "a" }, { post = "b" }]
[row.expect]
order = ["a", "b"]

[[row]]
id = "fifo-a-ref-row"
description = "The first callback sees exactly 50 ms (ref)."
spec = "html#event-loop-processing-model step 5.2.1"
level = "ref"
area = "fifo"
tags = ["deadline"]
covers = ["R-50"]
steps = [{ post = "a" }]
[row.expect]
remaining = { a = 50 }

[[row]]
id = "fifo-a-window-row"
description = "A second window's callback runs (needs open_window)."
spec = "html#same-loop-windows"
level = "must"
area = "fifo"
tags = ["windows"]
covers = ["R-44"]
steps = [{ open_window = "w2" }, { post = "x", window = "w2" }]
[row.expect]
invoked = ["x"]
"""


class Reversed:
    """Self-hosted: runs rows on the reference, then reverses the idle order; no windows."""

    name, version, kind = "reversed", "1", "self-hosted"
    unsupported_actions = frozenset({"open_window"})

    def run_row(self, row: Any) -> Trace:
        from idlespec.conformance.candidates import ReferenceCandidate

        trace = run_row(row, ReferenceCandidate())
        trace.calls.reverse()
        for call in trace.calls:
            if call.remaining is not None:
                call.remaining -= 1
        return trace


class Crashes:
    name, version, kind = "crashes", "1", "native"

    def install(self, window: Any) -> Any:
        raise RuntimeError("no install for you")


@pytest.fixture(autouse=True)
def candidates_module(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("verdict_candidates")
    module.reversed = Reversed()  # type: ignore[attr-defined]
    module.crashes = Crashes()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "verdict_candidates", module)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "fifo.toml").write_text(TABLE, encoding="utf-8")
    expectations = tmp_path / "expectations"
    expectations.mkdir()
    (expectations / "reversed.toml").write_text(
        '[known-failures]\n"fifo-a-must-row" = "it reverses the order"\n'
    )
    (expectations / "reference.toml").write_text(
        '[known-failures]\n"fifo-a-must-row" = "stale entry"\n'
    )
    return cases, expectations


def test_every_verdict_reaches_the_reports(tmp_path: Path, setup: tuple[Path, Path]) -> None:
    cases, expectations = setup
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "run",
        "--cases",
        str(cases),
        "--expectations",
        str(expectations),
        "--out",
        str(tmp_path / "r"),
        "--progress",
        "never",
    ]
    status = main(
        [
            *argv,
            "-c",
            "verdict_candidates:reversed",
            "-c",
            "verdict_candidates:crashes",
            "-c",
            "reference",
        ],
        stdout=out,
        stderr=err,
    )
    assert status == 1, err.getvalue()  # ERROR and XPASS fail the run
    verdicts = {
        (line["candidate"], line["row"]): line["verdict"]
        for path in (tmp_path / "r/raw").glob("*.jsonl")
        for line in map(json.loads, path.read_text().splitlines())
        if line["type"] == "result"
    }
    assert verdicts == {
        ("reversed", "fifo-a-must-row"): "XFAIL",
        ("reversed", "fifo-a-ref-row"): "INFO",
        ("reversed", "fifo-a-window-row"): "UNSUPPORTED",
        ("crashes", "fifo-a-must-row"): "ERROR",
        ("crashes", "fifo-a-ref-row"): "ERROR",
        ("crashes", "fifo-a-window-row"): "ERROR",
        ("reference", "fifo-a-must-row"): "XPASS",
        ("reference", "fifo-a-ref-row"): "PASS",
        ("reference", "fifo-a-window-row"): "PASS",
    }
    page = (tmp_path / "r/index.html").read_text()
    assert "known failure: it reverses the order" in page and "no trace" in page
    skipped = [e.get("message") for e in ET.parse(tmp_path / "r/junit.xml").iter("skipped")]
    assert "XFAIL: it reverses the order" in skipped
    assert any(
        m.startswith("UNSUPPORTED: the candidate cannot express: open_window") for m in skipped
    )
    summary = json.loads((tmp_path / "r/summary.json").read_text())
    reversed_summary = next(
        c for c in summary["candidates"] if c["candidate"]["name"] == "reversed"
    )
    assert "(1 unsupported, not counted)" in reversed_summary["must_compliance"]["arithmetic"]


def test_the_plugin_maps_every_verdict(pytester: pytest.Pytester, setup: tuple[Path, Path]) -> None:
    cases, expectations = setup
    common = [
        str(cases / "fifo.toml"),
        "--idlespec-expectations",
        str(expectations),
        "-p",
        "no:cacheprovider",
        "-rA",
    ]
    result = pytester.runpytest_inprocess("--candidate", "verdict_candidates:reversed", *common)
    result.assert_outcomes(passed=1, xfailed=1, skipped=1)
    result.stdout.fnmatch_lines(["*INFO: remaining: expected 'a' 50, observed 49*"])
    result = pytester.runpytest_inprocess("--candidate", "reference", *common)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*listed as a known failure (stale entry) but it passes*"])
    result = pytester.runpytest_inprocess("--candidate", "verdict_candidates:crashes", *common)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["*ERROR: fifo-a-must-row*", "*RuntimeError: no install for you*"])


def test_a_harness_bug_in_a_row_is_shown_as_a_plain_failure(
    pytester: pytest.Pytester, setup: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from idlespec.conformance import pytest_plugin

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise LookupError("harness bug")

    monkeypatch.setattr(pytest_plugin.CandidateRun, "run", broken)
    cases, _ = setup
    result = pytester.runpytest_inprocess(
        "--candidate", "reference", str(cases / "fifo.toml"), "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["*LookupError: harness bug*"])


def test_small_paths(tmp_path: Path) -> None:
    assert "Every spec requirement" in _uncovered({"requirements": {"uncovered": [], "titles": {}}})
    path = tmp_path / "fifo.toml"
    path.write_text(TABLE.replace("run_until = 500\n", "run_until = 500\n"), encoding="utf-8")
    exported = load_table(path)[0].to_json()
    assert exported["source"] == "spec-digest:T-10" and exported["run_until"] == 500
    path.write_text("title = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'title' was unexpected"):
        load_table(path)
    raw = tmp_path / "x.jsonl"
    raw.write_text(
        json.dumps({"type": "header", "candidate": {"name": "x"}})
        + "\n"
        + json.dumps({"type": "note"})
        + "\n"
    )
    from idlespec.conformance.reports import read_raw

    assert read_raw(raw).results == [] and read_raw(raw).footer is None


def test_the_plugin_takes_a_folder_of_tables(
    pytester: pytest.Pytester, setup: tuple[Path, Path]
) -> None:
    cases, expectations = setup
    plain = pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest_inprocess(
        "--candidate",
        "reference",
        str(cases),
        str(plain),
        "--idlespec-expectations",
        str(expectations),
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=3, failed=1)  # the stale known failure is an XPASS


SHOULD_TABLE = TABLE.replace(
    'level = "must"\narea = "fifo"\ntags = ["ordering"]',
    'level = "should"\narea = "fifo"\ntags = ["ordering"]',
    1,
)


def test_the_plugin_and_the_cli_agree_on_should_rows(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    cases = tmp_path / "should-cases"
    cases.mkdir()
    (cases / "fifo.toml").write_text(SHOULD_TABLE, encoding="utf-8")
    common = [
        "--idlespec-cases",
        str(cases),
        "-p",
        "no:cacheprovider",
        "-rA",
        "-k",
        "fifo-a-must-row",
    ]
    result = pytester.runpytest_inprocess("--candidate", "verdict_candidates:reversed", *common)
    result.assert_outcomes(passed=1)  # NON-STRICT fails nothing without strict, as in the CLI
    result.stdout.fnmatch_lines(["*NON-STRICT: order: expected idle callbacks*"])
    result = pytester.runpytest_inprocess(
        "--candidate", "verdict_candidates:reversed", "--idlespec-strict", *common
    )
    result.assert_outcomes(failed=1)
    argv = [
        "run",
        "--cases",
        str(cases),
        "-c",
        "verdict_candidates:reversed",
        "-k",
        "fifo-a-must-row",
        "--out",
        str(tmp_path / "r"),
        "--progress",
        "never",
    ]
    assert main(argv, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    assert main([*argv, "--strict"], stdout=io.StringIO(), stderr=io.StringIO()) == 1
    summary = (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
    assert "- `fifo-a-must-row` NON-STRICT (should): order: expected idle callbacks" in summary
