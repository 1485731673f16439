"""The CLI, the report writers and the pytest plugin, end to end on a few rows."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from idlespec.conformance import reports
from idlespec.conformance.cli import main
from idlespec.conformance.reports import badge, read_raw

ROW = "fifo-callbacks-run-in-posting-order"
ROW2 = "fifo-post-from-callback-waits-for-later-period"

# A private table, so these tests do not move with the shipped ones.
TABLE = """
[[row]]
id = "fifo-callbacks-run-in-posting-order"
description = "Callbacks posted before an idle period run in the order they were posted."
spec = "#invoke-idle-callbacks-algorithm step 3.1"
level = "must"
area = "fifo"
tags = ["ordering"]
covers = ["R-12", "R-34"]
steps = [{ post = "a" }, { post = "b" }, { post = "c" }, { post = "d" }]
[row.expect]
order = ["a", "b", "c", "d"]

[[row]]
id = "fifo-post-from-callback-waits-for-later-period"
description = "A callback posted from inside an idle callback runs after those already runnable."
spec = "#start-an-idle-period-algorithm steps 2-5"
level = "should"
area = "fifo"
tags = ["ordering", "idle-periods"]
covers = ["R-28", "R-38"]
steps = [{ post = "a", body = [{ post = "c" }] }, { post = "b" }]
[row.expect]
order = ["a", "b", "c"]
time = { c = 50 }
"""


@pytest.fixture(autouse=True)
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cases")
    (folder / "fifo.toml").write_text(TABLE, encoding="utf-8")
    return folder


CASES: list[str] = []


@pytest.fixture(autouse=True)
def _point_cli_at(cases: Path) -> None:
    CASES[:] = ["--cases", str(cases)]


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = list(argv)
    if (
        args
        and args[0] in ("run", "list", "report", "export")
        and not (args[0] == "list" and args[1] == "candidates")
    ):
        args += CASES
    status = main(args, stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_run_writes_every_report(tmp_path: Path) -> None:
    status, out, err = cli(
        "run", "-c", "reference", "-k", "fifo-", "--out", str(tmp_path), "--progress", "always"
    )
    assert status == 0, err
    assert "| reference" in out and "MUST" in out
    assert "[#" in err  # the progress bar
    for name in (
        "summary.json",
        "summary.md",
        "index.html",
        "junit.xml",
        "badges/reference.json",
        "raw/reference.jsonl",
    ):
        assert (tmp_path / name).is_file(), name
    assert not list(tmp_path.glob("raw/*.partial"))
    lines = [json.loads(x) for x in (tmp_path / "raw/reference.jsonl").read_text().splitlines()]
    assert lines[0]["type"] == "header" and lines[0]["candidate"]["name"] == "reference"
    assert lines[-1]["type"] == "footer" and lines[-1]["rows"] == len(lines) - 2
    results = {x["row"]: x for x in lines[1:-1]}
    assert results[ROW]["verdict"] == "PASS"
    assert results[ROW]["trace"]["calls"][0]["label"] == "a"
    summary = json.loads((tmp_path / "summary.json").read_text())
    (cand,) = summary["candidates"]
    assert cand["must_compliance"]["percent"] == 100.0
    assert "must rows pass = 100.0 %" in cand["must_compliance"]["arithmetic"]
    assert set(summary["requirements"]["uncovered"]) < set(summary["requirements"]["titles"])
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    assert suites[0].get("name") == "reference" and suites[0].get("failures") == "0"
    assert json.loads((tmp_path / "badges/reference.json").read_text())["message"] == "100%"
    page = (tmp_path / "index.html").read_text()
    assert (
        f"<td class='v PASS' data-c='0'><a href='#row-{ROW}'>PASS</a></td>" in page
        and f"id=cell-reference-{ROW}" not in page  # no evidence where nothing needs explaining
        and "https://w3c.github.io/requestidlecallback/#invoke-idle-callbacks-algorithm" in page
    )


def test_a_broken_candidate_fails_the_run_and_the_reports_show_it(tmp_path: Path) -> None:
    status, out, _ = cli(
        "run",
        "-c",
        "broken_candidates:lifo",
        "-k",
        ROW,
        "--out",
        str(tmp_path),
        "--progress",
        "never",
    )
    assert status == 1
    result = read_raw(tmp_path / "raw/broken-lifo.jsonl").results[0]
    assert result["verdict"] == "FAIL"
    assert "order: expected idle callbacks ['a', 'b', 'c', 'd']" in result["mismatches"][0]
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    assert suites[0].find("testcase/failure") is not None
    assert "0.0 % (0/1)" in out


def test_hostile_candidate_output_is_escaped_in_html(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    record = {
        "type": "result",
        "row": ROW,
        "area": "fifo",
        "level": "must",
        "spec": "#x",
        "candidate": "<b>",
        "verdict": "ERROR",
        "raw_verdict": "ERROR",
        "known_failure": None,
        "mismatches": [],
        "error": "<script>alert(1)</script>",
        "timeout": None,
        "unsupported": None,
        "trace": {
            "calls": [
                {
                    "t": 0,
                    "kind": "idle",
                    "label": "<img src=x>",
                    "window": "main",
                    "did_timeout": None,
                    "remaining": None,
                    "argc": 1,
                }
            ]
        },
        "wall_ms": 1.0,
    }
    header = {
        "type": "header",
        "suite_revision": "x",
        "idlespec_version": "0",
        "candidate": {"name": "evil<i>"},
        "python": "3",
    }
    (raw / "evil.jsonl").write_text(json.dumps(header) + "\n" + json.dumps(record) + "\n")
    status, _, err = cli("report", str(tmp_path), "--out", str(tmp_path / "out"))
    assert status == 0, err
    page = (tmp_path / "out/index.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x>" not in page and "evil<i>" not in page
    assert read_raw(raw / "evil.jsonl").footer is None


def test_report_diff_list_export(tmp_path: Path) -> None:
    cli(
        "run", "-c", "reference", "-k", "fifo-", "--out", str(tmp_path / "a"), "--progress", "never"
    )
    cli("run", "-c", "reference", "-k", ROW2, "--out", str(tmp_path / "b"), "--progress", "never")
    old = tmp_path / "a/raw/reference.jsonl"
    lines = old.read_text().splitlines()
    flipped = [json.loads(x) for x in lines]
    for record in flipped:
        if record.get("row") == ROW2:
            record["verdict"] = "FAIL"
    old.write_text("\n".join(json.dumps(x) for x in flipped) + "\n")
    status, out, _ = cli("diff", str(tmp_path / "a"), str(tmp_path / "b"))
    assert status == 0
    assert re.search(rf"  {ROW2}\tFAIL -> PASS\n", out)
    assert f"  {ROW}\tPASS -> absent" in out
    assert "reference: 2 rows changed; failures 1 -> 0 (-1)" in out
    assert out.endswith("0 regression(s)\n")
    # The other way round, the row newly fails: a regression, exit status 1 (for CI).
    status, out, _ = cli("diff", str(tmp_path / "b"), str(tmp_path / "a"))
    assert status == 1
    assert re.search(rf"  {ROW2}\tPASS -> FAIL  REGRESSION\n", out)
    assert out.splitlines()[1].startswith(f"  {ROW2}"), "failures come first"
    cli(
        "run",
        "-c",
        "settimeout-shim",
        "-k",
        ROW2,
        "--out",
        str(tmp_path / "b"),
        "--progress",
        "never",
    )
    status, out, _ = cli("diff", str(tmp_path / "a"), str(tmp_path / "b"))
    assert f"settimeout-shim: only in {tmp_path / 'b'} (1 rows)" in out
    status, out, _ = cli("report", str(old), "--out", str(tmp_path / "c"))
    assert status == 0 and (tmp_path / "c/index.html").exists()
    assert cli("list", "candidates")[1].startswith("reference\tbuilt in")
    status, out, _ = cli(
        "list", "rows", "--area", "fifo", "--level", "must", "--tag", "ordering", "-k", "ORDER"
    )
    assert ROW in out
    assert "uncovered:" in cli("list", "requirements")[1]
    status, out, _ = cli("export")
    exported = json.loads(out)
    assert [r["id"] for r in exported["rows"]] == [ROW, ROW2]
    assert exported["suite_revision"] == reports.suite_revision(
        sorted(Path(CASES[1]).glob("*.toml"))
    )
    cli("export", "--out", str(tmp_path / "rows.json"))
    assert json.loads((tmp_path / "rows.json").read_text()) == exported


def test_report_from_a_folder_keeps_the_runs_candidate_order(tmp_path: Path) -> None:
    run = tmp_path / "run"
    # settimeout-shim sorts after reference by file name; the run put it first.
    cli(
        "run", "-c", "settimeout-shim", "-c", "reference", "-k", ROW2,
        "--out", str(run), "--progress", "never",
    )  # fmt: skip

    def order(folder: Path) -> list[str]:
        summary = json.loads((folder / "summary.json").read_text())
        return [c["candidate"]["name"] for c in summary["candidates"]]

    assert order(run) == ["settimeout-shim", "reference"]
    cli("report", str(run), "--out", str(tmp_path / "again"))
    assert order(tmp_path / "again") == ["settimeout-shim", "reference"]
    (run / "summary.json").write_text("{not json")  # no readable order: by file name
    cli("report", str(run), "--out", str(tmp_path / "by-name"))
    assert order(tmp_path / "by-name") == ["reference", "settimeout-shim"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "-c", "nobody"], "unknown candidate 'nobody'"),
        (["run", "-k", "no-row-has-this-in-its-id"], "no row matches"),
        (["report", "/nonexistent-dir-xyz"], "No such file"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(tmp_path: Path, argv: list[str], message: str) -> None:
    status, _, err = cli(*argv, "--out", str(tmp_path)) if argv[0] != "report" else cli(*argv)
    assert status == 2
    assert message in err and err.count("\n") == 1


def test_read_raw_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("not json\n")
    with pytest.raises(ValueError, match=r"x.jsonl:1: not a raw results line"):
        read_raw(path)
    path.write_text("\n" + json.dumps({"type": "result"}) + "\n")
    with pytest.raises(ValueError, match="no header"):
        read_raw(path)
    with pytest.raises(ValueError, match="no raw results"):
        main(["report", str(tmp_path / "empty")]) if (tmp_path / "empty").mkdir() else reports
        cli_dir = tmp_path / "empty"
        from idlespec.conformance.cli import _raw_files

        _raw_files([cli_dir])


@pytest.mark.parametrize(
    ("percent", "color"),
    [
        (100.0, "brightgreen"),
        (95.0, "yellow"),
        (75.0, "orange"),
        (10.0, "red"),
        (None, "lightgrey"),
    ],
)
def test_badge_colors(percent: float | None, color: str) -> None:
    assert badge({"must_compliance": {"percent": percent}})["color"] == color


def test_atomic_write_leaves_no_temporary_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(reports.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        reports.atomic_write(tmp_path / "f.txt", "x")
    assert list(tmp_path.iterdir()) == []


def test_pytest_plugin_runs_rows_as_tests(pytester: pytest.Pytester, cases: Path) -> None:
    table = cases / "fifo.toml"
    result = pytester.runpytest(
        "--candidate", "reference", str(table), "-p", "no:cacheprovider", "-v"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*{ROW} PASSED*"])


def test_pytest_plugin_collects_the_shipped_tables_by_default(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--candidate", "reference", "-k", ROW, "-p", "no:cacheprovider", "-v"
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and "failed" not in outcomes
    result.stdout.fnmatch_lines([f"*fifo.toml::{ROW} PASSED*"])
    result.stdout.fnmatch_lines([f"*{ROW} PASSED*"])


def test_pytest_plugin_explains_a_failure(pytester: pytest.Pytester, cases: Path) -> None:
    table = str(cases / "fifo.toml")
    result = pytester.runpytest(
        "--candidate",
        "broken_candidates:lifo",
        "--candidate",
        "reference",
        table,
        "-k",
        "posting-order",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*FAIL: {ROW} (must, fifo) against broken-lifo*",
            "*spec: #invoke-idle-callbacks-algorithm step 3.1 <https://w3c.github.io/requestidlecallback/#invoke-idle-callbacks-algorithm>*",
            "*order: expected idle callbacks*",
            "expected:*",
            "observed calls*",
        ]
    )


def test_pytest_plugin_stays_out_of_the_way_without_candidate(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok():\n    assert True\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
