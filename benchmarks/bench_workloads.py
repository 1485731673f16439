"""Timed workloads for the benchmark suite: idlespec, its baselines and its peers.

Every function here builds its structure, then times only the work it names with
:func:`cpu_clock`, read outside any ``loop.run()``. Time is virtual for semantics
everywhere: the idlespec loop jumps its clock, asyncio runs on :class:`VirtualTimeLoop` (its
selector never waits; it moves the loop's clock instead) and trio on
``trio.testing.MockClock(autojump_threshold=0)``, so nothing sleeps and a timer 1 000 s
away costs what one 1 ms away costs. Since nothing waits, the real time a workload takes is
the CPU time of this process; the wall clock would also count the time other processes held
the CPU, which on a shared two-core machine is most of the noise.

Per-callback workloads return ``(post, run)``: microseconds per item spent posting the items
and then running the loop until every one of them ran. Memory workloads return bytes
(tracemalloc) and GC-tracked objects per pending item.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import random
import selectors
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from typing import Any

from idlespec.reference import EventLoop, GlobalClockFollower, IdleDeadline

PerCallback = tuple[float, float]

#: The clock of every in-process workload: CPU seconds of this process (user + system, the
#: system calls of asyncio's selector included). Not one of the clocks freezegun fakes.
cpu_clock = time.process_time

#: The options of the "with a timeout" measures: long enough that every callback runs in
#: the first idle period, so the timeout is pure overhead (its wait expires, finds nothing).
TIMEOUT_OPTIONS = {"timeout": 1000}


def _per_item(t0: float, t1: float, t2: float, n: int) -> PerCallback:
    return (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6


# -- idlespec ------------------------------------------------------------------------------


def ric(n: int, options: dict[str, int] | None = None) -> PerCallback:
    """rIC request ``n`` times on a quiet loop, then ``loop.run()`` invoking them all.

    They all run in the first idle period (one invoke task and one IdleDeadline each); with
    ``options`` the loop then also runs each expired timeout's task, which finds nothing.
    As benchmarks/bench_reference.py measures it, on the CPU clock.
    """
    loop = EventLoop()
    window = loop.window
    ran = [0]

    def callback(deadline: IdleDeadline) -> None:
        ran[0] += 1

    request = window.request_idle_callback
    gc.collect()
    t0 = cpu_clock()
    for _ in range(n):
        request(callback, options)
    t1 = cpu_clock()
    loop.run()
    t2 = cpu_clock()
    assert ran[0] == n and loop.now == (0.0 if options is None else options["timeout"])
    return _per_item(t0, t1, t2, n)


def ric_timeout(n: int) -> PerCallback:
    """The same with ``{timeout: 1000}``: each callback also races a timeout wait."""
    return ric(n, TIMEOUT_OPTIONS)


def set_timeout(n: int) -> PerCallback:
    """``set_timeout`` with distinct delays 1..n ms, then ``loop.run()`` firing every one."""
    loop = EventLoop()
    window = loop.window
    ran = [0]

    def callback() -> None:
        ran[0] += 1

    post = window.set_timeout
    gc.collect()
    t0 = cpu_clock()
    for delay in range(1, n + 1):
        post(callback, delay)
    t1 = cpu_clock()
    loop.run()
    t2 = cpu_clock()
    assert ran[0] == n and loop.now == n, (ran[0], loop.now)
    return _per_item(t0, t1, t2, n)


def windows(count: int, total: int) -> float:
    """Microseconds per callback: ``count`` windows, one self-reposting callback each.

    Every window's callback reposts itself until ``total`` callbacks ran in all, so each
    run of a callback also costs its window an idle period; the work per callback is the
    same whatever ``count`` is, which is what makes 1 window a fair baseline for 1 000.
    """
    loop = EventLoop()
    wins = [loop.window] + [loop.open_window() for _ in range(count - 1)]
    runs_each = total // count
    counts = [0] * count

    def make(i: int) -> Callable[[IdleDeadline], None]:
        win = wins[i]

        def again(deadline: IdleDeadline) -> None:
            counts[i] += 1
            if counts[i] < runs_each:
                win.request_idle_callback(again)

        return again

    firsts = [make(i) for i in range(count)]
    gc.collect()
    t0 = cpu_clock()
    for win, first in zip(wins, firsts, strict=True):
        win.request_idle_callback(first)
    loop.run()
    t1 = cpu_clock()
    assert counts == [runs_each] * count
    return (t1 - t0) / (runs_each * count) * 1e6


def cancel_samples(n: int, k: int, repeats: int, seed: int = 12) -> tuple[list[float], list[float]]:
    """Microseconds per ``cancel_idle_callback`` and per plain ``dict.pop``, ``n`` pending.

    Each repeat cancels ``k`` handles drawn at random among the ``n`` pending (cancels come
    in no particular order in real code), on the reference window and, interleaved, pops
    the same keys from a plain dict of ``n`` entries: the dict is the floor any handle
    lookup pays, cache misses at a million entries included. When ``k * repeats`` would
    take more than a tenth of the pending items away, both are rebuilt for each repeat.
    """
    rng = random.Random(seed)
    ric_us: list[float] = []
    pop_us: list[float] = []

    def callback(deadline: IdleDeadline) -> None:
        pass

    def build() -> tuple[EventLoop, dict[int, Callable[[IdleDeadline], None]]]:
        loop = EventLoop()
        request = loop.window.request_idle_callback
        for _ in range(n):
            request(callback)
        return loop, {h: callback for h in range(1, n + 1)}

    rebuild = k * repeats * 10 > n
    draws = rng.sample(range(1, n + 1), k if rebuild else k * repeats)
    loop, plain = build()
    for r in range(repeats):
        if rebuild and r:
            del loop, plain
            gc.collect()
            loop, plain = build()
        handles = draws if rebuild else draws[r * k : (r + 1) * k]
        cancel = loop.window.cancel_idle_callback
        pop = plain.pop
        gc.collect()
        t0 = cpu_clock()
        for handle in handles:
            cancel(handle)
        t1 = cpu_clock()
        for handle in handles:
            pop(handle, None)
        t2 = cpu_clock()
        ric_us.append((t1 - t0) / k * 1e6)
        pop_us.append((t2 - t1) / k * 1e6)
    pending = loop.window.list_of_idle_request_callbacks
    assert len(pending) == len(plain) == n - (k if rebuild else k * repeats)
    return ric_us, pop_us


def freezegun_start_stop_ms(repeats: int = 7) -> float:
    """Milliseconds to start and stop the global-clock freeze, as each ``loop.run()`` does.

    freezegun walks every loaded module at both ends, so this grows with what the process
    has imported; measured here, in the benchmark's own process.
    """
    best = float("inf")
    for _ in range(repeats):
        t0 = cpu_clock()
        with GlobalClockFollower():
            pass
        best = min(best, cpu_clock() - t0)
    return best * 1e3


# -- the baseline ------------------------------------------------------------------------------


def baseline(n: int) -> PerCallback:
    """dict+deque+call: the least a FIFO of cancellable callbacks can do.

    Request: a call that increments a handle counter, stores the callback under its handle
    (what cancel needs) and appends the handle to a deque (posting order); invoke: pop each
    handle, look its callback up, call it with a deadline object. No clock, no deadline
    computation, no task: the floor the rIC measures are divided by.
    """
    pending: dict[int, Callable[[object], None]] = {}
    order: deque[int] = deque()
    counter = [0]
    ran = [0]

    def callback(deadline: object) -> None:
        ran[0] += 1

    def request(cb: Callable[[object], None]) -> int:
        counter[0] += 1
        handle = counter[0]
        pending[handle] = cb
        order.append(handle)
        return handle

    deadline = object()
    gc.collect()
    t0 = cpu_clock()
    for _ in range(n):
        request(callback)
    t1 = cpu_clock()
    while order:
        cb = pending.pop(order.popleft(), None)
        if cb is not None:
            cb(deadline)
    t2 = cpu_clock()
    assert ran[0] == n
    return _per_item(t0, t1, t2, n)


# -- asyncio ---------------------------------------------------------------------------------


class _JumpingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """A selector that polls (timeout 0) and moves the loop's clock by the timeout instead."""

    def __init__(self, clock: list[float]) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is not None and timeout > 0:
            self._clock[0] += timeout
        return super().select(0)  # type: ignore[no-any-return]


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """asyncio's own selector loop on a virtual clock: ``call_later`` never sleeps.

    Everything asyncio does per iteration stays (the timer heap, the ready deque, one
    ``select`` system call); only the wait is replaced by a jump of ``time()``.
    """

    def __init__(self) -> None:
        self._virtual_now = [0.0]
        super().__init__(selector=_JumpingSelector(self._virtual_now))

    def time(self) -> float:
        """The loop's virtual time, seconds."""
        return self._virtual_now[0]


def asyncio_call_soon(n: int) -> PerCallback:
    """``loop.call_soon(cb, arg)`` ``n`` times, then ``run_forever`` until a final stop."""
    loop = asyncio.new_event_loop()
    ran = [0]

    def callback(deadline: object) -> None:
        ran[0] += 1

    post = loop.call_soon
    try:
        gc.collect()
        t0 = cpu_clock()
        for _ in range(n):
            post(callback, None)
        post(loop.stop)
        t1 = cpu_clock()
        loop.run_forever()
        t2 = cpu_clock()
    finally:
        loop.close()
    assert ran[0] == n
    return _per_item(t0, t1, t2, n)


def asyncio_call_later(n: int) -> PerCallback:
    """``loop.call_later`` with distinct delays 1..n ms on :class:`VirtualTimeLoop`."""
    loop = VirtualTimeLoop()
    ran = [0]

    def callback() -> None:
        ran[0] += 1
        if ran[0] == n:
            loop.stop()

    post = loop.call_later
    try:
        gc.collect()
        t0 = cpu_clock()
        for delay in range(1, n + 1):
            post(delay / 1000, callback)
        t1 = cpu_clock()
        loop.run_forever()
        t2 = cpu_clock()
    finally:
        loop.close()
    assert ran[0] == n and abs(loop.time() - n / 1000) < 1e-6, (ran[0], loop.time())
    return _per_item(t0, t1, t2, n)


# -- trio ------------------------------------------------------------------------------------


def trio_available() -> str | None:
    """None if trio imports, else why not."""
    try:
        import trio  # noqa: F401, PLC0415 - an optional peer
    except ImportError as error:
        return f"trio is not installed ({error}); `pip install trio` (tox -e bench has it)"
    return None


def trio_run_sync_soon(n: int) -> PerCallback:
    """trio's ``TrioToken.run_sync_soon(cb, arg)`` ``n`` times, then wait for the last."""
    import trio  # noqa: PLC0415 - an optional peer
    import trio.lowlevel  # noqa: PLC0415

    out: list[PerCallback] = []

    async def main() -> None:
        token = trio.lowlevel.current_trio_token()
        done = trio.Event()
        ran = [0]

        def callback(deadline: object) -> None:
            ran[0] += 1
            if ran[0] == n:
                done.set()

        post = token.run_sync_soon
        gc.collect()
        t0 = cpu_clock()
        for _ in range(n):
            post(callback, None)
        t1 = cpu_clock()
        await done.wait()
        t2 = cpu_clock()
        out.append(_per_item(t0, t1, t2, n))

    trio.run(main)
    return out[0]


def trio_mock_clock_sleep(n: int) -> PerCallback:
    """``n`` trio tasks sleeping distinct delays 1..n ms on ``MockClock`` (autojump)."""
    import trio  # noqa: PLC0415 - an optional peer
    import trio.testing  # noqa: PLC0415

    out: list[PerCallback] = []

    async def main() -> None:
        ran = [0]

        async def sleeper(delay: float) -> None:
            await trio.sleep(delay)
            ran[0] += 1

        gc.collect()
        t0 = cpu_clock()
        async with trio.open_nursery() as nursery:
            for delay in range(1, n + 1):
                nursery.start_soon(sleeper, delay / 1000)
            t1 = cpu_clock()
        t2 = cpu_clock()
        assert ran[0] == n and abs(trio.current_time() - n / 1000) < 1e-6
        out.append(_per_item(t0, t1, t2, n))

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    return out[0]


# -- memory ----------------------------------------------------------------------------------

Poster = Callable[[int], object]


def pending_memory(setup: Callable[[], Poster], n: int) -> tuple[float, float]:
    """Bytes (tracemalloc) and GC-tracked objects per pending item.

    ``setup()`` builds the scheduler (not counted) and returns a function posting ``n``
    items; what that allocates and keeps, divided by ``n``, is the cost of a pending item.
    """
    post = setup()
    gc.collect()
    objects_before = len(gc.get_objects())
    tracemalloc.start()
    try:
        keep = post(n)
        traced = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    objects_after = len(gc.get_objects())
    close = getattr(keep, "close", None)
    if close is not None:
        close()  # an asyncio loop
    del keep, post
    gc.collect()
    return traced / n, (objects_after - objects_before) / n


def _noop(*args: object) -> None:
    pass


def ric_poster(options: dict[str, int] | None = None) -> Callable[[], Poster]:
    """rIC requests on a fresh loop (with ``options``), never run."""

    def setup() -> Poster:
        loop = EventLoop()
        request = loop.window.request_idle_callback

        def post(n: int) -> object:
            for _ in range(n):
                request(_noop, options)
            return loop

        return post

    return setup


def set_timeout_poster() -> Poster:
    """``set_timeout`` with distinct delays on a fresh loop, never run."""
    loop = EventLoop()
    post_one = loop.window.set_timeout

    def post(n: int) -> object:
        for delay in range(1, n + 1):
            post_one(_noop, delay)
        return loop

    return post


def baseline_poster(with_heap: bool = False) -> Callable[[], Poster]:
    """The dict+deque baseline's pending state (plus a heap entry per timeout)."""

    def setup() -> Poster:
        pending: dict[int, Callable[..., None]] = {}
        order: deque[int] = deque()
        heap: list[tuple[float, int]] = []

        def post(n: int) -> object:
            for handle in range(1, n + 1):
                pending[handle] = _noop
                order.append(handle)
                if with_heap:
                    heapq.heappush(heap, (1000.0, handle))
            return pending, order, heap

        return post

    return setup


def call_later_poster() -> Poster:
    """asyncio ``call_later`` with distinct delays on a loop that is never run."""
    loop = VirtualTimeLoop()

    def post(n: int) -> object:
        for delay in range(1, n + 1):
            loop.call_later(delay / 1000, _noop)
        return loop

    return post
