"""Runs rows against candidates: budgets, a watchdog, verdicts, results as they arrive."""

from __future__ import annotations

import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from idlespec.reference import GlobalClockFollower, TaskBudgetExceeded, wall_clock

from .candidates import Candidate, HostedCandidate, SelfHostedCandidate
from .expect import check
from .rows import Row
from .scenario import DEFAULT_STEP_BUDGET, run_row
from .trace import Trace
from .verdicts import Outcome, Verdict, apply_known_failures, judge

#: Real seconds a row may take before the watchdog stops a hung candidate.
DEFAULT_WATCHDOG_S = 10.0


class WatchdogTimeout(BaseException):
    """Raised into a hung candidate by the wall-clock watchdog.

    A BaseException, so that a candidate's ``except Exception`` cannot swallow it.
    """


@dataclass
class Result:
    """One row's result for one candidate."""

    row: Row
    candidate: str
    verdict: Verdict
    raw_verdict: Verdict
    outcome: Outcome
    wall_ms: float
    known_failure: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON Lines record for this result."""
        return {
            "type": "result",
            "row": self.row.id,
            "area": self.row.area,
            "level": self.row.level,
            "spec": self.row.spec,
            "candidate": self.candidate,
            "verdict": str(self.verdict),
            "raw_verdict": str(self.raw_verdict),
            "known_failure": self.known_failure,
            "mismatches": self.outcome.mismatches,
            "error": self.outcome.error,
            "timeout": self.outcome.timeout,
            "unsupported": self.outcome.unsupported,
            "trace": self.outcome.trace,
            "wall_ms": round(self.wall_ms, 3),
        }


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Raise :class:`WatchdogTimeout` in this thread after ``seconds`` of real time.

    Uses SIGALRM, so it works in the main thread of a Unix process; elsewhere it does
    nothing (the step budget still stops a candidate that loops through the host).
    """
    if (
        seconds <= 0
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def fire(signum: int, frame: FrameType | None) -> None:
        raise WatchdogTimeout(f"no answer after {seconds:g} s of real time")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_one(
    row: Row,
    candidate: Candidate,
    known: Mapping[str, str] | None = None,
    *,
    watchdog_s: float = DEFAULT_WATCHDOG_S,
    step_budget: int = DEFAULT_STEP_BUDGET,
) -> Result:
    """Run one row; whatever the candidate does, return a result."""
    start = wall_clock()
    outcome = Outcome()
    unsupported = sorted(row.actions & getattr(candidate, "unsupported_actions", frozenset()))
    if unsupported:
        outcome.unsupported = f"the candidate cannot express: {', '.join(unsupported)}"
    else:
        try:
            with watchdog(watchdog_s):
                trace = _trace(row, candidate, step_budget)
        except WatchdogTimeout as stop:
            outcome.timeout = str(stop)
        except TaskBudgetExceeded:
            outcome.timeout = f"step budget: more than {step_budget} tasks"
        except Exception as error:
            outcome.error = "".join(traceback.format_exception_only(type(error), error)).strip()
        else:
            outcome.trace = trace.to_json()
            outcome.mismatches = check(row.expect, trace, row.tolerance)
    raw = judge(row, outcome)
    known = known or {}
    verdict = apply_known_failures(raw, row.id, known)
    wall_ms = (wall_clock() - start) * 1000
    return Result(row, candidate.name, verdict, raw, outcome, wall_ms, known.get(row.id))


def _trace(row: Row, candidate: Candidate, step_budget: int) -> Trace:
    if isinstance(candidate, SelfHostedCandidate) and candidate.kind == "self-hosted":
        return candidate.run_row(row)
    assert isinstance(candidate, HostedCandidate)
    return run_row(row, candidate, step_budget)


def run_rows(
    rows: Iterable[Row],
    candidate: Candidate,
    known: Mapping[str, str] | None = None,
    *,
    on_result: Callable[[Result], None] | None = None,
    watchdog_s: float = DEFAULT_WATCHDOG_S,
) -> list[Result]:
    """Run ``rows`` against ``candidate`` under one freezegun follower; results in order."""
    results = []
    with GlobalClockFollower():
        for row in rows:
            result = run_one(row, candidate, known, watchdog_s=watchdog_s)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results
