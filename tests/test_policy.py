"""Each Policy field: the reference's default and the alternative it names."""

from __future__ import annotations

import math

import pytest

from idlespec.reference import EventLoop, IdleDeadline, Policy

from conftest import Recorder, busy_chain


@pytest.mark.parametrize(
    "kwargs",
    [
        {"refresh_rate": 0},
        {"refresh_rate": math.inf},
        {"coarsening_ms": -0.1},
        {"coarsening_ms": math.nan},
        {"timeout_padding_ms": -1},
        {"max_callbacks_per_period": 0},
        {"task_selection": "random"},
        {"equal_timeout_expiry_order": "random"},
        {"identifier_overflow": "saturate"},
        {"timer_delay_ms": -1},
        {"timer_delay_ms": math.inf},
        {"pending_rendering_updates": "sometimes"},
    ],
)
def test_policy_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Policy(**kwargs)  # type: ignore[arg-type]


def test_defaults() -> None:
    policy = Policy()
    assert policy.skip_empty_idle_periods
    assert policy.gate_on_previous_deadline
    assert policy.max_callbacks_per_period is None
    assert policy.timeout_padding_ms == 0.0
    assert policy.equal_timeout_expiry_order == "posting"
    assert policy.task_selection == "oldest-first"
    assert policy.refresh_rate == 60.0
    assert policy.frame_interval_ms == pytest.approx(16.6667, abs=1e-4)
    assert policy.coarsening_ms == 0.0
    assert policy.identifier_overflow == "raise"


def _reposting(loop: EventLoop, times: list[float], count: int) -> None:
    def again(deadline: IdleDeadline) -> None:
        times.append(loop.now)
        if len(times) < count:
            loop.window.request_idle_callback(again)

    loop.window.request_idle_callback(again)


def test_without_the_gate_a_repost_runs_in_a_new_period_at_once() -> None:
    loop = EventLoop(Policy(gate_on_previous_deadline=False))
    times: list[float] = []
    _reposting(loop, times, 4)
    loop.run()
    assert times == [0.0, 0.0, 0.0, 0.0]  # N-05 literal: back-to-back periods


def test_without_the_gate_leftovers_and_posts_still_wait_for_a_new_period() -> None:
    loop = EventLoop(Policy(gate_on_previous_deadline=False))
    rec = Recorder(loop)
    w = loop.window
    w.request_idle_callback(rec.idle("a", lambda d: w.request_idle_callback(rec.idle("c"))))
    w.request_idle_callback(rec.idle("b"))
    loop.run()
    assert rec.order == ["a", "b", "c"]


def test_empty_idle_periods_can_be_started_and_do_nothing() -> None:
    loop = EventLoop(Policy(skip_empty_idle_periods=False))
    order: list[str] = []
    loop.queue_task(lambda: order.append("task"))
    loop.window.set_timeout(lambda: order.append("timer"), 30)
    loop.run()
    assert order == ["task", "timer"]
    assert loop.now == 30.0
    assert loop.last_idle_period_start_time == 30.0


def test_an_idle_period_can_end_early() -> None:
    loop = EventLoop(Policy(max_callbacks_per_period=1))
    rec = Recorder(loop)
    for label in "abc":
        loop.window.request_idle_callback(rec.idle(label))
    loop.run()
    assert [(label, t) for label, t, _, _ in rec.calls] == [("a", 0.0), ("b", 50.0), ("c", 100.0)]


def test_timeout_padding_delays_timeouts() -> None:
    loop = EventLoop(Policy(timeout_padding_ms=7))
    rec = Recorder(loop)
    busy_chain(loop, until=300)
    loop.window.request_idle_callback(rec.idle("a"), {"timeout": 100})
    loop.run()
    assert rec.call("a")[1] == 107.0
    assert rec.call("a")[3] is True


def test_equal_timeout_expiries_can_run_in_reverse_posting_order() -> None:
    loop = EventLoop(Policy(equal_timeout_expiry_order="reverse-posting"))
    rec = Recorder(loop)
    busy_chain(loop, until=300)
    for label in "xyz":
        loop.window.request_idle_callback(rec.idle(label), {"timeout": 70})
    loop.window.request_idle_callback(rec.idle("early"), {"timeout": 60})
    loop.run()
    assert rec.order == ["early", "z", "y", "x"]


def test_render_term_only_applies_when_it_is_the_smaller() -> None:
    loop = EventLoop()
    seen: list[float] = []

    def body(deadline: IdleDeadline) -> None:
        loop.window.set_timeout(lambda: None, 5)  # 5 < next render at 16.67
        loop.window.request_animation_frame(lambda ts: None)
        seen.append(deadline.time_remaining())

    loop.window.request_idle_callback(body)
    loop.run()
    assert seen == [5.0]


def test_microtask_checkpoint_does_not_nest(loop: EventLoop) -> None:
    order: list[str] = []

    def first() -> None:
        loop.queue_microtask(lambda: order.append("second"))
        loop.perform_a_microtask_checkpoint()  # HTML step 1: already performing: return
        order.append("first")

    loop.queue_microtask(first)
    loop.run()
    assert order == ["first", "second"]


def test_a_ua_that_always_believes_rendering_is_pending_caps_at_the_next_render() -> None:
    loop = EventLoop(Policy(pending_rendering_updates="always"))
    seen = Recorder(loop)
    loop.window.request_idle_callback(seen.idle("a"))
    loop.run()
    assert seen.call("a")[2] == pytest.approx(1000 / 60)


def test_late_timers_run_late_but_cap_at_their_expiry() -> None:
    loop = EventLoop(Policy(timer_delay_ms=11))
    fired: list[float] = []
    seen = Recorder(loop)
    loop.window.set_timeout(lambda: fired.append(loop.now), 20)
    loop.window.request_idle_callback(seen.idle("a"))
    loop.run()
    assert fired == [31]
    assert seen.call("a")[2] == 20  # the map of active timers keeps the undelayed expiry
