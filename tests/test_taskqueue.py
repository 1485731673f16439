"""The idle task queue on the reference, in virtual time: every promise it makes."""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from idlespec.conformance.api import HostWindow
from idlespec.reference import EventLoop, Window
from idlespec.taskqueue import (
    Ack,
    Backoff,
    IdleTaskQueue,
    ParentFailed,
    RateLimit,
    Slice,
    State,
    VisibilityTimeout,
)
from idlespec.taskqueue.budget import MAX_SLICE_MS, SliceBudget, did_timeout, time_remaining
from idlespec.taskqueue.timers import HostTimers


def make(**options: Any) -> tuple[EventLoop, IdleTaskQueue]:
    loop = EventLoop(freeze_global_clocks=False)
    return loop, IdleTaskQueue(loop.window, HostWindow(loop.window), **options)


class Log:
    """Handlers that record when they ran and what with."""

    def __init__(self, loop: EventLoop) -> None:
        self.loop = loop
        self.runs: list[tuple[str, float, tuple[Any, ...]]] = []

    def handler(
        self, name: str, cost: float = 0.0, fail: int = 0, result: Any = None
    ) -> Callable[..., Any]:
        """Spends ``cost`` ms; raises on its first ``fail`` calls; returns ``result``."""
        calls = [0]

        def run(*args: Any) -> Any:
            calls[0] += 1
            self.runs.append((name, self.loop.now, args))
            self.loop.busy(cost)
            if calls[0] <= fail:
                raise RuntimeError(f"{name} attempt {calls[0]}")
            return name if result is None else result

        return run

    def times(self, name: str) -> list[float]:
        return [t for n, t, _ in self.runs if n == name]

    @property
    def order(self) -> list[str]:
        return [n for n, _, _ in self.runs]


# Backoff ---------------------------------------------------------------------------------


def test_retries_follow_the_exact_backoff_schedule_then_the_task_is_dead() -> None:
    loop, q = make(backoff=Backoff(base=100, factor=2, cap=60_000, max_attempts=5))
    log = Log(loop)
    tid = q.enqueue(log.handler("a", fail=99), "data", key="k")
    loop.run()
    assert log.times("a") == [0.0, 100.0, 300.0, 700.0, 1500.0]
    (dead,) = q.dead_letters
    assert (dead.task_id, dead.data, dead.key) == (tid, "data", "k")
    assert [(e.attempt, e.at_ms) for e in dead.errors] == [
        (1, 0.0),
        (2, 100.0),
        (3, 300.0),
        (4, 700.0),
        (5, 1500.0),
    ]
    assert dead.errors[0].error == "RuntimeError: a attempt 1"
    assert isinstance(dead.errors[0].exception, RuntimeError)
    stats = q.stats()
    assert (stats.failed, stats.retried, stats.dead, stats.done) == (5, 4, 1, 0)
    assert stats.success_rate == 0.0
    assert q.task(tid).state is State.DEAD
    # A dead task's key is free again.
    assert q.enqueue(log.handler("again"), key="k") != tid


def test_the_backoff_delay_stops_at_the_cap() -> None:
    policy = Backoff(base=100, factor=10, cap=2500, max_attempts=5)
    assert policy.schedule() == [100, 1000, 2500, 2500]
    assert policy.delay(10_000) == 2500  # no float overflow after many failures
    loop, q = make(backoff=policy)
    log = Log(loop)
    q.enqueue(log.handler("a", fail=99))
    loop.run()
    assert log.times("a") == [0.0, 100.0, 1100.0, 3600.0, 6100.0]


def test_seeded_jitter_is_reproducible_and_never_later_than_the_schedule() -> None:
    def attempts(seed: int) -> list[float]:
        loop, q = make(backoff=Backoff(base=100, factor=2, max_attempts=6, jitter=0.5, seed=seed))
        log = Log(loop)
        q.enqueue(log.handler("a", fail=99))
        loop.run()
        return log.times("a")

    first, again, other = attempts(7), attempts(7), attempts(8)
    assert first == again
    assert first != other
    for times in (first, other):
        gaps = [b - a for a, b in itertools.pairwise(times)]
        for n, gap in enumerate(gaps, start=1):
            full = 100 * 2 ** (n - 1)
            # drawn from [delay / 2, delay]; the timer rounds up to whole ms
            assert full / 2 <= gap < full + 1


def test_jittered_delays_need_a_generator() -> None:
    with pytest.raises(ValueError, match="random generator"):
        Backoff(jitter=0.5).delay(1)
    with pytest.raises(ValueError, match="from 1"):
        Backoff().delay(0)


@pytest.mark.parametrize(
    "options",
    [
        {"base": -1},
        {"cap": -1},
        {"factor": 0.5},
        {"max_attempts": 0},
        {"jitter": 1.5},
        {"base": math.inf},
        {"factor": math.nan},
    ],
)
def test_backoff_rejects_nonsense(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Backoff"):
        Backoff(**options)


# FIFO, slices and deadlines ---------------------------------------------------------------


def animate(loop: EventLoop, frame_ms: float, frames: int) -> list[tuple[float, float]]:
    """A rAF loop of ``frames`` frames that each spend ``frame_ms``; (vsync, end) of each."""
    seen: list[tuple[float, float]] = []

    def frame(timestamp: float) -> None:
        loop.busy(frame_ms)
        seen.append((timestamp, loop.now))
        if len(seen) < frames:
            loop.window.request_animation_frame(frame)

    loop.window.request_animation_frame(frame)
    return seen


def test_fifo_under_tight_deadlines_and_no_frame_is_late() -> None:
    """Frames of 12 ms leave under 5 ms of idle time in each 16.7 ms: tasks of 1.5 ms still
    run in FIFO order, a few per frame, and never push a frame past its vsync budget."""
    slices: list[Slice] = []
    loop, q = make(on_slice=slices.append)
    log = Log(loop)
    frames = animate(loop, 12.0, 60)
    names = [f"t{i}" for i in range(40)]
    for name in names:
        q.enqueue(log.handler(name, cost=1.5))
    loop.run()
    assert log.order == names
    assert q.stats().done == 40
    interval = 1000 / 60
    assert all(end <= vsync + interval for vsync, end in frames)
    # Idle time is short, so work is spread over many idle callbacks.
    assert len(slices) >= 10
    assert all(s.tasks >= 1 and s.reason == "idle" for s in slices)


def test_a_slice_holds_to_the_deadline_it_first_read() -> None:
    """timeRemaining() moves on to the next frame once a vsync passed (the reference's
    render term follows the clock): the slice must not run on into the next frame."""
    slices: list[Slice] = []
    loop, q = make(on_slice=slices.append)
    animate(loop, 2.0, 30)
    log = Log(loop)
    for i in range(30):
        q.enqueue(log.handler(f"t{i}", cost=7.0))
    loop.run()
    # The deadline is at most one frame away: a slice may overrun it by one task, never
    # reach a second frame.
    assert max(s.end_ms - s.start_ms for s in slices) < 1000 / 60 + 7.0


def test_a_raising_task_never_stalls_the_queue() -> None:
    loop, q = make(backoff=Backoff(base=10, max_attempts=2))
    log = Log(loop)
    for i in range(10):
        q.enqueue(log.handler(f"t{i}", fail=2 if i % 3 == 0 else 0))
    loop.run()
    stats = q.stats()
    assert (stats.done, stats.dead, stats.pending, stats.in_flight) == (6, 4, 0, 0)
    assert [n for n in log.order if n not in ("t0", "t3", "t6", "t9")] == [
        "t1",
        "t2",
        "t4",
        "t5",
        "t7",
        "t8",
    ]
    assert sorted(d.task_id for d in q.dead_letters) == [1, 4, 7, 10]
    assert q.finished


def test_a_timed_out_callback_runs_for_its_budget_not_the_whole_queue() -> None:
    """A loop busy with back-to-back 5 ms tasks never idles: the timeout runs the queue,
    a frame's worth of tasks at a time (the MDN example would drain it at once)."""
    slices: list[Slice] = []
    loop, q = make(timeout=100, on_slice=slices.append)

    def chain() -> None:
        loop.busy(5)
        if loop.now < 1000:
            loop.queue_task(chain)

    loop.queue_task(chain)
    log = Log(loop)
    for i in range(20):
        q.enqueue(log.handler(f"t{i}", cost=4))
    loop.run()
    timed_out = [s for s in slices if s.reason == "timed-out"]
    assert timed_out
    assert timed_out[0].start_ms == 100.0
    # The default budget is one frame (1000 / 60 ms): at most five 4 ms tasks start in it.
    assert all(s.tasks <= math.ceil((1000 / 60) / 4) for s in timed_out)
    assert q.stats().done == 20


def test_timeout_none_requests_without_options() -> None:
    loop = EventLoop(freeze_global_clocks=False)
    window = loop.window
    seen: list[tuple[Any, ...]] = []

    class Recording:
        def request_idle_callback(self, *args: Any) -> Any:
            seen.append(args[1:])
            return window.request_idle_callback(*args)

        def cancel_idle_callback(self, handle: Any) -> None:
            window.cancel_idle_callback(handle)

    for timeout, expected in ((None, ()), (0, ()), (250, ({"timeout": 250},))):
        seen.clear()
        q = IdleTaskQueue(Recording(), HostWindow(window), timeout=timeout)
        q.enqueue(lambda data: None)
        loop.run()
        assert seen == [expected]
        assert q.stats().done == 1


# Idempotency ------------------------------------------------------------------------------


def test_a_key_that_is_pending_running_or_done_is_not_enqueued_again() -> None:
    loop, q = make()
    log = Log(loop)
    inner: list[int] = []

    def reentrant(data: Any) -> None:
        # While running, the key is taken too.
        inner.append(q.enqueue(log.handler("dup"), key="job"))

    first = q.enqueue(reentrant, key="job")
    assert q.enqueue(log.handler("dup"), key="job") == first  # pending
    loop.run()
    assert inner == [first]  # running
    assert q.enqueue(log.handler("dup"), key="job") == first  # done
    loop.run()
    assert "dup" not in log.order
    assert q.stats().total == 1


# Chains and batches -----------------------------------------------------------------------


def test_a_chain_starts_only_after_its_parent_succeeded_with_its_result() -> None:
    loop, q = make(backoff=Backoff(base=50))
    log = Log(loop)
    parent = q.enqueue(log.handler("parent", fail=2, result=41), "p")
    child = q.enqueue(log.handler("child"), "c", after=parent)
    grandchild = q.enqueue(log.handler("grandchild"), "g", after=child)
    assert q.task(child).state is State.BLOCKED
    loop.run()
    assert log.order == ["parent", "parent", "parent", "child", "grandchild"]
    parent_done = log.times("parent")[-1]
    assert log.times("child")[0] >= parent_done
    assert log.runs[3][2] == ("c", 41)
    assert log.runs[4][2] == ("g", "child")
    assert q.task(grandchild).result == "grandchild"
    # After a parent that is done already: ready at once, with its result.
    late = q.enqueue(log.handler("late"), "l", after=parent)
    loop.run()
    assert log.runs[-1][2] == ("l", 41)
    assert q.task(late).state is State.DONE


def test_when_a_parent_dies_its_chain_dies_with_it_and_never_runs() -> None:
    loop, q = make(backoff=Backoff(base=10, max_attempts=2))
    log = Log(loop)
    parent = q.enqueue(log.handler("parent", fail=9))
    child = q.enqueue(log.handler("child"), after=parent)
    grandchild = q.enqueue(log.handler("grandchild"), after=child)
    loop.run()
    assert log.order == ["parent", "parent"]
    assert [d.task_id for d in q.dead_letters] == [parent, child, grandchild]
    error = q.dead_letters[1].errors[0]
    assert error.attempt == 0
    assert isinstance(error.exception, ParentFailed)
    assert f"task {parent}" in error.error
    # After a parent that is dead already: dead at once.
    orphan = q.enqueue(log.handler("orphan"), after=parent)
    assert q.task(orphan).state is State.DEAD
    with pytest.raises(ValueError, match="no such task"):
        q.enqueue(log.handler("x"), after=999)


def test_a_batch_fans_out_and_is_done_when_every_item_is() -> None:
    loop, q = make()
    log = Log(loop)
    batch = q.enqueue_batch(lambda item: item * 10, [1, 2, 3], key="b")
    assert q.enqueue_batch(lambda item: item, [9], key="b") == batch
    after = q.enqueue(log.handler("after"), "x", after=batch)
    assert q.task(batch).state is State.FANNED_OUT
    loop.run()
    assert q.task(batch).state is State.DONE
    assert q.task(batch).result == [10, 20, 30]
    assert log.runs == [("after", log.runs[0][1], ("x", [10, 20, 30]))]
    assert q.task(after).state is State.DONE
    assert q.stats().total == 5  # the batch, its three items, the chained task
    with pytest.raises(ValueError, match="at least one item"):
        q.enqueue_batch(lambda item: item, [])


def test_a_batch_is_dead_as_soon_as_one_item_is_and_its_chain_dies() -> None:
    loop, q = make(backoff=Backoff(base=10, max_attempts=1))
    log = Log(loop)

    def item(value: int) -> int:
        log.runs.append(("item", loop.now, (value,)))
        if value == 2:
            raise ValueError("bad item")
        return value

    batch = q.enqueue_batch(item, [1, 2, 3])
    chained = q.enqueue(log.handler("chained"), after=batch)
    loop.run()
    assert [args for _, _, args in log.runs] == [(1,), (2,), (3,)]  # the others still run
    assert q.task(batch).state is State.DEAD
    assert q.task(chained).state is State.DEAD
    assert "chained" not in log.order
    assert "item, task 3, is dead" in q.task(batch).errors[-1].error


def test_a_chained_batch_passes_the_parent_result_to_every_item() -> None:
    loop, q = make()
    parent = q.enqueue(lambda data: 5)
    seen: list[tuple[Any, ...]] = []
    batch = q.enqueue_batch(lambda *args: seen.append(args), ["a", "b"], after=parent)
    loop.run()
    assert seen == [("a", 5), ("b", 5)]
    assert q.task(batch).state is State.DONE


# Recurring tasks and the rate limit -------------------------------------------------------


def test_a_recurring_task_runs_every_interval_on_idle_time() -> None:
    loop, q = make()
    log = Log(loop)
    schedule = q.every(100, log.handler("tick"), "d")
    loop.run(until=450)
    assert log.times("tick") == [100.0, 200.0, 300.0, 400.0]
    q.cancel_recurring(schedule)
    loop.run(until=1000)
    assert len(log.times("tick")) == 4
    with pytest.raises(ValueError, match="positive"):
        q.every(0, log.handler("x"))


def test_a_recurring_task_skips_while_its_last_run_is_unfinished_and_does_not_catch_up() -> None:
    loop, q = make(visibility_timeout_ms=10_000)
    acks: list[Ack] = []
    started: list[float] = []

    def slow(data: Any) -> Ack:
        started.append(loop.now)
        acks.append(Ack())
        return acks[-1]

    q.every(100, slow)
    loop.run(until=350)
    assert started == [100.0]  # 200 and 300 skipped: the first is still in flight
    acks[0].done()
    # A busy task from 350 to 850: the 400 occurrence runs late, 500 to 800 are not made
    # up, and 900 and 1000 are skipped while the 400 one is in flight.
    loop.queue_task(lambda: loop.busy(500))
    loop.run(until=1000)
    assert started == [100.0, 850.0]
    acks[1].done()
    loop.run(until=1150)
    assert started == [100.0, 850.0, 1100.0]
    q.close()
    loop.run(until=2000)
    assert len(started) == 3


def test_the_rate_limit_spaces_task_starts() -> None:
    loop, q = make(rate_limit=RateLimit(2, per_ms=100))
    log = Log(loop)
    for i in range(6):
        q.enqueue(log.handler(f"t{i}"))
    loop.run()
    assert log.order == [f"t{i}" for i in range(6)]
    assert [t for _, t, _ in log.runs] == [0.0, 0.0, 100.0, 100.0, 200.0, 200.0]


@pytest.mark.parametrize("options", [{"count": 0}, {"count": 1, "per_ms": 0}])
def test_rate_limit_rejects_nonsense(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="RateLimit"):
        RateLimit(**options)


# Acknowledgements and the visibility timeout ---------------------------------------------


def test_an_acknowledged_task_is_done_when_its_ack_says_so() -> None:
    loop, q = make()
    acks: list[Ack] = []

    def later(data: Any) -> Ack:
        ack = Ack()
        acks.append(ack)
        loop.window.set_timeout(lambda: ack.done(data * 2), 40)
        return ack

    tid = q.enqueue(later, 21)
    loop.run(until=10)
    assert q.task(tid).state is State.IN_FLIGHT
    assert q.stats().in_flight == 1
    loop.run()
    assert q.task(tid).result == 42
    assert acks[0].done("again") is False  # a second answer does not count
    assert q.stats().late_acks == 1


def test_an_unacknowledged_task_is_retried_and_its_late_ack_is_ignored() -> None:
    loop, q = make(visibility_timeout_ms=100, backoff=Backoff(base=10))
    acks: list[Ack] = []
    done: list[Any] = []

    def handler(data: Any) -> Ack:
        acks.append(Ack())
        return acks[-1]

    tid = q.enqueue(handler)
    loop.run(until=150)  # attempt 1 timed out at 100, attempt 2 started at 110
    assert len(acks) == 2
    assert acks[0].done("late") is False  # attempt 1 was already retried
    assert acks[1].done("on time") is True
    done.append(q.task(tid).result)
    assert acks[0].done("later still") is False
    loop.run()
    assert done == ["on time"]
    info = q.task(tid)
    assert (info.state, info.attempts, info.result) == (State.DONE, 2, "on time")
    assert isinstance(info.errors[0].exception, VisibilityTimeout)
    stats = q.stats()
    assert (stats.done, stats.late_acks, stats.failed) == (1, 2, 1)


def test_an_ack_that_fails_retries_and_one_answered_before_returning_counts() -> None:
    loop, q = make(backoff=Backoff(base=10))
    calls: list[int] = []

    def handler(data: Any) -> Ack:
        calls.append(1)
        ack = Ack()
        if len(calls) == 1:
            assert ack.fail(RuntimeError("nope")) is True  # answered before it is returned
            assert ack.done() is False  # only the first answer counts
        else:
            assert ack.done("second") is True
        return ack

    tid = q.enqueue(handler)
    loop.run()
    info = q.task(tid)
    assert (info.state, info.attempts, info.result) == (State.DONE, 2, "second")
    assert info.errors[0].error == "RuntimeError: nope"


def test_an_ack_returned_by_two_tasks_fails_the_second() -> None:
    loop, q = make(backoff=Backoff(max_attempts=1))
    shared = Ack()
    first = q.enqueue(lambda data: shared)
    second = q.enqueue(lambda data: shared)
    loop.run(until=5)
    assert q.task(first).state is State.IN_FLIGHT
    assert q.task(second).state is State.DEAD
    assert "another task or attempt" in q.task(second).errors[0].error
    assert shared.done("x") is True
    assert q.task(first).result == "x"


# Stats and metrics ------------------------------------------------------------------------


def test_stats_count_every_state() -> None:
    loop, q = make(backoff=Backoff(base=1000))
    assert q.stats().success_rate is None
    assert q.stats().mean_latency_ms is None
    log = Log(loop)
    q.enqueue(log.handler("ok", cost=10))
    q.enqueue(log.handler("fails", fail=1))
    blocked = q.enqueue(log.handler("blocked"), after=2)
    assert q.stats().queue_length == 2
    loop.run(until=100)
    stats = q.stats()
    assert (stats.total, stats.done, stats.pending, stats.failed, stats.retried) == (3, 1, 2, 1, 1)
    assert stats.mean_latency_ms == 10.0
    assert stats.success_rate == 1.0
    assert stats.idle_callbacks == 1
    assert q.task(blocked).state is State.BLOCKED
    loop.run()
    assert q.stats().as_dict()["done"] == 3
    with pytest.raises(KeyError):
        q.task(99)


_SAMPLE = re.compile(r'^([a-z_]+)(\{[a-z_]+="[^"]*"\})? (NaN|-?[0-9.e+]+)$')


def parse_exposition(text: str) -> dict[str, float]:
    """Strictly parse the text format; samples by name and labels."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            assert len(line.split(" ", 3)) == 4
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram")
            assert name not in types
            types[name] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, line
            name, labels, value = match.groups()
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            kind = types.get(name) or types[family]
            if kind == "counter":
                assert name.endswith("_total")
            samples[name + (labels or "")] = float(value)
    return samples


def test_metrics_are_in_the_prometheus_text_format_and_match_stats() -> None:
    loop, q = make(backoff=Backoff(base=10, max_attempts=2))
    before = parse_exposition(q.metrics())
    assert math.isnan(before["idle_task_queue_success_ratio"])
    log = Log(loop)
    q.enqueue(log.handler("fast"))
    q.enqueue(log.handler("slow", cost=200))
    q.enqueue(log.handler("dies", fail=9))
    loop.run()
    samples = parse_exposition(q.metrics(prefix="jobs"))
    stats = q.stats()
    assert samples["jobs_tasks_enqueued_total"] == stats.total == 3
    assert samples["jobs_tasks_done_total"] == 2
    assert samples["jobs_tasks_dead_total"] == 1
    assert samples["jobs_attempts_failed_total"] == 2
    assert samples["jobs_retries_total"] == 1
    assert samples['jobs_tasks{state="pending"}'] == 0
    assert samples["jobs_success_ratio"] == pytest.approx(2 / 3)
    buckets = [
        v for k, v in samples.items() if k.startswith("jobs_task_latency_milliseconds_bucket")
    ]
    assert buckets == sorted(buckets)  # cumulative
    assert samples['jobs_task_latency_milliseconds_bucket{le="1"}'] == 1  # the fast one
    assert samples['jobs_task_latency_milliseconds_bucket{le="+Inf"}'] == 2
    assert samples["jobs_task_latency_milliseconds_count"] == 2
    assert samples["jobs_task_latency_milliseconds_sum"] == 200


# Handlers ---------------------------------------------------------------------------------


def test_handlers_by_name() -> None:
    loop, q = make(handlers={"double": lambda x: 2 * x})
    tid = q.enqueue("double", 4)
    loop.run()
    assert q.task(tid).result == 8
    assert q.name_of(None) is None
    with pytest.raises(ValueError, match="no handler is registered as 'nope'"):
        q.enqueue("nope")
    with pytest.raises(TypeError, match="callable"):
        q.enqueue(42)  # type: ignore[arg-type]


# Flawed candidates: nothing lost ---------------------------------------------------------


class _Deadline:
    def __init__(self, remaining: Any, timed_out: Any = False) -> None:
        self._remaining = remaining
        self.did_timeout = timed_out

    def time_remaining(self) -> Any:
        return self._remaining


class FlawedBinding:
    """A binding over the reference window with one flaw (see each branch)."""

    def __init__(self, window: Window, flaw: str) -> None:
        self.window = window
        self.flaw = flaw
        self.requests = 0
        self.cancels: list[Any] = []
        self.depth = 0
        self.max_depth = 0

    def request_idle_callback(self, callback: Callable[..., Any], options: Any = None) -> Any:
        self.requests += 1
        if self.flaw == "throws":
            raise RuntimeError("requestIdleCallback is broken")
        if self.flaw == "never" or (self.flaw == "drops-every-other" and self.requests % 2):
            return self.requests
        if self.flaw == "synchronous":
            # Called inside the request, as npm:ric@1.3.0 does.
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)
            callback(_Deadline(300.0))
            self.depth -= 1
            return None
        if self.flaw == "twice":

            def both(deadline: Any) -> None:
                callback(deadline)
                callback(deadline)

            return self.window.request_idle_callback(both, options)
        if self.flaw == "no-argument":
            return self.window.set_timeout(callback, 1)
        deadlines = {
            "unreadable": _Unreadable(),
            "endless": _Deadline(math.inf),
            "nan": _Deadline(math.nan),
            "boolean": _Deadline(True, timed_out="yes"),
        }
        return self.window.set_timeout(lambda: callback(deadlines[self.flaw]), 1)

    def cancel_idle_callback(self, handle: Any) -> None:
        self.cancels.append(handle)
        raise RuntimeError("cancelIdleCallback is broken too")


class _Unreadable:
    def time_remaining(self) -> float:
        raise TypeError("timeRemaining is not a function")

    @property
    def did_timeout(self) -> bool:
        raise TypeError("no didTimeout")


FLAWS = [
    "throws",
    "never",
    "drops-every-other",
    "synchronous",
    "twice",
    "no-argument",
    "unreadable",
    "endless",
    "nan",
    "boolean",
]


@pytest.mark.parametrize("flaw", FLAWS)
def test_nothing_is_lost_or_run_twice_on_a_flawed_binding(flaw: str) -> None:
    loop = EventLoop(freeze_global_clocks=False)
    binding = FlawedBinding(loop.window, flaw)
    slices: list[Slice] = []
    q = IdleTaskQueue(
        binding,
        HostWindow(loop.window),
        timeout=100,
        backoff=Backoff(base=10),
        on_slice=slices.append,
    )
    log = Log(loop)
    names = [f"t{i}" for i in range(12)]
    for i, name in enumerate(names):
        q.enqueue(log.handler(name, cost=3, fail=1 if i == 5 else 0))
    loop.run(until=20_000)
    assert q.finished
    assert Counter(log.order) == Counter({**dict.fromkeys(names, 1), "t5": 2})
    assert [n for n in log.order if n != "t5"] == [n for n in names if n != "t5"]
    assert max(s.end_ms - s.start_ms for s in slices) <= MAX_SLICE_MS + 3
    rescued = q.stats().rescued
    if flaw in ("throws", "never", "drops-every-other"):
        assert rescued > 0
        assert binding.cancels  # the queue cancelled what it rescued (and survived the raise)
        assert {s.reason for s in slices} >= {"rescue"}
    else:
        assert rescued == 0
    if flaw == "synchronous":
        assert binding.max_depth == 1  # never a slice inside a request inside a slice
    if flaw in ("unreadable", "nan", "boolean", "no-argument"):
        # An unreadable deadline reads as no time left: one task per callback.
        assert all(s.tasks == 1 for s in slices)


def test_close_cancels_the_request_and_keeps_the_tasks() -> None:
    loop = EventLoop(freeze_global_clocks=False)
    binding = FlawedBinding(loop.window, "never")
    q = IdleTaskQueue(binding, HostWindow(loop.window), timeout=100)
    q.enqueue(lambda data: None)
    q.close()
    assert binding.cancels == [1]
    q.close()  # twice is harmless
    loop.run()
    assert q.stats().pending == 1
    assert binding.requests == 1
    q.enqueue(lambda data: None)
    assert binding.requests == 1  # closed: nothing more is requested


def test_a_handler_that_closes_the_queue_ends_the_slice() -> None:
    loop, q = make()
    log = Log(loop)
    q.enqueue(lambda data: q.close())
    q.enqueue(log.handler("after"))
    loop.run()
    assert log.order == []
    assert q.stats().pending == 1


# The pieces ------------------------------------------------------------------------------


def test_deadline_readings_survive_anything() -> None:
    assert time_remaining(_Deadline(12.5)) == 12.5
    assert time_remaining(_Deadline(7)) == 7.0
    for bad in (True, "10", None, math.nan):
        assert time_remaining(_Deadline(bad)) == 0.0
    assert time_remaining(_Unreadable()) == 0.0
    assert time_remaining(object()) == 0.0
    assert did_timeout(_Deadline(0, True)) is True
    for flag in (1, "true", None):
        assert did_timeout(_Deadline(0, flag)) is False
    assert did_timeout(_Unreadable()) is False


def test_a_slice_budget_only_ever_shrinks() -> None:
    now = [0.0]
    deadline = _Deadline(10.0)
    budget = SliceBudget(lambda: now[0], deadline, 5.0)
    now[0] = 9.0
    deadline._remaining = 30.0  # the deadline moved later: ignored
    assert budget.allows_another()
    now[0] = 10.0
    assert not budget.allows_another()
    rescue = SliceBudget(lambda: now[0], None, 5.0)
    assert rescue.timed_out
    now[0] = 14.0
    assert rescue.allows_another()
    now[0] = 15.0
    assert not rescue.allows_another()


class CountingHost(HostWindow):
    def __init__(self, window: Window) -> None:
        super().__init__(window)
        self.delays: list[object] = []

    def set_timeout(self, callback: Callable[[], object], delay: object = 0) -> int:
        self.delays.append(delay)
        return super().set_timeout(callback, delay)


def test_host_timers_set_a_timer_only_when_an_action_is_due_before_every_timer_set() -> None:
    loop = EventLoop(freeze_global_clocks=False)
    host = CountingHost(loop.window)
    timers = HostTimers(host)
    fired: list[tuple[str, float]] = []
    timers.at(100, lambda: fired.append(("a", loop.now)))
    timers.at(150, lambda: fired.append(("b", loop.now)))  # after a timer set: none new
    timers.at(50.2, lambda: fired.append(("c", loop.now)))  # before it: a new one, rounded up
    timers.at(-5, lambda: fired.append(("d", loop.now)))  # in the past: at once
    assert host.delays == [100, 51, 0]
    loop.run()
    assert fired == [("d", 0.0), ("c", 51.0), ("a", 100.0), ("b", 150.0)]
    assert host.delays == [100, 51, 0, 50]


# Saving and restoring --------------------------------------------------------------------


class ReloadWorld:
    """The handlers of the reload test, and a page that registers them."""

    def __init__(self) -> None:
        self.done: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.acks: list[Ack] = []

    def work(self, data: str, parent: Any = None) -> str:
        self.calls[data] += 1
        if data in ("b2", "gate") and self.calls[data] == 1:
            raise RuntimeError("first attempt fails")
        self.done[data] += 1
        return data if parent is None else f"{data} after {parent}"

    def pending_ack(self, data: str) -> Ack:
        self.acks.append(Ack())
        return self.acks[-1]

    def broken(self, data: str) -> None:
        raise RuntimeError("always")

    def page(self) -> tuple[EventLoop, IdleTaskQueue]:
        loop = EventLoop(freeze_global_clocks=False)
        queue = IdleTaskQueue(
            loop.window,
            HostWindow(loop.window),
            backoff=Backoff(base=400, max_attempts=2),
            handlers={"work": self.work, "ack": self.pending_ack, "broken": self.broken},
        )
        return loop, queue


def test_a_reloaded_page_loses_nothing_and_runs_nothing_twice() -> None:
    world = ReloadWorld()
    page, done, acks = world.page, world.done, world.acks
    old_loop, old = page()
    first = old.enqueue("work", "first", key="first")
    in_flight = old.enqueue("ack", "in-flight")
    dead = old.enqueue("broken", "dead", key="dead-key")
    old.every(1000, "work", "tick")
    old_loop.run(until=500)  # first done; broken dead at 400; the ack unanswered
    batch = old.enqueue_batch("work", ["b1", "b2"])
    gate = old.enqueue("work", "gate")
    blocked = old.enqueue("work", "blocked", after=gate)
    old_loop.run(until=700)  # b1 done; b2 and gate failed once, retried at 900
    late = old.enqueue("work", "late", key="late")  # ready, not run yet
    chained = old.enqueue("work", "chained", after=first)  # ready, with its parent's result
    assert [old.task(t).state for t in (in_flight, batch, gate, blocked, late)] == [
        State.IN_FLIGHT,
        State.FANNED_OUT,
        State.WAITING,
        State.BLOCKED,
        State.READY,
    ]
    state = json.loads(json.dumps(old.save()))  # JSON all the way
    assert state["done"] == {str(batch + 1): {"result": "b1"}}  # what the batch still needs
    old.close()

    new_loop, new = page()
    new_loop.run(until=5)  # the new page's clock starts again
    new.restore(state)
    assert new.enqueue("work", "first", key="first") == first  # done keys survive
    assert new.enqueue("work", "late", key="late") == late  # and pending ones
    assert [d.task_id for d in new.dead_letters] == [dead]
    assert new.dead_letters[0].errors[-1].error == "RuntimeError: always"
    assert new.task(in_flight).attempts == 0  # the in-flight attempt is given back
    new_loop.run(until=200)  # late and the in-flight task ran again at 5
    assert acks[-1].done("acked on the new page") is True
    new_loop.run(until=1000)  # b2 and gate retried at 205 (the 200 ms left), tick at 305
    new.close()
    assert done == Counter(
        {"first": 1, "b1": 1, "b2": 1, "gate": 1, "blocked": 1, "late": 1, "chained": 1, "tick": 1}
    )
    assert new.task(chained).result == "chained after first"
    assert new.task(batch).result == ["b1", "b2"]
    assert new.task(blocked).result == "blocked after gate"
    assert new.task(in_flight).result == "acked on the new page"
    assert new.finished
    assert new.stats().total == old.stats().total + 1  # the tick is the only new task
    assert new.enqueue("work", "fresh") == old.stats().total + 2  # ids go on


def test_a_reloaded_page_keeps_its_rate_window() -> None:
    def page() -> tuple[EventLoop, IdleTaskQueue, Log]:
        loop = EventLoop(freeze_global_clocks=False)
        log = Log(loop)
        queue = IdleTaskQueue(
            loop.window,
            HostWindow(loop.window),
            rate_limit=RateLimit(2, per_ms=1000),
            handlers={"h": log.handler("h")},
        )
        return loop, queue, log

    old_loop, old, _ = page()
    for _ in range(3):
        old.enqueue("h")
    old_loop.run(until=100)
    state = old.save()
    assert state["rate_window_ago_ms"] == [100.0, 100.0]
    new_loop, new, log = page()
    new.restore(state)
    new_loop.run()
    assert log.times("h") == [900.0]  # the window the old page opened ends 900 ms later


def test_save_refuses_what_cannot_be_restored() -> None:
    q = make()[1]
    q.enqueue(lambda data: None)
    with pytest.raises(ValueError, match="not registered"):
        q.save()
    q = make(handlers={"h": lambda data: None})[1]
    q.enqueue("h", {1, 2})
    with pytest.raises(TypeError, match="task 1's data is not JSON"):
        q.save()
    q = make(handlers={"h": lambda data: None})[1]
    q.every(10, lambda data: None)
    with pytest.raises(ValueError, match="schedule 1's handler"):
        q.save()


def test_restore_refuses_a_used_queue_a_foreign_state_and_missing_handlers() -> None:
    q = make(handlers={"h": lambda data: None})[1]
    q.enqueue("h")
    state = q.save()
    with pytest.raises(ValueError, match="new queue"):
        q.restore(state)
    fresh = make()[1]
    with pytest.raises(ValueError, match="not a saved queue state"):
        fresh.restore({"format": "something else"})
    with pytest.raises(ValueError, match="not registered: h"):
        fresh.restore(state)
