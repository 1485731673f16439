"""The committed report in reports/ is the default run of the current suite.

If this fails, rows, candidates or expectation files changed without regenerating the
snapshot: run `bash .ci/test -e report` (or `python3 -m idlespec run`) and commit reports/.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from idlespec.conformance.api import expectations_name, file_stem
from idlespec.conformance.candidates import builtin_candidates
from idlespec.conformance.reports import suite_revision
from idlespec.conformance.rows import load_rows, rows_by_id
from idlespec.conformance.runner import run_rows
from idlespec.conformance.verdicts import FAILING, load_known_failures

REPORTS = Path(__file__).resolve().parents[1] / "reports"


def test_committed_report_matches_a_fresh_default_run() -> None:
    summary = json.loads((REPORTS / "summary.json").read_text(encoding="utf-8"))
    assert summary["suite_revision"] == suite_revision()
    committed = {c["candidate"]["name"]: c for c in summary["candidates"]}
    assert set(committed) == set(builtin_candidates())
    rows = load_rows()
    index = rows_by_id(rows)
    for name, factory in builtin_candidates().items():
        candidate = factory()
        # JS candidates run in Node, whatever the Python: check them in one env (the newest);
        # tox's conformance-js env runs every one of them in full as well.
        if not getattr(candidate, "in_process", True) and sys.version_info < (3, 13):
            continue
        results = run_rows(
            rows, candidate, load_known_failures(expectations_name(candidate), index)
        )
        counts = Counter(str(r.verdict) for r in results)
        assert {k: v for k, v in committed[name]["counts"].items() if v} == dict(counts), name
        assert not [r.row.id for r in results if r.verdict in FAILING], name
    for name in committed:
        assert (REPORTS / "raw" / f"{file_stem(name)}.jsonl").is_file()
        assert (REPORTS / "badges" / f"{file_stem(name)}.json").is_file()
    for page in ("index.html", "summary.md", "junit.xml"):
        assert (REPORTS / page).is_file()
