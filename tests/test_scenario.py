"""The scenario interpreter, candidates and the runner, including candidates that misbehave."""

from __future__ import annotations

import math
import sys
import types
from collections.abc import Mapping
from typing import Any

import pytest

from idlespec.conformance import candidates as cands
from idlespec.conformance.candidates import (
    CandidateError,
    HostWindow,
    ReferenceCandidate,
    available_candidates,
    resolve_candidate,
)
from idlespec.conformance.connectors import is_candidate, run_row
from idlespec.conformance.rows import ACTIONS, Row
from idlespec.conformance.runner import run_one, run_rows, watchdog
from idlespec.conformance.scenario import ScenarioError, decode_js
from idlespec.conformance.trace import Trace
from idlespec.conformance.verdicts import Verdict
from idlespec.reference import UNDEFINED, EventLoop


def make_row(
    steps: list[dict[str, Any]], expect: Mapping[str, Any] | None = None, **extra: Any
) -> Row:
    actions: set[str] = set()

    def walk(items: list[dict[str, Any]]) -> None:
        for step in items:
            actions.update(k for k in step if k in ACTIONS)
            walk(step.get("body", []))

    walk(steps)
    for block in extra.get("later", ()):
        walk(block["steps"])
    return Row(
        id="fifo-test",
        description="a test row here",
        spec="#conformance",
        level=extra.pop("level", "must"),
        area="fifo",
        tags=(),
        covers=("R-01",),
        steps=tuple(steps),
        expect=expect or {"invoked": []},
        file="test",
        actions=frozenset(actions),
        **extra,
    )


REF = ReferenceCandidate()


def test_decode_js_stand_ins() -> None:
    assert decode_js({"js": "undefined"}) is UNDEFINED
    assert decode_js({"js": "null"}) is None
    assert callable(decode_js({"js": "function"}))
    assert decode_js({"timeout": {"js": "null"}, "x": [1, {"js": "undefined"}]}) == {
        "timeout": None,
        "x": [1, UNDEFINED],
    }
    getter = decode_js({"js": "throwing-getter"})
    assert list(getter) == ["timeout"] and len(getter) == 1
    with pytest.raises(ScenarioError):
        getter["timeout"]
    with pytest.raises(ScenarioError):
        float(decode_js({"js": "throwing-valueof"}))
    for name in ("symbol", "bigint"):
        with pytest.raises(TypeError):
            EventLoop().window.request_idle_callback(print, {"timeout": decode_js({"js": name})})


def test_every_action_runs_and_records() -> None:
    row = make_row(
        [
            {"open_window": "w2"},
            {
                "post": "a",
                "options": {"timeout": 500},
                "body": [
                    {"sample": "s"},
                    {"busy": 5},
                    {"sample": "t"},
                    {"repost": "a", "times": 2},
                    {"microtask": "m", "body": [{"task": "k", "source": "other"}]},
                ],
            },
            {"post": "b", "window": "w2"},
            {"post": "gone"},
            {"cancel": "gone", "id": "c1"},
            {"cancel_handle": "99", "id": "c2"},
            {"timer": "t1", "delay": 30, "body": [{"raf": "r", "body": [{"raise": "from raf"}]}]},
            {"timer": "t2", "delay": 40},
            {"clear_timer": "t2"},
            {"raf": "r2"},
            {"cancel_raf": "r2"},
            {"deactivate": "w2"},
            {"chain": "c", "until": 20, "every": 10},
        ],
        later=[
            {"at": 300, "steps": [{"activate": "w2"}]},
            {"at": 10_000_000, "steps": [{"busy": 1}]},
        ],
        run_until=1000,
    )
    trace = run_row(row, REF)
    kinds = [(c.kind, c.label, c.window) for c in trace.calls]
    assert ("idle", "b", "w2") in kinds
    # a runs when the chain ends (20), capped by t1 (30); its repost runs at 30, where the frame
    # r requested by t1 caps it at the next vsync (33.3); the cleared t2 still caps at 40.
    assert [c.t for c in trace.calls if c.label == "a"] == [20.0, 30.0]
    assert [(s.name, s.n, s.remaining) for s in trace.samples] == [
        ("s", 1, 10.0),
        ("t", 1, 5.0),
        ("s", 2, pytest.approx(10 / 3)),
        ("t", 2, 5.0),
    ]
    assert trace.handles == {"a": [1, 3], "b": [1], "gone": [2]}
    assert trace.sync_errors["c1"] == "none" and trace.sync_errors["c2"] == "none"
    assert "gone" not in {c.label for c in trace.calls}
    assert [c.label for c in trace.calls if c.kind in ("chain", "chain-end")] == ["c", "c-end"]
    assert [(r.window, r.message) for r in trace.reported] == [("main", "from raf")]
    assert "t2" not in {c.label for c in trace.calls} and "r2" not in {c.label for c in trace.calls}
    assert trace.calls[[c.label for c in trace.calls].index("b")].t >= 300
    assert (
        trace.final_time == 1000.0 and trace.quiescent is True
    )  # the block at 1e7 lies past run_until
    assert trace.notes == []


def test_budget_note_and_sync_errors() -> None:
    row = make_row(
        [
            {"post": "x", "callback": 5},
            {"post": "y", "options": 7},
            {"post": "z", "options": {"timeout": 10**12}},
        ],
        budget_ms=100.0,
    )
    trace = run_row(row, REF)
    assert trace.sync_errors == {"x": "TypeError", "y": "TypeError", "z": "none"}
    assert trace.handles == {"z": [1]}
    assert trace.notes == ["virtual-time budget of 100 ms reached"]


class Garbage:
    """A userland candidate that hands callbacks strange deadlines."""

    name, version, kind = "garbage", "0", "userland"

    def __init__(self, deadline: Any) -> None:
        self.deadline = deadline

    def install(self, host: HostWindow) -> Any:
        deadline = self.deadline
        count = [0]

        class Binding:
            def request_idle_callback(self, callback: Any, options: Any = None) -> Any:
                host.set_timeout(lambda: callback(deadline), 1)
                count[0] += 1
                return (count[0],)  # not an unsigned long: recorded as its repr

            def cancel_idle_callback(self, handle: Any) -> None:
                raise RuntimeError("cancel exploded")

        return Binding()


class _Raising:
    def time_remaining(self) -> float:
        raise ValueError("nope")


@pytest.mark.parametrize(
    ("deadline", "note"),
    [
        (
            types.SimpleNamespace(time_remaining=lambda: "5", did_timeout=False),
            "returned '5', not a number",
        ),
        (types.SimpleNamespace(time_remaining=lambda: math.nan, did_timeout=False), "returned NaN"),
        (types.SimpleNamespace(time_remaining=lambda: 5, did_timeout=0), "didTimeout is 0"),
        (_Raising(), "reading the deadline raised ValueError: nope"),
        (None, "reading the deadline raised AttributeError"),
    ],
)
def test_strange_deadlines_are_noted_not_fatal(deadline: Any, note: str) -> None:
    row = make_row([{"post": "a"}, {"cancel": "a"}])
    trace = run_row(row, Garbage(deadline))
    assert note in trace.notes[0]
    assert trace.handles == {"a": ["(1,)"]}
    assert trace.sync_errors["cancel-a"] == "RuntimeError"
    assert [c.label for c in trace.calls] == ["a"]


def test_userland_report_error_and_host_primitives() -> None:
    loop = EventLoop()
    host = HostWindow(loop.window)
    fired: list[str] = []
    t = host.set_timeout(lambda: fired.append("t"), 5)
    host.clear_timeout(t)
    host.cancel_animation_frame(host.request_animation_frame(lambda ts: fired.append("r")))
    host.queue_microtask(lambda: fired.append("m"))
    host.report_error(ValueError("v"))
    with pytest.raises(KeyboardInterrupt):
        host.report_error(KeyboardInterrupt())
    loop.run()
    assert fired == ["m"] and host.now() == loop.now
    assert [str(e) for e in loop.window.reported_errors] == ["v"]


class Hangs:
    name, version, kind = "hangs", "0", "userland"

    def install(self, host: HostWindow) -> Any:
        class Binding:
            def request_idle_callback(self, callback: Any, options: Any = None) -> int:
                while True:  # a hung candidate
                    pass

            def cancel_idle_callback(self, handle: Any) -> None: ...

        return Binding()


class Spins:
    """Re-arms a zero-delay timer for ever: the step budget stops it."""

    name, version, kind = "spins", "0", "userland"

    def install(self, host: HostWindow) -> Any:
        def again() -> None:
            host.set_timeout(again, 0)

        class Binding:
            def request_idle_callback(self, callback: Any, options: Any = None) -> int:
                again()
                return 1

            def cancel_idle_callback(self, handle: Any) -> None: ...

        return Binding()


class Explodes:
    name, version, kind = "explodes", "0", "native"

    def install(self, window: Any) -> Any:
        raise RuntimeError("cannot install")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGALRM watchdog is Unix-only")
def test_a_hung_candidate_times_out() -> None:
    result = run_one(make_row([{"post": "a"}]), Hangs(), watchdog_s=0.05)
    assert result.verdict is Verdict.TIMEOUT
    assert "real time" in (result.outcome.timeout or "")


def test_an_endless_candidate_hits_the_step_budget_and_a_crash_is_an_error() -> None:
    spun = run_one(make_row([{"post": "a"}]), Spins(), step_budget=500)
    assert spun.verdict is Verdict.TIMEOUT and "step budget" in (spun.outcome.timeout or "")
    crashed = run_one(make_row([{"post": "a"}]), Explodes())
    assert crashed.verdict is Verdict.ERROR and "cannot install" in (crashed.outcome.error or "")
    assert crashed.to_json()["verdict"] == "ERROR"


def test_watchdog_is_a_no_op_off_the_main_thread_or_when_disabled() -> None:
    import threading

    with watchdog(0):
        pass
    seen: list[bool] = []
    thread = threading.Thread(target=lambda: seen.append(_in_watchdog()))
    thread.start()
    thread.join()
    assert seen == [True]


def _in_watchdog() -> bool:
    with watchdog(0.01):
        return True


class SelfHosted:
    name, version, kind = "self", "0", "self-hosted"
    unsupported_actions = frozenset({"open_window"})

    def run_row(self, row: Row) -> Trace:
        return run_row(row, REF)


def test_self_hosted_candidates_run_rows_or_declare_them_unsupported() -> None:
    rows = [make_row([{"post": "a"}], {"invoked": ["a"]}), make_row([{"open_window": "w"}])]
    results = run_rows(rows, SelfHosted(), {"fifo-test": "known"})
    assert [r.verdict for r in results] == [Verdict.XPASS, Verdict.UNSUPPORTED]
    assert "open_window" in (results[1].outcome.unsupported or "")


def test_resolve_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_candidate("reference").name == "reference"
    assert "reference" in available_candidates()
    module = types.ModuleType("fake_candidates")
    module.obj = SelfHosted()  # type: ignore[attr-defined]
    module.cls = SelfHosted  # type: ignore[attr-defined]
    module.factory = lambda: SelfHosted()  # type: ignore[attr-defined]  # noqa: PLW0108
    module.junk = 42  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_candidates", module)
    for attribute in ("obj", "cls", "factory"):
        assert resolve_candidate(f"fake_candidates:{attribute}").name == "self"
    with pytest.raises(CandidateError, match="not a candidate"):
        resolve_candidate("fake_candidates:junk")
    with pytest.raises(CandidateError, match="has no 'nope'"):
        resolve_candidate("fake_candidates:nope")
    with pytest.raises(CandidateError, match="cannot import"):
        resolve_candidate("no_such_module_xyz:thing")
    with pytest.raises(CandidateError, match="unknown candidate 'nobody'"):
        resolve_candidate("nobody")
    ep = types.SimpleNamespace(name="plugged", value="fake_candidates:obj", load=lambda: module.obj)
    other = types.SimpleNamespace(name="other", value="x:y", load=lambda: None)
    monkeypatch.setattr(cands, "_entry_points", lambda: [other, ep])
    assert resolve_candidate("plugged").name == "self"
    assert available_candidates()["plugged"] == "entry point fake_candidates:obj"


def test_candidate_shape_checks() -> None:
    check = is_candidate
    assert not check(types.SimpleNamespace(name=1, kind="native", install=print))
    assert not check(types.SimpleNamespace(name="x", kind="other"))
    assert check(types.SimpleNamespace(name="x", kind="native", install=print))


def test_missing_arguments_and_js_error_names() -> None:
    row = make_row(
        [
            {"post": "none", "callback": {"js": "missing"}},
            {"post": "a", "options": {"js": "missing"}},
            {"post": "g", "options": {"js": "throwing-getter"}},
            {"cancel_handle": {"js": "missing"}, "id": "c"},
            {"post": "b", "body": [{"repost": "b", "times": 2}]},
        ]
    )
    trace = run_row(row, REF)
    assert trace.sync_errors == {
        "none": "TypeError",
        "a": "none",
        "g": "Error",
        "c": "TypeError",
        "b": "none",
    }
    assert trace.handles == {"a": [1], "b": [2, 3]}
    from idlespec.conformance.expect import check

    assert check({"handles": {"b@2": 3, "b": 2}}, trace, 0.001) == []
    assert check({"handles": {"b@3": 4}}, trace, 0.001) == [
        "handles: expected 'b@3' to get 4, observed None"
    ]


def test_return_step_and_grouped_sequences() -> None:
    from idlespec.conformance.expect import check

    row = make_row(
        [
            {"post": "a", "body": [{"return": 5}, {"raise": "never reached"}]},
            {"timer": "t", "body": [{"return": {"js": "function"}}]},
            {"post": "b"},
        ]
    )
    trace = run_row(row, REF)
    assert [c.label for c in trace.calls] == ["t", "a", "b"] and trace.reported == []
    assert check({"sequence": [["t", "a"], ["a", "b"]]}, trace, 0.001) == []
    assert check({"sequence": [["t", "a"], ["b", "a"]]}, trace, 0.001) != []


def test_retained_deadline_samples_and_chain_end_label() -> None:
    from idlespec.conformance.expect import check

    row = make_row(
        [
            {"post": "a", "options": {"timeout": 5}, "body": [{"busy": 10}, {"sample": "s"}]},
            {"chain": "c", "until": 30, "every": 10},
            {"timer": "t", "delay": 200, "body": [{"sample": "late", "of": "a"}]},
        ]
    )
    trace = run_row(row, REF)
    assert [c.label for c in trace.calls] == ["c", "a", "c-end", "t"]
    assert (
        check(
            {"did_timeout": {"a.s": True, "a.late": True}, "remaining": {"a.late": 0}}, trace, 0.001
        )
        == []
    )
    assert check({"did_timeout": {"a.s": False}}, trace, 0.001) != []
    assert check({"did_timeout": {"a.zz": False}}, trace, 0.001) != []
    assert check({"sequence": ["a", "c-end"]}, trace, 0.001) == []


def test_a_trace_as_json_is_what_asdict_gives_and_round_trips() -> None:
    from dataclasses import asdict

    from idlespec.conformance.candidates import ReferenceCandidate
    from idlespec.conformance.connectors import connector_for
    from idlespec.conformance.rows import load_rows
    from idlespec.conformance.trace import Reported, Trace

    connector = connector_for(ReferenceCandidate())
    for row in load_rows():
        if "binding" in row.actions:
            continue
        trace = connector.trace(row)
        trace.reported.append(Reported("main", "TypeError", "x"))
        trace.binding["typeof"] = {"nested": [1, 2]}
        as_json = trace.to_json()
        assert as_json == asdict(trace)
        assert list(as_json) == list(asdict(trace))
        assert as_json["binding"]["typeof"] is not trace.binding["typeof"]
        assert Trace.from_json(as_json) == trace
