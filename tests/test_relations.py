"""Every field a trace records is assertable: relations, windows, reports, quiescence."""

from __future__ import annotations

from pathlib import Path

import pytest

from idlespec.conformance.expect import LIVE_TOLERANCES, check
from idlespec.conformance.rows import TableError, load_table
from idlespec.conformance.trace import Call, Reported, Sample, Trace

TOL = 0.001


def _trace() -> Trace:
    return Trace(
        calls=[
            Call("idle", "a", "main", 0.0, 1, did_timeout=False, remaining=50.0, argc=1),
            Call("idle", "a", "w2", 60.0, 2, did_timeout=False, remaining=40.0, argc=1),
        ],
        samples=[
            Sample("a", "before", 1, 5.0, 45.0, False),
            Sample("a", "after", 1, 5.0, 11.7, False),
        ],
        reported=[Reported("w2", "Error", "boom"), Reported("main", "Error", "bang")],
        quiescent=False,
    )


@pytest.mark.parametrize(
    ("expect", "problem"),
    [
        ({"remaining_le": {"a.after": "a.before"}}, None),
        (
            {"remaining_le": {"a.before": "a.after"}},
            "expected 'a.before' (45) to be at most 'a.after'",
        ),
        ({"remaining_le": {"a@2": "a@1"}}, None),
        ({"remaining_le": {"a.none": "a.before"}}, "no sample 'a.none' was taken"),
        ({"remaining_le": {"b": "a"}}, "'b' never ran"),
        ({"period_end_ge": {"a@2": "a@1"}}, None),
        (
            {"period_end_ge": {"a@1": "a@2"}},
            "expected 'a@1' (50) to end no earlier than 'a@2' (100)",
        ),
        ({"period_end_ge": {"a.after": "a.before"}}, "'a.after' (16.7) to end no earlier than"),
        ({"window": {"a@1": "main", "a@2": "w2"}}, None),
        ({"window": {"a": "main"}}, "expected 'a' to run in 'main', observed ['main', 'w2']"),
        ({"window": {"b": "main"}}, "observed no run"),
        ({"reported_windows": ["w2", "main"]}, None),
        ({"reported_windows": ["main", "w2"]}, "observed ['w2', 'main']"),
        ({"quiescent": False}, None),
        ({"quiescent": True}, "was still busy when the run stopped"),
    ],
)
def test_each_new_predicate_passes_and_fails(
    expect: dict[str, object], problem: str | None
) -> None:
    problems = check(expect, _trace(), TOL)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems


def test_relations_take_the_live_tolerance_of_their_kind() -> None:
    trace = _trace()
    trace.samples[1].remaining = 45.5  # 0.5 ms above "before": noise in real time
    expect = {"remaining_le": {"a.after": "a.before"}}
    assert check(expect, trace, TOL)
    assert check(expect, trace, TOL, LIVE_TOLERANCES) == []


def _table(tmp_path: Path, expect: str) -> Path:
    table = tmp_path / "deadlines.toml"
    table.write_text(
        '[[row]]\nid = "deadlines-x"\ndescription = "A row whose expectation has a mistake."\n'
        'spec = "#dom-idledeadline-timeremaining"\nlevel = "must"\narea = "deadlines"\n'
        'tags = ["deadline"]\ncovers = ["R-51"]\n'
        'steps = [{ post = "a", body = [{ sample = "before" }, { sample = "after" }] }]\n'
        f"[row.expect]\n{expect}\n"
    )
    return table


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ('remaining_le = { "a.after" = "b.before" }', "'b.before' names no label of this row"),
        ('window = { a = "w9" }', "window 'w9' is never opened"),
        ('reported_windows = ["w9"]', "window 'w9' is never opened"),
        ('period_end_ge = { "a.after" = "a" }\ncount = { a = 1 }', None),
    ],
)
def test_the_loader_checks_both_sides_and_window_names(
    tmp_path: Path, expect: str, message: str | None
) -> None:
    if message is None:
        (row,) = load_table(_table(tmp_path, expect))
        assert row.expect["period_end_ge"] == {"a.after": "a"}
        return
    with pytest.raises(TableError) as caught:
        load_table(_table(tmp_path, expect))
    assert message in str(caught.value) and "deadlines-x" in str(caught.value)
