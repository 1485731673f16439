"""Levels are honest: a must row holds for every conforming choice the spec leaves open.

The reference run with another Policy is still a conforming user agent, so every must row
has to pass on it; a row that depends on the reference's own choice belongs at ref or
should (README.md, "Policies"; conformance/cases/README.md, "Suite assumptions").
"""

from __future__ import annotations

import pytest

from idlespec.conformance.levels import CONFORMING_ALTERNATIVES, failures
from idlespec.conformance.rows import load_rows
from idlespec.reference import GlobalClockFollower, Policy


@pytest.mark.parametrize(
    "policy", CONFORMING_ALTERNATIVES.values(), ids=CONFORMING_ALTERNATIVES.keys()
)
def test_every_must_row_holds_under_every_conforming_policy(policy: Policy) -> None:
    must = [row for row in load_rows() if row.level == "must"]
    with GlobalClockFollower():
        assert list(failures(must, policy)) == []


def test_the_defaults_pass_every_must_and_should_row() -> None:
    judged = [row for row in load_rows() if row.level in ("must", "should")]
    with GlobalClockFollower():
        assert list(failures(judged, Policy())) == []
