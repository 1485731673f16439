"""The rIC algorithms on the reference loop: spec.toml T-xx, one test (or more) each."""

from __future__ import annotations

import pytest

from idlespec.reference import EventLoop, IdleDeadline, Policy
from idlespec.reference.deadline import IdleDeadline as DeadlineClass

from conftest import Recorder, busy_chain

# --- handles (R-11, T-01, T-02, T-44) -------------------------------------------------------


def test_handles_count_from_one_whatever_happens_between(loop: EventLoop, rec: Recorder) -> None:
    w = loop.window
    assert w.request_idle_callback(rec.idle("a")) == 1
    assert w.request_idle_callback(rec.idle("b"), {"timeout": 5}) == 2
    w.cancel_idle_callback(1)
    loop.run()
    assert w.request_idle_callback(rec.idle("c")) == 3
    assert w.idle_callback_identifier == 3


def test_windows_count_handles_independently(loop: EventLoop) -> None:
    other = loop.open_window()
    assert [loop.window.request_idle_callback(print) for _ in range(2)] == [1, 2]
    assert other.request_idle_callback(print) == 1
    assert loop.same_loop_windows == [loop.window, other]


def test_request_on_a_window_that_is_not_fully_active_still_returns_a_handle(
    loop: EventLoop,
) -> None:
    loop.window.fully_active = False
    assert loop.window.request_idle_callback(print) == 1
    assert loop.window.request_idle_callback(print) == 2


# --- IdleDeadline (R-22..R-26, T-08, T-09, T-20, T-21) ------------------------------------


def test_callback_gets_one_idle_deadline(loop: EventLoop) -> None:
    got: list[tuple[object, ...]] = []
    loop.window.request_idle_callback(lambda *args: got.append(args))
    loop.run()
    ((deadline,),) = got
    assert isinstance(deadline, IdleDeadline)
    assert isinstance(deadline.time_remaining(), float)
    assert deadline.did_timeout is False
    assert repr(deadline) == "IdleDeadline(did_timeout=False)"


def test_idle_deadline_has_no_constructor() -> None:
    with pytest.raises(TypeError, match="Illegal constructor"):
        DeadlineClass()


def test_time_remaining_is_never_negative_even_retained(loop: EventLoop, rec: Recorder) -> None:
    loop.window.request_idle_callback(rec.idle("a", lambda d: loop.busy(80)))
    loop.window.set_timeout(lambda: None, 500)
    loop.run()
    assert rec.deadlines["a"].time_remaining() >= 0.0
    assert rec.call("a")[3] is False


# --- FIFO and idle periods (R-12, R-28, R-34, R-38; T-10..T-17, T-45) ----------------------


def test_callbacks_run_in_posting_order(loop: EventLoop, rec: Recorder) -> None:
    for label in "abcdefg":
        loop.window.request_idle_callback(rec.idle(label))
    loop.run()
    assert rec.order == list("abcdefg")
    assert {t for _, t, _, _ in rec.calls} == {0.0}


def test_each_callback_is_its_own_task_with_a_microtask_checkpoint(
    loop: EventLoop, rec: Recorder
) -> None:
    order: list[str] = []
    loop.window.request_idle_callback(
        lambda d: (order.append("a"), loop.queue_microtask(lambda: order.append("a-micro")))
    )
    loop.window.request_idle_callback(lambda d: order.append("b"))
    loop.run()
    assert order == ["a", "a-micro", "b"]


def test_callback_posted_from_a_callback_waits_for_a_later_period(
    loop: EventLoop, rec: Recorder
) -> None:
    w = loop.window
    w.request_idle_callback(rec.idle("a", lambda d: w.request_idle_callback(rec.idle("c"))))
    w.request_idle_callback(rec.idle("b"))
    loop.run()
    assert rec.order == ["a", "b", "c"]
    assert rec.call("b")[1] == 0.0
    # The reference gates the next period on the previous deadline (N-05): 0 + 50.
    assert rec.call("c")[1] == 50.0
    assert rec.call("c")[2] == 50.0


def test_reposting_callback_runs_no_sooner_than_the_previous_deadline(loop: EventLoop) -> None:
    times: list[float] = []

    def again(deadline: IdleDeadline) -> None:
        times.append(loop.now)
        if len(times) < 5:
            loop.window.request_idle_callback(again)

    loop.window.request_idle_callback(again)
    loop.run()
    assert times == [0.0, 50.0, 100.0, 150.0, 200.0]


def test_leftover_runnable_callbacks_run_before_newly_posted_ones(
    loop: EventLoop, rec: Recorder
) -> None:
    w = loop.window

    def a(deadline: IdleDeadline) -> None:
        loop.busy(60)  # uses up the period: b stays runnable
        w.request_idle_callback(rec.idle("c"))

    w.request_idle_callback(rec.idle("a", a))
    w.request_idle_callback(rec.idle("b"))
    loop.run()
    assert rec.order == ["a", "b", "c"]
    # A new period starts once the old deadline has passed; c, posted during a's period,
    # joins it behind the leftover b.
    assert rec.call("b")[1] == 60.0
    assert rec.call("c")[1] == 60.0


def test_no_callback_runs_when_the_deadline_passed_before_the_first_invoke_task(
    loop: EventLoop, rec: Recorder
) -> None:
    # Step 5 queues an invoke task per window; window 0's callback uses 60 ms, so when
    # window 1's invoke task runs its deadline (0 + 50) has passed: nothing runs (R-33).
    other = loop.open_window()
    loop.window.request_idle_callback(rec.idle("a", lambda d: loop.busy(60)))
    other.request_idle_callback(rec.idle("x"))
    loop.run()
    assert rec.order == ["a", "x"]
    assert rec.call("x")[1] == 60.0  # in the next period, not the first


def test_cancel_before_the_period_means_never(loop: EventLoop, rec: Recorder) -> None:
    handle = loop.window.request_idle_callback(rec.idle("a"))
    loop.window.request_idle_callback(rec.idle("b"))
    loop.window.cancel_idle_callback(handle)
    loop.run()
    assert rec.order == ["b"]


def test_cancel_a_runnable_callback_from_an_earlier_one(loop: EventLoop, rec: Recorder) -> None:
    w = loop.window
    w.request_idle_callback(rec.idle("a", lambda d: w.cancel_idle_callback(2)))
    w.request_idle_callback(rec.idle("b"))
    w.request_idle_callback(rec.idle("c", lambda d: w.cancel_idle_callback(3)))  # itself
    loop.run()
    assert rec.order == ["a", "c"]
    assert w.reported_errors == []


def test_cancelling_every_runnable_callback_ends_the_period(loop: EventLoop, rec: Recorder) -> None:
    w = loop.window
    w.request_idle_callback(rec.idle("a", lambda d: [w.cancel_idle_callback(h) for h in (2, 3)]))
    w.request_idle_callback(rec.idle("b"))
    w.request_idle_callback(rec.idle("c"))
    loop.run()
    assert rec.order == ["a"]
    assert not w.list_of_runnable_idle_callbacks
    assert not w.list_of_idle_request_callbacks


def test_cancel_with_unknown_or_foreign_handles_does_nothing(
    loop: EventLoop, rec: Recorder
) -> None:
    other = loop.open_window()
    other.request_idle_callback(rec.idle("x"))
    loop.window.cancel_idle_callback(1)  # window 0 has no handle 1; window 1's is untouched
    loop.window.cancel_idle_callback(0)
    loop.window.cancel_idle_callback(99)
    loop.run()
    assert rec.order == ["x"]


def test_a_busy_loop_starts_no_idle_period(loop: EventLoop, rec: Recorder) -> None:
    busy_chain(loop, until=300)
    loop.window.request_idle_callback(rec.idle("a"))
    loop.run()
    assert rec.call("a")[1] == 300.0
    assert rec.call("a")[3] is False


def test_windows_keep_their_own_fifo(loop: EventLoop, rec: Recorder) -> None:
    other = loop.open_window()
    for label in ("a1", "a2"):
        loop.window.request_idle_callback(rec.idle(label))
    for label in ("b1", "b2"):
        other.request_idle_callback(rec.idle(label))
    loop.run()
    assert [x for x in rec.order if x.startswith("a")] == ["a1", "a2"]
    assert [x for x in rec.order if x.startswith("b")] == ["b1", "b2"]


# --- deadlines (R-23, R-24, R-50..R-57; T-22..T-29, T-42) ----------------------------------


def test_quiet_loop_gives_fifty_ms_counting_down(loop: EventLoop) -> None:
    seen: list[float] = []

    def body(deadline: IdleDeadline) -> None:
        seen.append(deadline.time_remaining())
        loop.busy(12.5)
        seen.append(deadline.time_remaining())
        loop.busy(40)
        seen.append(deadline.time_remaining())

    loop.window.request_idle_callback(body)
    loop.run()
    assert seen == [50.0, 37.5, 0.0]


def test_fifty_ms_count_from_the_idle_period_start_not_the_post(
    loop: EventLoop, rec: Recorder
) -> None:
    loop.window.request_idle_callback(rec.idle("a"))
    loop.queue_task(lambda: loop.busy(30))
    loop.run()
    assert rec.call("a")[1:3] == (30.0, 50.0)
    assert loop.last_idle_period_start_time == 30.0


def test_a_pending_timer_caps_the_deadline(loop: EventLoop, rec: Recorder) -> None:
    def setup() -> None:
        loop.window.set_timeout(lambda: None, 20)
        loop.busy(5)

    loop.queue_task(setup)
    loop.window.request_idle_callback(rec.idle("a"))
    loop.run()
    assert rec.call("a")[1:3] == (5.0, 15.0)


def test_a_timer_of_another_same_loop_window_caps_too(loop: EventLoop, rec: Recorder) -> None:
    other = loop.open_window()
    other.set_timeout(lambda: None, 20)
    loop.window.request_idle_callback(rec.idle("a"))
    loop.run()
    assert rec.call("a")[2] == 20.0


def test_a_timer_set_inside_the_callback_lowers_time_remaining_at_once(loop: EventLoop) -> None:
    seen: list[float] = []

    def body(deadline: IdleDeadline) -> None:
        loop.busy(5)
        seen.append(deadline.time_remaining())
        loop.window.set_timeout(lambda: None, 10)
        seen.append(deadline.time_remaining())

    loop.window.request_idle_callback(body)
    loop.run()
    assert seen == [45.0, 10.0]


def test_deadline_is_re_evaluated_between_callbacks(loop: EventLoop, rec: Recorder) -> None:
    def a(deadline: IdleDeadline) -> None:
        loop.window.set_timeout(lambda: None, 20)
        loop.busy(10)

    loop.window.request_idle_callback(rec.idle("a", a))
    loop.window.request_idle_callback(rec.idle("b"))
    loop.run()
    assert rec.call("b")[1:3] == (10.0, 10.0)


def test_an_expired_timer_no_longer_caps(loop: EventLoop, rec: Recorder) -> None:
    loop.window.set_timeout(lambda: loop.window.request_idle_callback(rec.idle("a")), 20)
    loop.run()
    # The timer left the map of active timers when its task was queued (R-55 step 4.5).
    assert rec.call("a")[1:3] == (20.0, 50.0)
    assert loop.window.map_of_active_timers == {}


def test_a_cleared_timer_still_caps_until_its_time_has_passed(
    loop: EventLoop, rec: Recorder
) -> None:
    # HTML clearTimeout removes only the id; "run steps after a timeout" goes on (see
    # html_timers' module docstring), so the entry stays in the map of active timers.
    fired: list[float] = []
    handle = loop.window.set_timeout(lambda: fired.append(loop.now), 20)
    loop.window.clear_timeout(handle)
    loop.window.request_idle_callback(rec.idle("a"))
    loop.run()
    assert fired == []
    assert rec.call("a")[2] == 20.0
    assert loop.now == 20.0  # the wait completed; the task did nothing


def test_an_animation_frame_request_caps_at_the_next_render(loop: EventLoop) -> None:
    seen: list[float] = []
    frames: list[tuple[float, float]] = []

    def body(deadline: IdleDeadline) -> None:
        loop.busy(5)
        seen.append(deadline.time_remaining())
        loop.window.request_animation_frame(lambda ts: frames.append((ts, loop.now)))
        seen.append(deadline.time_remaining())

    loop.queue_task(lambda: loop.busy(20))  # idle starts at 20; the last vsync was 16.67
    loop.window.request_idle_callback(body)
    loop.run()
    assert seen[0] == 45.0
    assert seen[1] == pytest.approx(2 * 1000 / 60 - 25)
    assert frames == [(pytest.approx(2 * 1000 / 60), pytest.approx(2 * 1000 / 60))]


def test_refresh_rate_sets_the_render_term() -> None:
    loop = EventLoop(refresh_rate=100.0)
    seen: list[float] = []

    def body(deadline: IdleDeadline) -> None:
        loop.window.request_animation_frame(lambda ts: None)
        seen.append(deadline.time_remaining())

    loop.window.request_idle_callback(body)
    loop.run()
    assert seen == [10.0]
    assert loop.policy.refresh_rate == 100.0


def test_an_ric_timeout_does_not_cap_another_callbacks_deadline(
    loop: EventLoop, rec: Recorder
) -> None:
    loop.window.request_idle_callback(rec.idle("a"))
    loop.window.request_idle_callback(rec.idle("b"), {"timeout": 10})
    loop.run()
    assert rec.call("a")[2] == 50.0  # rIC timeouts are not in the map of active timers


# --- timeouts (R-14, R-15, R-40..R-42; T-30..T-38) -----------------------------------------


def test_timeout_runs_a_starved_callback_with_did_timeout(loop: EventLoop, rec: Recorder) -> None:
    busy_chain(loop, until=1000)
    loop.window.request_idle_callback(rec.idle("a"), {"timeout": 100})
    loop.run()
    _label, when, remaining, timed_out = rec.call("a")
    assert when == 100.0  # exact: no padding (T-38)
    assert (remaining, timed_out) == (0.0, True)
    assert rec.deadlines["a"].time_remaining() == 0.0  # and for ever after


def test_an_idle_run_before_the_timeout_is_the_only_run(loop: EventLoop, rec: Recorder) -> None:
    loop.window.request_idle_callback(rec.idle("a"), {"timeout": 100})
    loop.run()
    assert rec.calls == [("a", 0.0, 50.0, False)]
    assert loop.now == 100.0  # the timeout's wait ran out, as a no-op task


def test_a_timed_out_callback_is_not_run_again_idly(loop: EventLoop, rec: Recorder) -> None:
    busy_chain(loop, until=200)
    loop.window.request_idle_callback(rec.idle("a"), {"timeout": 50})
    loop.run()
    assert rec.order == ["a"]
    assert rec.call("a")[3] is True


def test_timeout_finds_a_callback_left_in_the_runnable_list(loop: EventLoop, rec: Recorder) -> None:
    # WebKit bug 320787: b was promoted to the runnable list, a used up the period, and the
    # loop stays busy; b's timeout must still run it.
    w = loop.window

    def a(deadline: IdleDeadline) -> None:
        loop.busy(60)
        busy_chain(loop, until=400)

    w.request_idle_callback(rec.idle("a", a))
    w.request_idle_callback(rec.idle("b"), {"timeout": 200})
    loop.run()
    assert rec.order == ["a", "b"]
    assert rec.call("b")[1] == 200.0
    assert rec.call("b")[3] is True


def test_timeout_expiring_during_an_earlier_callback_runs_it_once(
    loop: EventLoop, rec: Recorder
) -> None:
    w = loop.window
    w.request_idle_callback(rec.idle("a", lambda d: loop.busy(40)))
    w.request_idle_callback(rec.idle("b"), {"timeout": 30})
    loop.run()
    assert rec.order == ["a", "b"]
    assert rec.call("b")[3] is True  # the timeout task was queued first (idle-task FIFO)


@pytest.mark.parametrize(
    ("posts", "expected"),
    [
        ([("a", 0, 100), ("b", 0, 50)], ["b", "a"]),
        ([("a", 0, 100), ("b", 30, 60)], ["b", "a"]),
        ([("a", 0, 50), ("b", 0, 100)], ["a", "b"]),
        ([("a", 0, 70), ("b", 0, 70), ("c", 0, 70)], ["a", "b", "c"]),
    ],
)
def test_timeouts_fire_in_expiry_order(
    loop: EventLoop, rec: Recorder, posts: list[tuple[str, int, int]], expected: list[str]
) -> None:
    busy_chain(loop, until=500)
    for label, at, timeout in posts:
        post = lambda label=label, timeout=timeout: loop.window.request_idle_callback(  # noqa: E731
            rec.idle(label), {"timeout": timeout}
        )
        loop.window.set_timeout(post, at) if at else post()
    loop.run()
    assert rec.order == expected
    assert all(call[3] for call in rec.calls)


def test_after_a_timeout_cancel_is_a_no_op_and_new_posts_wait_for_a_period(
    loop: EventLoop, rec: Recorder
) -> None:
    w = loop.window

    def a(deadline: IdleDeadline) -> None:
        w.cancel_idle_callback(1)
        w.request_idle_callback(rec.idle("later"))

    busy_chain(loop, until=300)
    w.request_idle_callback(rec.idle("a", a), {"timeout": 100})
    loop.run()
    assert rec.order == ["a", "later"]
    assert rec.call("later")[1:] == (300.0, 50.0, False)


def test_cancel_before_the_timeout_means_never(loop: EventLoop, rec: Recorder) -> None:
    busy_chain(loop, until=300)
    handle = loop.window.request_idle_callback(rec.idle("a"), {"timeout": 100})
    loop.window.set_timeout(lambda: loop.window.cancel_idle_callback(handle), 50)
    loop.run()
    assert rec.calls == []


def test_a_huge_timeout_on_a_quiet_loop_does_not_spin(loop: EventLoop, rec: Recorder) -> None:
    loop.window.request_idle_callback(rec.idle("a"), {"timeout": 4294967295})
    loop.run(max_tasks=10)
    assert rec.calls == [("a", 0.0, 50.0, False)]
    assert loop.now == 4294967295.0


# --- exceptions (R-36, R-47, R-48; T-39, T-40) ---------------------------------------------


def test_an_exception_is_reported_and_the_next_callback_runs(
    loop: EventLoop, rec: Recorder
) -> None:
    boom = ValueError("boom")

    def a(deadline: IdleDeadline) -> None:
        raise boom

    loop.window.request_idle_callback(rec.idle("a", a))
    loop.window.request_idle_callback(rec.idle("b"))
    loop.run()
    assert rec.order == ["a", "b"]
    assert loop.window.reported_errors == [boom]


def test_an_exception_in_a_timed_out_callback_is_reported(loop: EventLoop, rec: Recorder) -> None:
    def a(deadline: IdleDeadline) -> None:
        raise KeyError("x")

    busy_chain(loop, until=200)
    loop.window.request_idle_callback(rec.idle("a", a), {"timeout": 50})
    loop.window.request_idle_callback(rec.idle("b"), {"timeout": 60})
    loop.run()
    assert rec.order == ["a", "b"]
    assert [type(e) for e in loop.window.reported_errors] == [KeyError]


# --- fully active (R-46, N-07; T-43) -------------------------------------------------------


def test_a_window_that_is_not_fully_active_runs_no_idle_or_timeout_callbacks(
    loop: EventLoop, rec: Recorder
) -> None:
    w = loop.window
    w.request_idle_callback(rec.idle("a"))
    w.request_idle_callback(rec.idle("b"), {"timeout": 100})
    w.fully_active = False
    loop.run(until=500)
    assert rec.calls == []
    w.fully_active = True
    loop.run()
    # b's timeout task was queued at 100 and waited; it is older than the idle period that
    # starts once the window is fully active again.
    assert rec.order == ["b", "a"]
    assert rec.call("b")[1:] == (500.0, 0.0, True)
    assert rec.call("a")[1:] == (500.0, 50.0, False)
    assert repr(w) == "<Window 0>"


def test_other_windows_go_on_while_one_is_not_fully_active(loop: EventLoop, rec: Recorder) -> None:
    other = loop.open_window()
    other.fully_active = False
    assert repr(other) == "<Window 1 (not fully active)>"
    other.request_idle_callback(rec.idle("x"))
    loop.window.request_idle_callback(rec.idle("a"))
    loop.run()
    assert rec.order == ["a"]
    assert list(other.list_of_idle_request_callbacks) == [1]


# --- identifier overflow (N-08) ------------------------------------------------------------


def test_identifier_overflow_raises_by_default(loop: EventLoop) -> None:
    loop.window.idle_callback_identifier = 2**32 - 1
    with pytest.raises(OverflowError):
        loop.window.request_idle_callback(print)
    assert loop.window.idle_callback_identifier == 2**32 - 1
    assert not loop.window.list_of_idle_request_callbacks


def test_identifier_overflow_can_wrap() -> None:
    loop = EventLoop(Policy(identifier_overflow="wrap"))
    loop.window.idle_callback_identifier = 2**32 - 1
    assert loop.window.request_idle_callback(print) == 0
    assert loop.window.request_idle_callback(print) == 1
