"""The reference host: tasks, microtasks, timers, rendering, fully active, run()."""

from __future__ import annotations

import math

import pytest

from idlespec.reference import EventLoop, IdleDeadline, TaskBudgetExceeded
from idlespec.reference.policy import TaskSelection
from idlespec.reference.tasks import Task, TaskQueues

from conftest import Recorder

# --- tasks and microtasks ------------------------------------------------------------------


def test_tasks_run_fifo_then_their_microtasks(loop: EventLoop) -> None:
    order: list[str] = []
    loop.queue_task(lambda: (order.append("t1"), loop.queue_microtask(lambda: order.append("m1"))))
    loop.queue_task(lambda: order.append("t2"), source="other")
    loop.queue_microtask(lambda: order.append("m0"))  # from the "script" that called run()
    loop.run()
    assert order == ["m0", "t1", "m1", "t2"]


def test_idle_callback_never_runs_between_a_task_and_its_microtasks(loop: EventLoop) -> None:
    order: list[str] = []
    loop.window.request_idle_callback(lambda d: order.append("idle"))
    loop.queue_task(
        lambda: loop.queue_microtask(
            lambda: (order.append("m1"), loop.queue_microtask(lambda: order.append("m2")))
        )
    )
    loop.run()
    assert order == ["m1", "m2", "idle"]


def test_exceptions_from_tasks_and_microtasks_are_reported_to_their_window(
    loop: EventLoop,
) -> None:
    other = loop.open_window()

    def fail(message: str) -> None:
        raise RuntimeError(message)

    loop.queue_task(lambda: fail("task"))
    other.queue_task(lambda: fail("other task"))
    other.queue_microtask(lambda: fail("micro"))
    loop.run()
    assert [str(e) for e in loop.window.reported_errors] == ["task"]
    assert [str(e) for e in other.reported_errors] == ["micro", "other task"]


def test_a_window_that_is_not_fully_active_keeps_its_tasks_queued(loop: EventLoop) -> None:
    order: list[str] = []
    other = loop.open_window()
    other.queue_task(lambda: order.append("other"))
    loop.queue_task(lambda: order.append("main"))
    other.fully_active = False
    loop.run()
    assert order == ["main"]
    other.fully_active = True
    loop.run()
    assert order == ["main", "other"]


def test_oldest_first_takes_the_earliest_queued_task_across_sources(loop: EventLoop) -> None:
    order: list[str] = []
    for name, source in [("a", "x"), ("b", "y"), ("c", "x"), ("d", "y")]:
        loop.queue_task(lambda name=name: order.append(name), source=source)
    loop.run()
    assert order == ["a", "b", "c", "d"]


def test_round_robin_visits_sources_in_turn() -> None:
    from idlespec.reference import Policy

    loop = EventLoop(Policy(task_selection="round-robin"))
    other = loop.open_window()
    order: list[str] = []
    for name, source in [("x1", "x"), ("x2", "x"), ("x3", "x"), ("y1", "y")]:
        loop.queue_task(lambda name=name: order.append(name), source=source)
    other.queue_task(lambda: order.append("o1"), source="x")
    other.fully_active = False
    loop.run()
    assert order == ["x1", "y1", "x2", "x3"]
    other.fully_active = True
    loop.run()
    assert order[-1] == "o1"


@pytest.mark.parametrize("selection", ["oldest-first", "round-robin"])
def test_task_queues_put_back_and_count(selection: TaskSelection) -> None:
    loop = EventLoop()
    queues = TaskQueues(selection)
    first = Task(lambda: None, loop.window, "s", 1)
    queues.append(first)
    queues.append(Task(lambda: None, loop.window, "s", 2))
    taken = queues.take_runnable()
    assert taken is first
    assert taken.runnable
    queues.push_front(first)
    assert queues.take_runnable() is first
    assert queues.take_runnable() is not None
    assert queues.take_runnable() is None


def test_oldest_first_skips_the_heads_of_inactive_windows_and_keeps_them() -> None:
    loop = EventLoop()
    second, third = loop.open_window(), loop.open_window()
    queues = TaskQueues("oldest-first")
    tasks = [Task(lambda: None, w, "s", seq) for seq, w in enumerate([second, third, loop.window])]
    for task in tasks:
        queues.append(task)
    second.fully_active = third.fully_active = False
    assert queues.take_runnable() is tasks[2]
    assert queues.take_runnable() is None
    third.fully_active = True
    assert queues.take_runnable() is tasks[1]
    second.fully_active = True
    assert queues.take_runnable() is tasks[0]


def test_microtasks_a_task_queues_outside_any_callback_run_right_after_it() -> None:
    loop = EventLoop()
    order: list[str] = []
    # The task's steps queue a microtask directly (no callback, so no "clean up after running
    # script" checkpoint): the checkpoint after the task (processing model step 2.7) runs it,
    # before the next task.
    loop.queue_task_for(loop.window, "s", loop.queue_microtask, lambda: order.append("micro"))
    loop.queue_task(lambda: order.append("next task"))
    loop.run()
    assert order == ["micro", "next task"]


def test_coarsen_with_no_resolution_returns_its_input() -> None:
    assert EventLoop().coarsen(1.23456789) == 1.23456789


# --- run() ---------------------------------------------------------------------------------


def test_run_until_stops_at_that_time_and_leaves_the_rest(loop: EventLoop) -> None:
    fired: list[float] = []
    loop.window.set_timeout(lambda: fired.append(loop.now), 100)
    loop.window.set_timeout(lambda: fired.append(loop.now), 300)
    loop.run(until=200)
    assert (fired, loop.now) == ([100.0], 200.0)
    loop.run(until=300)  # an event exactly at `until` happens
    assert (fired, loop.now) == ([100.0, 300.0], 300.0)
    loop.run(until=250)  # already past: nothing moves
    assert loop.now == 300.0


def test_run_stops_taking_tasks_once_a_callback_was_busy_past_until(loop: EventLoop) -> None:
    order: list[str] = []
    loop.queue_task(lambda: (order.append("a"), loop.busy(80)))
    loop.queue_task(lambda: order.append("b"))
    loop.run(until=50)
    assert (order, loop.now) == (["a"], 80.0)
    loop.run()
    assert order == ["a", "b"]


def test_run_with_a_task_budget_raises_and_loses_nothing(loop: EventLoop) -> None:
    count = [0]

    def forever() -> None:
        count[0] += 1
        loop.queue_task(forever)

    loop.queue_task(forever)
    with pytest.raises(TaskBudgetExceeded):
        loop.run(max_tasks=50)
    assert count == [50]
    with pytest.raises(TaskBudgetExceeded):
        loop.run(max_tasks=1)  # the put-back task runs first
    assert count == [51]


def test_run_is_not_reentrant_and_rejects_nan(loop: EventLoop) -> None:
    errors: list[Exception] = []

    def nested() -> None:
        try:
            loop.run()
        except RuntimeError as error:
            errors.append(error)

    loop.queue_task(nested)
    loop.run()
    assert len(errors) == 1
    with pytest.raises(ValueError, match="NaN"):
        loop.run(until=math.nan)


def test_busy_outside_run_moves_the_clock_and_completes_due_waits(loop: EventLoop) -> None:
    loop.window.set_timeout(lambda: None, 10)
    assert loop.window.map_of_active_timers
    loop.busy(15)
    assert loop.now == 15.0
    assert loop.window.map_of_active_timers == {}


# --- timers --------------------------------------------------------------------------------


def test_timers_fire_in_expiry_order_then_start_order(loop: EventLoop) -> None:
    order: list[tuple[str, float]] = []
    w = loop.window
    w.set_timeout(lambda: order.append(("a", loop.now)), 30)
    w.set_timeout(lambda: order.append(("b", loop.now)), 10)
    w.set_timeout(lambda: order.append(("c", loop.now)), 30)
    w.set_timeout(lambda: order.append(("d", loop.now)), -5)  # negative: 0
    loop.run()
    assert order == [("d", 0.0), ("b", 10.0), ("a", 30.0), ("c", 30.0)]


def test_timer_ids_and_clear(loop: EventLoop) -> None:
    fired: list[str] = []
    w = loop.window
    first = w.set_timeout(lambda: fired.append("a"), 5)
    second = w.set_timeout(lambda: fired.append("b"), 5)
    assert (first, second) == (1, 2)
    w.clear_timeout(str(first))  # ids convert as WebIDL long
    w.clear_timeout(99)  # unknown: nothing
    loop.run()
    assert fired == ["b"]
    assert w.map_of_settimeout_and_setinterval_ids == {}


def test_a_timer_cleared_by_its_own_callback_is_gone(loop: EventLoop) -> None:
    w = loop.window
    holder: list[int] = []
    holder.append(w.set_timeout(lambda: w.clear_timeout(holder[0]), 5))
    loop.run()
    assert w.map_of_settimeout_and_setinterval_ids == {}


def test_an_exception_in_a_timer_is_reported(loop: EventLoop) -> None:
    def fail() -> None:
        raise ValueError("timer")

    loop.window.set_timeout(fail, 1)
    loop.run()
    assert [str(e) for e in loop.window.reported_errors] == ["timer"]


def test_nested_zero_delay_timers_are_clamped_to_four_ms(loop: EventLoop) -> None:
    times: list[float] = []

    def tick() -> None:
        times.append(loop.now)
        if len(times) < 9:
            loop.window.set_timeout(tick, 0)

    loop.window.set_timeout(tick, 0)
    loop.run()
    # A timer set from a task of nesting level > 5 is clamped to 4 ms (HTML step 5): the
    # first six run at 0, the seventh (set from the level-6 task) at 4.
    assert times == [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0, 8.0, 12.0]


def test_timers_pause_while_the_window_is_not_fully_active(loop: EventLoop) -> None:
    fired: list[float] = []
    w = loop.window
    w.set_timeout(lambda: fired.append(loop.now), 100)
    loop.run(until=40)
    w.fully_active = False
    w.set_timeout(lambda: fired.append(loop.now), 10)  # set while paused: starts paused
    loop.run(until=1000)
    assert fired == []
    w.fully_active = True
    loop.run()
    assert fired == [1010.0, 1060.0]  # 10 ms and the remaining 60 ms of active time


def test_fully_active_setter_ignores_no_change(loop: EventLoop) -> None:
    loop.window.fully_active = True
    assert loop.window.fully_active


# --- animation frames and rendering --------------------------------------------------------


def test_animation_frames_run_at_the_next_vsync_with_its_time(loop: EventLoop) -> None:
    frames: list[tuple[str, float, float]] = []
    w = loop.window

    def first(ts: float) -> None:
        frames.append(("first", ts, loop.now))
        w.cancel_animation_frame(2)  # cancels a callback of the same frame
        w.request_animation_frame(lambda ts: frames.append(("next", ts, loop.now)))

    assert w.request_animation_frame(first) == 1
    w.request_animation_frame(lambda ts: frames.append(("cancelled", ts, loop.now)))
    loop.run()
    frame = 1000 / 60
    assert frames == [
        ("first", pytest.approx(frame), pytest.approx(frame)),
        ("next", pytest.approx(2 * frame), pytest.approx(2 * frame)),
    ]


def test_a_frame_requested_during_a_busy_task_renders_after_it(loop: EventLoop) -> None:
    frames: list[tuple[float, float]] = []

    def task() -> None:
        loop.window.request_animation_frame(lambda ts: frames.append((ts, loop.now)))
        loop.busy(40)

    loop.queue_task(task)
    loop.run()
    assert frames == [(pytest.approx(1000 / 60), 40.0)]


def test_cancelling_the_only_frame_callback_takes_no_rendering_opportunity(
    loop: EventLoop,
) -> None:
    handle = loop.window.request_animation_frame(lambda ts: None)
    loop.window.cancel_animation_frame(handle)
    loop.run()
    assert loop.now == 0.0  # nothing to wait for


def test_cancel_of_one_of_two_frame_callbacks_keeps_the_frame(loop: EventLoop) -> None:
    ran: list[float] = []
    w = loop.window
    handle = w.request_animation_frame(lambda ts: ran.append(-1))
    w.request_animation_frame(ran.append)
    w.cancel_animation_frame(handle)
    loop.run()
    assert ran == [pytest.approx(1000 / 60)]


def test_windows_render_together_and_a_hidden_one_waits(loop: EventLoop) -> None:
    frames: list[tuple[int, float]] = []
    other = loop.open_window()
    third = loop.open_window()
    loop.window.request_animation_frame(lambda ts: frames.append((0, loop.now)))
    other.request_animation_frame(lambda ts: frames.append((1, loop.now)))
    third.request_animation_frame(lambda ts: frames.append((2, loop.now)))
    third.fully_active = False
    loop.run(until=100)
    frame = 1000 / 60
    assert frames == [(0, pytest.approx(frame)), (1, pytest.approx(frame))]
    third.fully_active = True
    loop.run()
    assert frames[-1] == (2, pytest.approx(7 * frame))  # the first vsync after 100


def test_a_frame_request_from_another_window_joins_a_queued_render(loop: EventLoop) -> None:
    # Window 0's render task is queued at the vsync while a task is busy; a frame request
    # made then waits for the next vsync, not the queued render.
    frames: list[tuple[str, float]] = []
    w = loop.window

    def task() -> None:
        w.request_animation_frame(lambda ts: frames.append(("a", ts)))
        loop.busy(20)
        w.request_animation_frame(lambda ts: frames.append(("b", ts)))

    loop.queue_task(task)
    loop.run()
    # Both callbacks are in the map when the render task runs: one frame runs both.
    frame = 1000 / 60
    assert frames == [("a", pytest.approx(frame)), ("b", pytest.approx(frame))]


# --- coarsening ----------------------------------------------------------------------------


def test_coarsening_floors_times_to_the_grid() -> None:
    from idlespec.reference import Policy

    loop = EventLoop(Policy(coarsening_ms=0.1))
    seen: list[float] = []

    def body(deadline: IdleDeadline) -> None:
        seen.append(deadline.time_remaining())
        loop.busy(0.03)
        seen.append(deadline.time_remaining())
        loop.busy(0.1)
        seen.append(deadline.time_remaining())

    loop.window.request_idle_callback(body)
    loop.run()
    assert seen == [50.0, 50.0, 49.9]
    assert loop.coarsen(0.30000000000000004) == 0.3


def test_recorder_sees_idle_deadlines(loop: EventLoop, rec: Recorder) -> None:
    loop.window.request_idle_callback(rec.idle("a"))
    loop.run()
    assert rec.calls == [("a", 0.0, 50.0, False)]


def test_a_frame_callback_that_requests_another_runs_once_per_vsync(loop: EventLoop) -> None:
    # Regression: a re-request made at a vsync instant waits for the next vsync; it must
    # not render again at the same instant for ever.
    stamps: list[float] = []

    def frame(ts: float) -> None:
        stamps.append(ts)
        loop.window.request_animation_frame(frame)

    loop.window.request_animation_frame(frame)
    loop.run(until=100)
    assert stamps == [pytest.approx(k * 1000 / 60) for k in range(1, 7)]
    assert loop.now == 100.0


def test_deadline_read_during_a_frame_sees_the_map_as_it_is(loop: EventLoop) -> None:
    # A retained IdleDeadline read from a frame callback: once the frame's last callback
    # left the map, the render term no longer applies (computeDeadline reads maps live).
    seen: list[float] = []
    kept: list[IdleDeadline] = []
    loop.window.request_idle_callback(kept.append)
    loop.run()
    loop.window.request_animation_frame(lambda ts: seen.append(kept[0].time_remaining()))
    loop.run()
    assert seen == [pytest.approx(50 - 1000 / 60)]


def test_a_paused_timer_of_one_window_starves_idle_callbacks_on_the_loop(
    loop: EventLoop,
) -> None:
    # Spec-literal trap (html_timers docstring): the paused timer's map entry keeps its
    # old expiry, and computeDeadline reads it for every same-loop window.
    ran: list[float] = []
    frame = loop.open_window()
    frame.set_timeout(lambda: None, 10)
    frame.fully_active = False
    loop.run(until=20)
    loop.window.request_idle_callback(lambda d: ran.append(loop.now))
    loop.run(until=1000)
    assert ran == []
    frame.fully_active = True
    loop.run()
    assert ran == [1010.0]  # after the timer's remaining 10 ms of active time


def test_run_reports_whether_it_went_quiet(loop: EventLoop) -> None:
    loop.window.set_timeout(lambda: None, 100)
    assert loop.run(until=50) is False
    assert loop.now == 50.0
    assert loop.run(budget=80) is False  # the timer lies beyond the budget
    assert loop.now == 50.0  # and a budget does not move the clock to itself
    assert loop.run(budget=1000) is True
    assert loop.now == 100.0
    with pytest.raises(ValueError, match="NaN"):
        loop.run(budget=math.nan)


def test_budget_below_until_wins(loop: EventLoop) -> None:
    loop.window.set_timeout(lambda: None, 100)
    assert loop.run(until=500, budget=60) is False
    assert loop.now == 0.0  # the budget stopped it before `until` could move the clock
