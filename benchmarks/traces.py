"""Every row's trace on the reference, for checking that a speed-up changed no behaviour.

    python benchmarks/traces.py BEFORE.txt     # on the commit before the change
    python benchmarks/traces.py AFTER.txt      # after it
    cmp BEFORE.txt AFTER.txt                   # must print nothing

One line per (plan, row): the row's full trace, or what it raised. The plans are the
reference under its default policy and under every conforming alternative
(``conformance/levels.py``), and the two Python shims, which run on the reference's host.
That is more than the verdicts show: a change that kept every verdict but moved a callback
by a microsecond, or reordered two timers, changes a line here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from idlespec.conformance.candidates import ReferenceCandidate, resolve_candidate
from idlespec.conformance.connectors import connector_for
from idlespec.conformance.levels import CONFORMING_ALTERNATIVES
from idlespec.conformance.rows import Row, load_rows
from idlespec.conformance.scenario import Interpreter
from idlespec.conformance.trace import Trace
from idlespec.reference import GlobalClockFollower, Policy


def _line(plan: str, row: Row, trace: Callable[[Row], Trace]) -> str:
    try:
        return f"{plan} {row.id} {trace(row)!r}"
    except Exception as error:  # a raise is recorded, as the row's outcome
        return f"{plan} {row.id} RAISED {type(error).__name__}: {error}"


def lines() -> list[str]:
    """One line per plan and row, in a fixed order."""
    rows = load_rows()
    plans: list[tuple[str, Callable[[Row], Trace]]] = [
        (
            name,
            lambda row, policy=policy: Interpreter(row, ReferenceCandidate().install, policy).run(),
        )
        for name, policy in [("defaults", Policy()), *CONFORMING_ALTERNATIVES.items()]
    ]
    plans += [
        (spec, connector_for(resolve_candidate(spec)).trace)
        for spec in ("polyfill", "settimeout-shim")
    ]
    with GlobalClockFollower():
        return [_line(name, row, trace) for name, trace in plans for row in rows]


def main(argv: list[str]) -> int:
    """Write the lines to the file named by the one argument."""
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    written = lines()
    Path(argv[1]).write_text("\n".join(written) + "\n", encoding="utf-8")
    print(f"{len(written)} traces written to {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
