"""Which runs freeze Python's global clocks: in-process candidates that may read them only."""

from __future__ import annotations

import time
from typing import Any

import pytest

from idlespec.conformance.candidates import ReferenceCandidate, resolve_candidate
from idlespec.conformance.rows import load_rows
from idlespec.conformance.runner import CandidateRun
from idlespec.conformance.verdicts import Verdict
from idlespec.reference import Window, active_follower

_GLOBAL_CLOCKS = ("time", "monotonic", "perf_counter", "time_ns", "monotonic_ns", "perf_counter_ns")


def test_the_reference_runs_every_row_without_reading_a_global_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What lets its runs skip the freeze: with every global clock made to raise, every row
    # still passes (the runner measures real time through wall_clock, bound before this).
    rows = load_rows()
    with CandidateRun(ReferenceCandidate()) as run:
        assert active_follower() is None
        for name in _GLOBAL_CLOCKS:

            def read(*args: Any, _name: str = name) -> Any:
                raise AssertionError(f"the reference read time.{_name}()")

            monkeypatch.setattr(time, name, read)
        results = [run.run(row) for row in rows]
        monkeypatch.undo()
    assert {r.verdict for r in results} <= {Verdict.PASS, Verdict.UNSUPPORTED}
    assert sum(r.verdict is Verdict.PASS for r in results) >= 250


def test_an_in_process_candidate_that_may_read_them_runs_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[float] = []
    candidate = resolve_candidate("polyfill")
    install = candidate.install

    def spying(window: Window) -> Any:
        assert active_follower() is not None
        seen.append(time.monotonic())
        return install(window)

    # The shim's candidate is one shared object: the spy goes when the test ends.
    monkeypatch.setattr(candidate, "install", spying)
    rows = [row for row in load_rows() if row.id == "idl-handle-first-call-returns-one"]
    with CandidateRun(candidate) as run:
        assert run.run(rows[0]).verdict is Verdict.PASS
    assert active_follower() is None
    # Virtual time 0 reads as freeze.EPOCH on the frozen clocks, far from the real monotonic.
    assert seen and seen[0] != pytest.approx(time.monotonic(), abs=3600)
