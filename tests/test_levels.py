"""Levels are honest: a must row holds for every conforming choice the spec leaves open.

The reference run with another Policy is still a conforming user agent, so every must row
has to pass on it; a row that depends on the reference's own choice belongs at ref or
should (README.md, "Policies"; conformance/cases/README.md, "Suite assumptions").
"""

from __future__ import annotations

import pytest

from idlespec.conformance.candidates import ReferenceCandidate
from idlespec.conformance.expect import check
from idlespec.conformance.rows import load_rows
from idlespec.conformance.scenario import Interpreter
from idlespec.reference import GlobalClockFollower, Policy

ALTERNATIVES = {
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


@pytest.mark.parametrize("policy", ALTERNATIVES.values(), ids=ALTERNATIVES.keys())
def test_every_must_row_holds_under_every_conforming_policy(policy: Policy) -> None:
    failing = []
    with GlobalClockFollower():
        for row in load_rows():
            # Binding rows ask a JS realm about its binding: no policy bears on them, and the
            # reference, a Python host, cannot answer them (UNSUPPORTED).
            if row.level != "must" or "binding" in row.actions:
                continue
            trace = Interpreter(row, ReferenceCandidate().install, policy).run()
            problems = check(row.expect, trace, row.tolerance)
            if problems:
                failing.append((row.id, problems[0]))
    assert failing == []
