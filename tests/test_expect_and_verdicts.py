"""Predicates over traces, verdicts, known-failure files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from idlespec.conformance.expect import check
from idlespec.conformance.rows import Row, TableError
from idlespec.conformance.trace import Call, Reported, Sample, Trace
from idlespec.conformance.verdicts import (
    Outcome,
    Verdict,
    apply_known_failures,
    judge,
    load_known_failures,
)


def trace() -> Trace:
    return Trace(
        calls=[
            Call("task", "k", "main", 0.0, 1),
            Call("idle", "a", "main", 0.0, 1, did_timeout=False, remaining=50.0, argc=1),
            Call("idle", "b", "main", 10.0, 1, did_timeout=True, remaining=0.0, argc=1),
            Call("idle", "a", "main", 50.0, 2, did_timeout=False, remaining=None, argc=2),
        ],
        samples=[Sample("a", "s", 1, 5.0, 45.0, False), Sample("a", "s", 2, 55.0, 45.0, False)],
        handles={"a": [1, 3], "b": [2], "x": [True]},
        sync_errors={"a": "none", "bad": "TypeError"},
        reported=[Reported("main", "ValueError", "boom")],
        final_time=100.0,
    )


@pytest.mark.parametrize(
    ("expect", "problem"),
    [
        ({"order": ["a", "b", "a"]}, None),
        ({"order": ["a", "b"]}, "order: expected idle callbacks ['a', 'b']"),
        ({"sequence": ["k", "a", "b"]}, None),
        ({"sequence": ["b", "a"]}, "sequence: expected first runs in order ['b', 'a']"),
        ({"sequence": ["a", "zz"]}, "sequence: 'zz' never ran"),
        ({"invoked": ["a", "b"], "not_invoked": ["zz"], "invoked_once": ["b"]}, None),
        ({"invoked_once": ["a"]}, "invoked_once: 'a' ran 2 time(s)"),
        ({"not_invoked": ["b"]}, "not_invoked: 'b' ran 1 time(s)"),
        ({"count": {"a": 2}}, None),
        ({"count": {"a": 1}}, "count: expected 'a' to run 1 time(s), it ran 2"),
        ({"did_timeout": {"a": False, "b": True, "a@2": False}}, None),
        ({"did_timeout": {"b": False}}, "did_timeout: expected 'b' to see False, observed [True]"),
        ({"did_timeout": {"zz": False}}, "observed no run"),
        ({"argc": {"a": 1, "a@2": 2}}, None),
        ({"argc": {"a@2": 1}}, "argc: expected 'a@2' to get 1 argument(s), observed 2"),
        ({"argc": {"zz": 1}}, "observed no run"),
        (
            {"time": {"b": 10, "a@2": 50}, "time_min": {"b": 9.9995}, "time_max": {"b": 10.0005}},
            None,
        ),
        ({"time": {"b": 11}}, "time: expected 'b' at 11 ms, observed 10"),
        ({"time_min": {"a@3": 0}}, "time_min: 'a@3' never ran"),
        ({"remaining": {"a": 50, "a.s": 45, "a@2.s": 45}, "remaining_max": {"b": 0}}, None),
        ({"remaining_min": {"b": 1}}, "remaining_min: expected 'b' 1, observed 0"),
        ({"remaining": {"a@2": 50}}, "timeRemaining() gave no number"),
        ({"remaining": {"b.s": 1}}, "no sample 'b.s' was taken"),
        ({"remaining": {"zz": 1}}, "'zz' never ran"),
        ({"handles": {"a": 1, "b": 2}}, None),
        ({"handles": {"a": 3}}, "handles: expected 'a' to get 3, observed 1"),
        ({"handles": {"x": 1}}, "observed True"),
        ({"sync_error": {"a": "none", "bad": "TypeError"}}, None),
        ({"sync_error": {"zz": "none"}}, "observed not called"),
        ({"reported": ["boom"], "reported_count": 1}, None),
        ({"reported": []}, "reported: expected [], observed ['boom']"),
        ({"reported_count": 0}, "reported_count: expected 0, observed 1"),
        ({"final_time": 100}, None),
        ({"final_time": 99}, "final_time: expected 99 ms, observed 100"),
        ({"any_of": [{"order": ["b"]}, {"count": {"a": 2}}]}, None),
        (
            {"any_of": [{"order": ["b"]}, {"count": {"a": 1}}]},
            "none of the acceptable outcomes holds",
        ),
    ],
)
def test_predicates(expect: dict[str, object], problem: str | None) -> None:
    problems = check(expect, trace(), tolerance=0.001)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert problem in problems[0]


def test_trace_round_trips_through_json() -> None:
    original = trace()
    assert Trace.from_json(original.to_json()) == original


def row(level: str = "must", row_id: str = "fifo-x") -> Row:
    return Row(
        id=row_id,
        description="d" * 10,
        spec="#conformance",
        level=level,
        area="fifo",
        tags=(),
        covers=("R-01",),
        steps=(),
        expect={"order": []},
        file="fifo.toml",
    )


@pytest.mark.parametrize(
    ("level", "outcome", "verdict"),
    [
        ("must", Outcome(), Verdict.PASS),
        ("must", Outcome(mismatches=["x"]), Verdict.FAIL),
        ("should", Outcome(mismatches=["x"]), Verdict.NON_STRICT),
        ("ref", Outcome(mismatches=["x"]), Verdict.INFO),
        ("must", Outcome(error="boom"), Verdict.ERROR),
        ("must", Outcome(timeout="hung"), Verdict.TIMEOUT),
        ("must", Outcome(unsupported="no windows", error="x"), Verdict.UNSUPPORTED),
    ],
)
def test_judge(level: str, outcome: Outcome, verdict: Verdict) -> None:
    assert judge(row(level), outcome) is verdict
    assert str(verdict) == verdict.value


def test_known_failures_turn_into_xfail_and_xpass() -> None:
    known = {"fifo-x": "reason"}
    assert apply_known_failures(Verdict.FAIL, "fifo-x", known) is Verdict.XFAIL
    assert apply_known_failures(Verdict.TIMEOUT, "fifo-x", known) is Verdict.XFAIL
    assert apply_known_failures(Verdict.PASS, "fifo-x", known) is Verdict.XPASS
    assert apply_known_failures(Verdict.UNSUPPORTED, "fifo-x", known) is Verdict.UNSUPPORTED
    assert apply_known_failures(Verdict.FAIL, "other", known) is Verdict.FAIL


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[known-failures]\n"fifo-x" = "why"\n', None),
        ('[known-failures]\n"nope" = "why"\n', "no row has this id"),
        ('[known-failures]\n"fifo-ref" = "why"\n', "a ref row is never judged"),
        ('[known-failures]\n"fifo-x" = ""\n', "the reason must be one line"),
        ('[other]\n"fifo-x" = "why"\n', "only [known-failures] is allowed"),
        ("[known-failures\n", "not valid TOML"),
    ],
)
def test_expectation_files_are_validated(tmp_path: Path, text: str, message: str | None) -> None:
    (tmp_path / "cand.toml").write_text(text, encoding="utf-8")
    rows = {"fifo-x": row(), "fifo-ref": row("ref", "fifo-ref")}
    if message is None:
        assert load_known_failures("cand", rows, tmp_path) == {"fifo-x": "why"}
    else:
        with pytest.raises(TableError, match=re.escape(message)):
            load_known_failures("cand", rows, tmp_path)
    assert load_known_failures("absent", rows, tmp_path) == {}
