"""The killing test of the mutation run: does a must or should row notice the mutant?

    python mutation/kill.py ROWS.pickle [WATCHDOG_S]

Runs, on the (mutated) reference: every must and should row under the reference's default
policy, then every must row under each conforming alternative policy
(:data:`idlespec.conformance.levels.CONFORMING_ALTERNATIVES`), since a must row holds for
every conforming user agent. Stops at the first row that fails and exits 1 (killed), after
printing which row under which policy; exits 0 (survived) when every row passes. Ref rows
never count: a mutant that changes only the reference's own choices is not a bug. A mutant
that makes the reference raise, or hang past the watchdog, is killed too. The watchdog counts
this process's CPU time (default 20 s; the whole plan takes about 2 s on the unmutated
reference), not real time, so a busy machine cannot make a slow survivor look hung.

The rows come pickled by ``mutation/run.py``: the tables are not mutated, so validating
them once per run, not once per mutant, saves half of each test.
"""

from __future__ import annotations

import pickle
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType


class Hung(BaseException):
    """The mutant used up the CPU-time watchdog: a BaseException, so no handler swallows it."""


@contextmanager
def cpu_watchdog(seconds: float) -> Iterator[None]:
    """Raise :class:`Hung` once this process has used ``seconds`` of CPU time in the block."""

    def fire(signum: int, frame: FrameType | None) -> None:
        raise Hung(f"hung: more than {seconds:g} s of CPU time")

    previous = signal.signal(signal.SIGVTALRM, fire)
    # Fires again every second until the block ends, in case a handler swallowed it.
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)


def main(argv: list[str]) -> int:
    """Judge the mutant; the exit status is the verdict."""
    try:
        from idlespec.conformance.levels import (  # noqa: PLC0415
            CONFORMING_ALTERNATIVES,
            failures,
        )
        from idlespec.reference import GlobalClockFollower, Policy  # noqa: PLC0415

        rows = pickle.loads(Path(argv[1]).read_bytes())
        plan = [("the defaults", Policy(), [r for r in rows if r.level in ("must", "should")])]
        must = [r for r in rows if r.level == "must"]
        plan += [(name, policy, must) for name, policy in CONFORMING_ALTERNATIVES.items()]
        seconds = float(argv[2]) if len(argv) > 2 else 20.0
        with cpu_watchdog(seconds), GlobalClockFollower():
            for name, policy, chosen in plan:
                for row_id, problem in failures(chosen, policy):
                    print(f"killed by {row_id} under {name}: {problem}")
                    return 1
    except BaseException as error:  # the mutant broke the reference itself: killed
        print(f"killed: the reference raised {type(error).__name__}: {error}")
        return 1
    print("survived")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
