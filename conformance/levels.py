"""Levels are honest: a must row holds for every conforming choice the spec leaves open.

The reference run with another :class:`~idlespec.reference.Policy` is still a conforming
user agent, so every must row has to pass on it; a row that depends on the reference's own
choice belongs at ref or should (README.md, "Policies"; conformance/cases/README.md, "Suite
assumptions"). ``tests/test_levels.py`` checks the rows against these policies, and the
mutation run (``mutation/kill.py``) uses the same check to judge a mutated reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from idlespec.reference import Policy

from .candidates import ReferenceCandidate
from .expect import check
from .rows import Row
from .scenario import Interpreter

__all__ = ["CONFORMING_ALTERNATIVES", "failures", "judged_on_the_reference"]

#: Conforming user agents other than the reference's defaults, one freedom (F-xx) or a
#: supported host variation each, and one with most of them at once.
CONFORMING_ALTERNATIVES: dict[str, Policy] = {
    "no-gate": Policy(gate_on_previous_deadline=False),
    "one-callback-per-period": Policy(max_callbacks_per_period=1),
    "round-robin": Policy(task_selection="round-robin"),
    "reverse-ties": Policy(equal_timeout_expiry_order="reverse-posting"),
    "coarsened": Policy(coarsening_ms=0.1),
    "literal-empty-periods": Policy(skip_empty_idle_periods=False),
    "padding-99ms": Policy(timeout_padding_ms=99),
    "24hz": Policy(refresh_rate=24),
    "30hz": Policy(refresh_rate=30),
    "144hz": Policy(refresh_rate=144),
    "renders-always-pending": Policy(pending_rendering_updates="always"),
    "renders-always-pending-144hz": Policy(pending_rendering_updates="always", refresh_rate=144),
    "timers-late-19ms": Policy(timer_delay_ms=19),
    "all-at-once": Policy(
        gate_on_previous_deadline=False,
        max_callbacks_per_period=2,
        task_selection="round-robin",
        equal_timeout_expiry_order="reverse-posting",
        coarsening_ms=0.1,
        timeout_padding_ms=50,
        pending_rendering_updates="always",
        timer_delay_ms=3,
    ),
}


def judged_on_the_reference(row: Row) -> bool:
    """Whether the reference answers ``row``: binding rows ask a JS realm, not a Python host."""
    return "binding" not in row.actions


def failures(rows: Iterable[Row], policy: Policy) -> Iterator[tuple[str, str]]:
    """The rows that fail on the reference under ``policy``, lazily: (row id, first problem).

    The caller picks the rows (must rows for an alternative policy; must and should rows for
    the defaults, which the reference passes by construction).
    """
    for row in rows:
        if not judged_on_the_reference(row):
            continue
        trace = Interpreter(row, ReferenceCandidate().install, policy).run()
        problems = check(row.expect, trace, row.tolerance)
        if problems:
            yield row.id, problems[0]
