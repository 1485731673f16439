"""The committed browser results (reports/browsers, reports/browsers-polyfills) are current.

They take real time to make (tox -e browsers-report, tox -e browsers-polyfills), so they are
committed; this checks they were made with the current rows (each result under its row's
current revision: `idlespec run --refresh` reruns only changed rows), every row has a verdict, and a
polyfill's results name the package version pinned in package.json. The engine version is
the one the run read from the browser, shown in the report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idlespec.conformance.reports import read_raw, suite_revision
from idlespec.conformance.rows import load_rows

REPORTS = Path(__file__).resolve().parents[1] / "reports"
PINNED = json.loads((REPORTS.parent / "package.json").read_text(encoding="utf-8"))["dependencies"]
FOLDERS = [f for f in ("browsers", "browsers-polyfills") if (REPORTS / f / "raw").is_dir()]


def test_the_engines_report_is_committed() -> None:
    assert "browsers" in FOLDERS


@pytest.mark.parametrize("folder", FOLDERS)
def test_committed_browser_results_are_for_the_current_rows(folder: str) -> None:
    revisions = {row.id: row.revision for row in load_rows()}
    rows = set(revisions)
    files = sorted((REPORTS / folder / "raw").glob("*.jsonl"))
    assert files
    for path in files:
        run = read_raw(path)
        assert run.footer is not None, f"{path.name}: the run did not finish"
        assert run.header["suite_revision"] == suite_revision(), f"{path.name} is stale: rerun"
        assert {r["row"] for r in run.results} == rows, path.name
        changed = [r["row"] for r in run.results if r.get("row_revision") != revisions[r["row"]]]
        assert not changed, f"{path.name}: rows changed since they ran: {changed[:5]}: refresh"
        provenance = run.header["candidate"]["provenance"]
        for package, version in PINNED.items():
            if f"npm {package}@" in provenance:
                assert f"npm {package}@{version} " in provenance, f"{path.name}: not {version}"


def test_every_bridge_vs_browser_difference_is_explained() -> None:
    from idlespec.conformance.browsers.check import bridge_vs_browser

    committed = (REPORTS / "browsers-polyfills" / "bridge-vs-browser.md").read_text("utf-8")
    assert committed == bridge_vs_browser(REPORTS, REPORTS / "browsers-polyfills"), (
        "stale: python -m idlespec.conformance.browsers.check --bridge-vs-browser reports "
        "reports/browsers-polyfills"
    )
    assert "**unexplained**" not in committed
    # ...and no explanation outlives its difference.
    from idlespec.conformance.browsers.check import explanations

    for polyfill, row in explanations():
        assert (
            f"## {polyfill}\n" in committed
            and f"- `{row}`:" in committed.split(f"## {polyfill}\n", 1)[1].split("\n## ", 1)[0]
        ), f"{polyfill} {row}: explained, but no longer differs"


@pytest.mark.parametrize("folder", ["", *FOLDERS])
def test_committed_summaries_are_what_their_raw_results_give_now(
    folder: str, tmp_path: Path
) -> None:
    """Notes and expectation files change after a run; the summaries must follow them."""
    from idlespec.conformance.cli import main

    where = REPORTS / folder
    # Given the folder, idlespec report keeps the run's order (its summary.json's).
    assert main(["report", "--out", str(tmp_path), str(where)]) in (0, 1)
    for page in ("summary.md", "summary.json"):
        assert (tmp_path / page).read_text("utf-8") == (where / page).read_text("utf-8"), (
            f"reports/{folder}/{page} is stale: idlespec report --out reports/{folder} "
            f"reports/{folder}"
        )
