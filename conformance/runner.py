"""Runs rows against candidates: budgets, a watchdog, verdicts, results as they arrive."""

from __future__ import annotations

import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any

from idlespec.reference import GlobalClockFollower, TaskBudgetExceeded, wall_clock

from .api import Candidate, CandidateCrashed, CandidateUnavailable
from .candidates import ReferenceCandidate
from .connectors import connector_for
from .expect import check
from .rows import Row
from .scenario import (
    DEFAULT_STEP_BUDGET,
    STEP_FLOOR,
    STEP_SCALE,
    reference_tasks,
    scaled_step_budget,
)
from .verdicts import Outcome, Verdict, apply_known_failures, judge

#: Real seconds a row may take before the watchdog stops a hung candidate.
DEFAULT_WATCHDOG_S = 10.0
#: Once the watchdog is due, it fires again this often until the hung row has stopped.
WATCHDOG_REPEAT_S = 0.05
#: A candidate that hangs (TIMEOUT) on this many rows in a row is not run on the rest: each
#: remaining row is ERROR with that reason, so a hostile candidate's run stays bounded.
MAX_HANGS_IN_A_ROW = 3


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
            "row_revision": self.row.revision,
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
            "repetitions": self.outcome.repetitions,
            "repetition_traces": self.outcome.repetition_traces,
            "trace": self.outcome.trace,
            "wall_ms": round(self.wall_ms, 3),
        }


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Raise :class:`WatchdogTimeout` in this thread after ``seconds`` of real time.

    Uses SIGALRM, so it works in the main thread of a Unix process; elsewhere it does
    nothing (the step budget still stops a candidate that loops through the host). Once
    due, it fires again every :data:`WATCHDOG_REPEAT_S` until the block ends: an exception
    raised where Python swallows it (a garbage-collector callback, a ``__del__``, a
    candidate's ``except BaseException``) must not let a hung row run on.
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
    signal.setitimer(signal.ITIMER_REAL, seconds, WATCHDOG_REPEAT_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class CandidateRun:
    """One candidate, open for a run of rows.

    Entering opens the candidate (its connector's ``open``) and, for a candidate that runs
    as Python in this process and may read the global clocks, starts the global-clock freeze
    once for the whole run;
    leaving stops both. :meth:`run` runs one row, whatever the candidate does: a crash is
    ERROR, a hang TIMEOUT, and after either the candidate is restarted before the next row.
    """

    def __init__(
        self,
        candidate: Candidate,
        known: Mapping[str, str] | None = None,
        *,
        watchdog_s: float = DEFAULT_WATCHDOG_S,
        step_budget: int | None = None,
    ) -> None:
        self.candidate = candidate
        self.connector = connector_for(candidate)
        self.known = dict(known or {})
        self.watchdog_s = watchdog_s
        self.step_budget = step_budget
        #: Why the candidate cannot run here (``open`` raised CandidateUnavailable), or None.
        self.unavailable: str | None = None
        #: Why the rest of the run is not run (it hung on too many rows in a row), or None.
        self.given_up: str | None = None
        #: Whether the user pressed Ctrl-C (not the candidate raising KeyboardInterrupt).
        self.interrupted = False
        self._hangs: list[str] = []
        self._follower: GlobalClockFollower | None = None
        self._previous_sigint: Any = None

    def __enter__(self) -> CandidateRun:
        if threading.current_thread() is threading.main_thread():
            self._previous_sigint = signal.signal(signal.SIGINT, self._sigint)
        try:
            self.connector.open()
        except CandidateUnavailable as why:
            self.unavailable = str(why) or "the candidate is not available here"
        if self.connector.freezes_global_clocks:
            self._follower = GlobalClockFollower().__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._follower is not None:
            self._follower.__exit__(None, None, None)
            self._follower = None
        if self._previous_sigint is not None:
            signal.signal(signal.SIGINT, self._previous_sigint)
            self._previous_sigint = None
        if self.unavailable is None:
            self.connector.close()

    def _sigint(self, signum: int, frame: FrameType | None) -> None:
        """The user's Ctrl-C: noted, so it is told apart from a candidate's KeyboardInterrupt."""
        self.interrupted = True
        raise KeyboardInterrupt

    def run(self, row: Row) -> Result:
        """Run one row; whatever the candidate does, return a result."""
        start = wall_clock()
        outcome = Outcome()
        unsupported = self.unavailable or self.connector.unsupported(row)
        if unsupported:
            outcome.unsupported = unsupported
            raw = judge(row, outcome)
        elif self.given_up:
            outcome.error = self.given_up
            raw = judge(row, outcome)
        else:
            outcome, raw = self._repeated(row)
            self._note_hang(row, outcome)
        verdict = apply_known_failures(raw, row.id, self.known)
        wall_ms = (wall_clock() - start) * 1000
        return Result(
            row, self.candidate.name, verdict, raw, outcome, wall_ms, self.known.get(row.id)
        )

    def _note_hang(self, row: Row, outcome: Outcome) -> None:
        self._hangs = [*self._hangs, row.id] if outcome.timeout is not None else []
        if len(self._hangs) >= MAX_HANGS_IN_A_ROW:
            self.given_up = (
                f"not run: the candidate hung on {len(self._hangs)} rows in a row "
                f"({', '.join(self._hangs)}; the last: {outcome.timeout})"
            )

    def _repeated(self, row: Row) -> tuple[Outcome, Verdict]:
        """Run the row as often as the candidate asks (live engines: 3); FLAKY if they differ."""
        repetitions = max(1, int(getattr(self.candidate, "repetitions", 1)))
        runs = []
        for _ in range(repetitions):
            outcome = Outcome()
            self._attempt(row, outcome)
            runs.append((outcome, judge(row, outcome)))
        outcome, raw = runs[0]
        if repetitions > 1:
            outcome.repetitions = [f"{v}: {_first_problem(o)}" for o, v in runs]
            if len({v for _, v in runs}) > 1:
                raw = Verdict.FLAKY
                # Every repetition's evidence, so the one that differed can be read.
                outcome.repetition_traces = [o.trace for o, _ in runs]
        return outcome, raw

    @property
    def scales_budget(self) -> bool:
        """Whether each row's step budget scales with the reference's cost for it.

        So it does for a host-driven candidate when no fixed budget was given: a flood of
        tasks stops as soon as it is one. A candidate with a loop of its own keeps
        DEFAULT_STEP_BUDGET (its tasks are not the host's), and so does the reference: it is
        the measure, and scaling would run each of its rows twice.
        """
        return (
            self.step_budget is None
            and self.connector.host_driven
            and not isinstance(self.candidate, ReferenceCandidate)
        )

    def budget_for(self, row: Row) -> int:
        """The step budget of ``row`` in this run."""
        if self.scales_budget:
            return scaled_step_budget(row)
        return DEFAULT_STEP_BUDGET if self.step_budget is None else self.step_budget

    def _attempt(self, row: Row, outcome: Outcome) -> None:
        connector = self.connector
        budget = self.budget_for(row)
        try:
            try:
                with watchdog(self.watchdog_s):
                    trace = connector.trace(row, budget)
            finally:
                connector.reset()
        except WatchdogTimeout as stop:
            outcome.timeout = str(stop)
            connector.restart()
        except CandidateCrashed as crash:
            outcome.error = f"the candidate crashed: {crash}"
            connector.restart()
        except TaskBudgetExceeded:
            outcome.timeout = f"step budget: more than {budget} tasks" + (
                f" ({STEP_SCALE} times the reference's {reference_tasks(row)} for this row, "
                f"at least {STEP_FLOOR})"
                if self.scales_budget
                else ""
            )
        except KeyboardInterrupt:
            if self.interrupted:
                raise  # the user's Ctrl-C stops the run
            outcome.error = "the candidate raised KeyboardInterrupt"
            connector.restart()
        except BaseException as error:  # SystemExit, GeneratorExit, ...: the candidate's doing
            outcome.error = "".join(traceback.format_exception_only(type(error), error)).strip()
            if not isinstance(error, Exception):
                outcome.error = f"the candidate raised {outcome.error}"
            connector.restart()
        else:
            outcome.trace = trace.to_json()
            tolerances = getattr(self.candidate, "tolerances", None)
            outcome.mismatches = check(row.expect, trace, row.tolerance, tolerances)


def _first_problem(outcome: Outcome) -> str:
    problems = outcome.mismatches or [
        outcome.error or outcome.timeout or outcome.unsupported or "matches"
    ]
    return problems[0]


def run_one(
    row: Row,
    candidate: Candidate,
    known: Mapping[str, str] | None = None,
    *,
    watchdog_s: float = DEFAULT_WATCHDOG_S,
    step_budget: int | None = None,
) -> Result:
    """Run one row in a run of its own (open, run, close); whatever happens, a result."""
    with CandidateRun(candidate, known, watchdog_s=watchdog_s, step_budget=step_budget) as run:
        return run.run(row)


def run_rows(
    rows: Iterable[Row],
    candidate: Candidate,
    known: Mapping[str, str] | None = None,
    *,
    on_result: Callable[[Result], None] | None = None,
    watchdog_s: float = DEFAULT_WATCHDOG_S,
) -> list[Result]:
    """Run ``rows`` against ``candidate`` in one run; results in order."""
    results = []
    with CandidateRun(candidate, known, watchdog_s=watchdog_s) as run:
        for row in rows:
            result = run.run(row)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results
