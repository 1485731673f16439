"""The suite is itself tested (README.md, "Layout"): every broken candidate fails the rows its
bug should fail, and the reference passes every row of every level."""

from __future__ import annotations

import pytest
from broken_candidates import BROKEN

from idlespec.conformance.candidates import ReferenceCandidate
from idlespec.conformance.rows import load_rows
from idlespec.conformance.runner import run_rows
from idlespec.conformance.verdicts import Verdict, load_known_failures

EXPECTED_FAILURES = {
    "broken-lifo": {"fifo-callbacks-run-in-posting-order"},
    "broken-cap60": {"deadlines-quiet-loop-at-most-50"},
    "broken-cancel-pending-only": {
        "cancellation-runnable-from-earlier-callback",
        "timeouts-cancel-runnable-before-timeout",
    },
    "broken-ignores-timeout": {
        "idl-timeout-number-50-converts-to-50",
        "timeouts-busy-loop-runs-after-timeout",
    },
    "broken-never-timed-out": {
        "timeouts-busy-loop-runs-after-timeout",
        "timeouts-finds-callback-left-runnable",
    },
    "broken-stops-after-exception": {
        "exceptions-idle-callback-throw-is-reported-and-next-still-runs"
    },
    "broken-always-timed-out": {"idl-options-nullish-means-no-timeout"},
    "broken-negative-remaining": {
        "deadlines-quiet-loop-at-most-50",
        "idle-periods-expired-before-first-invoke",
    },
    "broken-fifty-from-request": {
        "deadlines-pending-timer-caps",
        "deadlines-exhausted-period-defers-next-callback",
    },
    "broken-accepts-any-callback": {
        "idl-callback-nullish-throws-typeerror",
        "idl-callback-primitive-throws-typeerror",
    },
    "broken-cancel-noop": {
        "idl-cancel-string-1-cancels-handle-1",
        "idl-handles-not-reused-after-cancel",
    },
    "broken-handles-from-zero": {
        "idl-handle-first-call-returns-one",
        "idl-handles-count-up-consecutively",
    },
    "broken-timeout-doubled": {"idl-timeout-string-50-converts-to-50"},
    "broken-runs-synchronously": {"fifo-post-from-callback-waits-for-later-period"},
    "broken-one-shared-deadline": {"timeouts-timed-out-callback-not-rerun-in-next-period"},
    "broken-microtasks-after-the-period": {
        "event-loop-callback-microtasks-run-before-next-callback",
        "cancellation-from-microtask-before-next-callback",
    },
    "broken-reports-nothing": {"exceptions-idle-callback-throw-is-reported-and-next-still-runs"},
    "broken-zero-timeout-fires": {
        "idl-timeout-nan-arms-no-timeout",
        "idl-timeout-zero-arms-no-timeout",
    },
    "broken-joins-the-running-period": {"idle-periods-post-from-callback-not-run-while-busy"},
    "broken-rejects-null-options": {"idl-options-nullish-means-no-timeout"},
}


def test_the_zoo_has_twenty_candidates_each_with_its_rows() -> None:
    assert len(BROKEN) >= 20
    assert {c.name for c in BROKEN} == set(EXPECTED_FAILURES)


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return load_rows()


def test_the_reference_passes_every_row(rows) -> None:  # type: ignore[no-untyped-def]
    results = run_rows(rows, ReferenceCandidate())
    # Binding rows ask a JS realm about its binding; the reference is a Python host.
    assert {r.verdict for r in results if r.row.area == "binding"} == {Verdict.UNSUPPORTED}
    failing = [
        (r.row.id, str(r.verdict), r.outcome.mismatches)
        for r in results
        if r.verdict is not Verdict.PASS and r.row.area != "binding"
    ]
    assert failing == []
    assert load_known_failures("reference", {r.id: r for r in rows}) == {}


@pytest.mark.parametrize("candidate", BROKEN, ids=lambda c: c.name)
def test_each_broken_candidate_fails_the_rows_its_bug_breaks(rows, candidate) -> None:  # type: ignore[no-untyped-def]
    results = run_rows(rows, candidate)
    failed = {r.row.id for r in results if r.raw_verdict is Verdict.FAIL}
    assert EXPECTED_FAILURES[candidate.name] <= failed
    assert all(r.raw_verdict not in (Verdict.ERROR, Verdict.TIMEOUT) for r in results)
