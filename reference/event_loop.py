"""The reference host: a deterministic window event loop on a virtual clock.

It models the subset of HTML's event loop (``webappapis.html#event-loop-processing-model``)
that ``requestIdleCallback`` depends on: task queues per task source, a microtask checkpoint
after each callback and task, timers ("run steps after a timeout"), animation frames and
rendering opportunities, several same-loop windows with a fully-active flag each, exception
reporting, and step 5, which starts idle periods when no task is runnable.

What runs "in parallel" in the specs (timer waits, rIC timeout waits, rendering
opportunities) is kept as events on the virtual clock: whenever the loop looks for work it
first completes every such event whose time has come, in time order. When nothing is
runnable and step 5 has nothing new to do, the loop jumps the clock to the next event
(nothing ever spins at a fixed instant, and nothing sleeps).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from .clock import VirtualClock
from .freeze import GlobalClockFollower, active_follower
from .html_event_loop import start_idle_periods
from .html_rendering import update_the_rendering
from .idle import invoke_idle_callback_timeout
from .policy import Policy
from .tasks import DEFAULT_TASK_SOURCE, IDLE_TASK_SOURCE, RENDERING_TASK_SOURCE, Task, TaskQueues
from .window import Window

_EPSILON = 1e-9


class TaskBudgetExceeded(RuntimeError):
    """``EventLoop.run(max_tasks=n)`` was about to run task n + 1."""


class _TimerWait:
    """The in-parallel part of one "run steps after a timeout" (HTML step 4)."""

    __slots__ = ("completion_steps", "due", "entry", "key", "remaining", "window")

    def __init__(
        self, window: Window, key: int, due: float, completion_steps: Callable[[], None]
    ) -> None:
        self.window = window
        self.key = key
        self.due = due
        self.remaining = 0.0
        self.entry = -1  # seq of its live heap entry; -1 while paused
        self.completion_steps = completion_steps


# The loop's heap of in-parallel waits, in expiry order, holds two kinds of entry:
#   (due, seq, wait)                  a timer's wait (a _TimerWait), and
#   (due, tie, window index, handle)  requestIdleCallback step 6's wait for one handle,
# where seq and tie are unique, so no comparison looks past them. The second kind is a
# tuple of numbers only, which the garbage collector stops tracking: there is one per
# pending callback with a timeout.
_WaitEntry = tuple[float, int, _TimerWait] | tuple[float, int, int, int]


class EventLoop:
    """A window event loop with its same-loop windows, driven by a :class:`VirtualClock`.

    Args:
        policy: the reference's choices for the spec's freedoms (default ``Policy()``).
        refresh_rate: overrides ``policy.refresh_rate`` (vsyncs per second).
        clock: the virtual clock the loop reads and moves (default: a new one at 0); trio's
            injected ``Clock`` is the model.
        freeze_global_clocks: while :meth:`run` runs, make ``time.monotonic`` and friends
            follow the virtual clock (see :mod:`idlespec.reference.freeze`). If a
            :class:`GlobalClockFollower` is already active, it is pointed at this loop's
            clock instead of starting another.
    """

    def __init__(
        self,
        policy: Policy | None = None,
        refresh_rate: float | None = None,
        *,
        clock: VirtualClock | None = None,
        freeze_global_clocks: bool = True,
    ) -> None:
        policy = policy if policy is not None else Policy()
        if refresh_rate is not None:
            policy = replace(policy, refresh_rate=refresh_rate)
        self.policy = policy
        self.clock = clock if clock is not None else VirtualClock()
        self.freeze_global_clocks = freeze_global_clocks
        #: HTML #last-idle-period-start-time (R-43).
        self.last_idle_period_start_time = 0.0
        #: The task being run now, if any.
        self.current_task: Task | None = None
        #: How many tasks this loop has run, over all its runs.
        self.tasks_run = 0
        self._windows: list[Window] = []
        self._queues = TaskQueues(policy.task_selection)
        self._microtasks: deque[tuple[Callable[[], object], Window]] = deque()
        self._performing_microtask_checkpoint = False
        self._seq = 0
        self._timer_key = 0
        # In-parallel waits, (due, tie, seq, wait): timers and rIC timeouts in expiry order.
        self._waits: list[_WaitEntry] = []
        self._timer_waits: dict[int, dict[int, _TimerWait]] = {}
        #: Every same-loop window's map of active timers as one heap of (expiry, key,
        #: window), for computeDeadline: its top is always an entry still in its map, so
        #: ``active_timer_expiries[0][0]`` is the smallest value of them all.
        self.active_timer_expiries: list[tuple[float, int, Window]] = []
        # Windows waiting for a rendering opportunity -> time they started waiting.
        self._frame_requests: dict[Window, float] = {}
        self._render_queued: set[Window] = set()
        #: The windows whose map of animation frame callbacks is not empty (computeDeadline).
        self.windows_with_frame_callbacks: set[Window] = set()
        self._idle_step_due = True
        self._task_did_nothing = False
        self._running = False
        self.window = self.open_window()

    # Windows ----------------------------------------------------------------------------

    def open_window(self) -> Window:
        """Open another window on this loop (a same-loop window, like a same-origin iframe)."""
        window = Window(self, len(self._windows))
        self._windows.append(window)
        self._timer_waits[window.index] = {}
        return window

    @property
    def same_loop_windows(self) -> list[Window]:
        """HTML ``#same-loop-windows``: every window on this loop, in opening order (F-10)."""
        return self._windows

    # Time -------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The current virtual time, ms."""
        return self.clock.now

    def unsafe_shared_current_time(self) -> float:
        """HR-TIME ``#dfn-unsafe-shared-current-time``: the clock, uncoarsened (N-01)."""
        return self.clock.now

    def current_high_resolution_time(self) -> float:
        """HR-TIME ``#dfn-current-high-resolution-time``: coarsened, time origin 0 (N-01)."""
        now = self.clock.now
        return now if self.policy.coarsening_ms == 0 else self.coarsen(now)

    def coarsen(self, timestamp: float) -> float:
        """HR-TIME ``#dfn-coarsen-time``: floor to ``policy.coarsening_ms`` (F-08; 0: off)."""
        resolution = self.policy.coarsening_ms
        if resolution == 0:
            return timestamp
        return round(math.floor(timestamp / resolution + _EPSILON) * resolution, 9)

    def snap_to_resolution(self, duration: float) -> float:
        """Snap a difference of two coarsened times to the grid (50, never 49.99999999)."""
        resolution = self.policy.coarsening_ms
        if resolution == 0:
            return duration
        return round(round(duration / resolution) * resolution, 9)

    @property
    def last_render_opportunity_time(self) -> float:
        """HTML ``#last-render-opportunity-time``: the latest vsync at or before now (F-07)."""
        rate = self.policy.refresh_rate
        return math.floor(self.clock.now * rate / 1000.0 + _EPSILON) * 1000.0 / rate

    def busy(self, ms: float) -> None:
        """The running task or callback uses ``ms`` of virtual time.

        What happens in parallel meanwhile (timers expiring and leaving the map of active
        timers, rIC timeouts queuing their tasks, rendering opportunities) happens too; the
        tasks it queues run after the current one.
        """
        self.clock.advance(ms)
        self._run_parallel_steps()

    # Tasks and microtasks ---------------------------------------------------------------

    def queue_task(
        self,
        callback: Callable[[], object],
        source: str = DEFAULT_TASK_SOURCE,
        window: Window | None = None,
    ) -> None:
        """Queue a global task on ``source`` for ``window`` (default: the first window)."""
        target = window if window is not None else self.window
        self.queue_task_for(target, source, self.invoke_callback, target, callback)

    def queue_task_for(
        self,
        window: Window,
        source: str,
        steps: Callable[..., object],
        *args: object,
        timer_nesting_level: int = 0,
    ) -> None:
        """HTML ``#queue-a-global-task``: ``steps(*args)`` run as a task of ``window``'s document."""
        self._seq += 1
        self._queues.append(Task(steps, window, source, self._seq, timer_nesting_level, args=args))

    def queue_microtask(self, callback: Callable[[], object], window: Window | None = None) -> None:
        """HTML ``#queue-a-microtask`` (exceptions are reported to ``window``)."""
        self._microtasks.append((callback, window if window is not None else self.window))

    def perform_a_microtask_checkpoint(self) -> None:
        """HTML ``#perform-a-microtask-checkpoint``: run microtasks until there are none."""
        # step 1: if the event loop's performing a microtask checkpoint is true, return.
        # With the queue empty, steps 2-9 change nothing either: return as well.
        if self._performing_microtask_checkpoint or not self._microtasks:
            return
        # step 2
        self._performing_microtask_checkpoint = True
        try:
            # step 3: while the microtask queue is not empty, dequeue the oldest and run it.
            while self._microtasks:
                callback, window = self._microtasks.popleft()
                self._call(window, callback)
        finally:
            # steps 4-8 (rejections, IndexedDB, ...) have nothing to model; step 9.
            self._performing_microtask_checkpoint = False

    def invoke_callback(
        self, window: Window, callback: Callable[..., object], *args: object
    ) -> None:
        """WebIDL ``#invoke-a-callback-function``: call, report an exception, clean up.

        After the call, HTML's "clean up after running script" performs a microtask
        checkpoint (the script stack is empty then: nothing here nests callbacks).
        """
        try:
            callback(*args)
        except Exception as error:  # a callback may raise anything; the loop goes on
            self.report_an_exception(window, error)
        if self._microtasks:  # with none queued the checkpoint does nothing
            self.perform_a_microtask_checkpoint()

    def _call(self, window: Window, callback: Callable[..., object], *args: object) -> None:
        try:
            callback(*args)
        except Exception as error:  # a callback may raise anything; the loop goes on
            self.report_an_exception(window, error)

    def report_an_exception(self, window: Window, error: Exception) -> None:
        """HTML ``#report-an-exception``: recorded in ``window.reported_errors`` (F-13)."""
        window.reported_errors.append(error)

    def note_idle_task_did_nothing(self) -> None:
        """An invoke-idle-callbacks task ran no callback (see :meth:`run`, N-04)."""
        self._task_did_nothing = True

    # Timers (HTML "run steps after a timeout") ------------------------------------------

    def new_timer_key(self) -> int:
        """A new unique internal value for a map of active timers."""
        self._timer_key += 1
        return self._timer_key

    def note_active_timer(self, window: Window, key: int, expiry: float) -> None:
        """Index a new entry of ``window``'s map of active timers for computeDeadline."""
        heapq.heappush(self.active_timer_expiries, (expiry, key, window))

    def start_timer_wait(
        self, window: Window, key: int, ms: float, completion_steps: Callable[[], None]
    ) -> None:
        """Begin "run steps after a timeout" step 4 for ``key``: ``ms`` of fully active time.

        Step 4.3's optional further wait (F-09) is added to ``ms``: the reference counts it
        as fully active time too, which the spec leaves open (the length is the UA's).
        """
        ms += self.policy.timer_delay_ms
        wait = _TimerWait(window, key, self.clock.now + ms, completion_steps)
        self._timer_waits[window.index][key] = wait
        if window.fully_active:
            self._push_timer_wait(wait)
        else:
            wait.remaining = ms

    def _push_timer_wait(self, wait: _TimerWait) -> None:
        self._seq += 1
        wait.entry = self._seq
        heapq.heappush(self._waits, (wait.due, self._seq, wait))

    def _complete_timer_wait(self, wait: _TimerWait) -> None:
        # HTML #run-steps-after-a-timeout 4.4 run completionSteps; 4.5 remove
        # map of active timers[timerKey].
        del self._timer_waits[wait.window.index][wait.key]
        wait.completion_steps()
        del wait.window.map_of_active_timers[wait.key]
        # Entries leave the maps only here: drop those that left from the heap's top.
        expiries = self.active_timer_expiries
        while expiries and expiries[0][1] not in expiries[0][2].map_of_active_timers:
            heapq.heappop(expiries)

    # rIC timeouts -----------------------------------------------------------------------

    def start_idle_timeout_wait(self, window: Window, handle: int, expiry: float) -> None:
        """rIC step 6: queue the timeout task for ``handle`` at ``expiry`` (+ padding, F-03).

        The wait is a plain wait on the clock (R-16): not HTML's "run steps after a
        timeout", so it neither pauses nor enters the map of active timers. Among waits with
        equal expiry, the policy decides the order (N-06).
        """
        self._seq += 1
        tie = self._seq if self.policy.equal_timeout_expiry_order == "posting" else -self._seq
        due = expiry + self.policy.timeout_padding_ms
        heapq.heappush(self._waits, (due, tie, window.index, handle))

    # Animation frames and rendering -----------------------------------------------------

    def note_animation_frame_requested(self, window: Window) -> None:
        """``window`` has animation frame callbacks: it wants the next rendering opportunity."""
        self.windows_with_frame_callbacks.add(window)
        if window not in self._render_queued and window not in self._frame_requests:
            self._frame_requests[window] = self.clock.now

    def note_animation_frames_changed(self, window: Window) -> None:
        """After a removal: a window with no callbacks left no longer waits for a frame."""
        if not window.map_of_animation_frame_callbacks:
            self.windows_with_frame_callbacks.discard(window)
            self._frame_requests.pop(window, None)

    def note_rendering_done(self, window: Window) -> None:
        """``window``'s update-the-rendering task ran; callbacks added meanwhile wait again."""
        self._render_queued.discard(window)
        if window.map_of_animation_frame_callbacks:
            self._frame_requests[window] = self.clock.now

    def _vsync_after(self, when: float) -> float:
        # The first vsync strictly after `when`: a frame requested at a vsync instant waits
        # for the next one, so the render term of computeDeadline is that very frame.
        rate = self.policy.refresh_rate
        return (math.floor(when * rate / 1000.0 + _EPSILON) + 1) * 1000.0 / rate

    def _next_rendering_opportunity(self) -> float | None:
        best: float | None = None
        for window, since in self._frame_requests.items():
            if window.fully_active:
                vsync = self._vsync_after(since)
                if best is None or vsync < best:
                    best = vsync
        return best

    def _take_rendering_opportunity(self, vsync: float) -> None:
        # HTML #event-loop-processing-model (rendering): the last render opportunity time
        # becomes this vsync (it is derived from the clock, F-07), and for each navigable
        # with a rendering opportunity, queue a global task on the rendering task source to
        # update the rendering.
        for window, since in list(self._frame_requests.items()):
            if window.fully_active and self._vsync_after(since) <= vsync:
                del self._frame_requests[window]
                self._render_queued.add(window)
                self.queue_task_for(
                    window, RENDERING_TASK_SOURCE, update_the_rendering, window, vsync
                )

    # Fully active -----------------------------------------------------------------------

    def note_fully_active_changed(self, window: Window) -> None:
        """Pause or resume ``window``'s timer waits (HTML "run steps after a timeout" 4.1)."""
        now = self.clock.now
        waits = self._timer_waits[window.index].values()
        if window.fully_active:
            for wait in waits:
                wait.due = now + wait.remaining
                self._push_timer_wait(wait)
            if window in self._frame_requests:
                self._frame_requests[window] = max(self._frame_requests[window], now)
            self._idle_step_due = True
        else:
            for wait in waits:
                wait.remaining = max(0.0, wait.due - now)
                wait.entry = -1  # its heap entry is stale from now on

    # The loop ---------------------------------------------------------------------------

    def _peek_wait(self) -> float:
        waits = self._waits
        while waits:
            entry = waits[0]
            if len(entry) == 3 and entry[2].entry != entry[1]:
                heapq.heappop(waits)  # a timer's wait, paused since it was pushed
                continue
            return entry[0]
        return math.inf

    def _run_parallel_steps(self) -> None:
        """Complete every in-parallel event whose time has come, in time order."""
        now = self.clock.now
        waits = self._waits
        if not self._frame_requests and (not waits or waits[0][0] > now):
            return  # nothing is due (most turns): skip the search below
        while True:
            wait_due = self._peek_wait()
            vsync = self._next_rendering_opportunity() if self._frame_requests else None
            if vsync is not None and vsync <= now and vsync < wait_due:
                self._take_rendering_opportunity(vsync)
            elif wait_due <= now:
                entry = heapq.heappop(waits)
                if len(entry) == 3:
                    self._complete_timer_wait(entry[2])
                else:
                    # rIC step 6.4: queue a task on the idle-task task source to run the
                    # invoke idle callback timeout algorithm with handle and window.
                    window, handle = self._windows[entry[2]], entry[3]
                    self.queue_task_for(
                        window, IDLE_TASK_SOURCE, invoke_idle_callback_timeout, window, handle
                    )
            else:
                return

    def _next_event_time(self) -> float | None:
        """The earliest future time at which something can happen, or None."""
        candidates = [self._peek_wait()]
        vsync = self._next_rendering_opportunity()
        if vsync is not None:
            candidates.append(vsync)
        if self.policy.gate_on_previous_deadline:
            now = self.clock.now
            for window in self._windows:
                gate = window.idle_period.frozen_deadline
                if (
                    gate > now
                    and window.fully_active
                    and (
                        window.list_of_idle_request_callbacks
                        or window.list_of_runnable_idle_callbacks
                    )
                ):
                    candidates.append(gate)
        earliest = min(candidates)
        return None if earliest == math.inf else earliest

    def run(
        self,
        until: float | None = None,
        *,
        max_tasks: int | None = None,
        budget: float | None = None,
    ) -> bool:
        """Run until nothing is left to do, or until virtual time ``until``.

        Each turn: complete the in-parallel events that are due; run one runnable task
        (then a microtask checkpoint); if none is runnable, run HTML step 5 if anything has
        happened since it last ran; otherwise jump the clock to the next event. With
        ``until``, nothing later than ``until`` happens and the clock ends at ``until``.
        With ``budget``, nothing later than ``budget`` happens either, but the clock stays
        where the last event left it.

        Returns:
            True if it stopped because nothing was left to do (no runnable task and no
            future event), False if ``until`` or ``budget`` stopped it first.

        Raises:
            RuntimeError: called from inside a callback of this loop.
            TaskBudgetExceeded: ``max_tasks`` tasks ran and another was runnable.
        """
        if self._running:
            raise RuntimeError("EventLoop.run() is not reentrant")
        if until is not None and math.isnan(until):
            raise ValueError("until must be a time in ms, not NaN")
        if budget is not None and math.isnan(budget):
            raise ValueError("budget must be a time in ms, not NaN")
        self._running = True
        try:
            follower = active_follower()
            if follower is not None:
                previous = follower.clock
                follower.follow(self.clock)
                try:
                    return self._run(until, max_tasks, budget)
                finally:
                    follower.follow(previous)
            elif self.freeze_global_clocks:
                with GlobalClockFollower() as new_follower:
                    new_follower.follow(self.clock)
                    return self._run(until, max_tasks, budget)
            else:
                return self._run(until, max_tasks, budget)
        finally:
            self._running = False

    def _run(self, until: float | None, max_tasks: int | None, budget: float | None) -> bool:
        limit = min(math.inf if until is None else until, math.inf if budget is None else budget)
        queues = self._queues
        last_task = math.inf if max_tasks is None else self.tasks_run + max_tasks
        self._idle_step_due = True
        # Whatever queued microtasks before run() ran in a script: its checkpoint comes first.
        self.perform_a_microtask_checkpoint()
        clock, waits = self.clock, self._waits
        while True:
            now = clock.now
            if self._frame_requests or (waits and waits[0][0] <= now):
                self._run_parallel_steps()  # (most turns have nothing due)
            if now > limit:
                return False  # a callback was busy past the limit
            # HTML processing model steps 1-2: take the oldest runnable task and run it.
            task = queues.take_runnable()
            if task is not None:
                if self.tasks_run >= last_task:
                    queues.push_front(task)
                    raise TaskBudgetExceeded(f"more than {max_tasks} tasks")
                self.tasks_run += 1
                self.current_task = task
                self._task_did_nothing = False
                try:
                    task.steps(*task.args)
                finally:
                    self.current_task = None
                # Step 2.7 (after the task): perform a microtask checkpoint (with none
                # queued it does nothing).
                if self._microtasks:
                    self.perform_a_microtask_checkpoint()
                # N-04: step 5 runs again after any task that did something. An invoke task
                # that ran no callback does not count, or a literal loop
                # (Policy.skip_empty_idle_periods False) would start empty idle periods at
                # one instant for ever.
                if not self._task_did_nothing:
                    self._idle_step_due = True
                continue
            # HTML step 5: a window event loop with no runnable task.
            if self._idle_step_due:
                self._idle_step_due = False
                start_idle_periods(self)
                continue
            when = self._next_event_time()
            if when is None:
                quiescent = True
                break
            if when > limit:
                quiescent = False
                break
            self.clock.advance_to(when)
            self._idle_step_due = True
        if until is not None and self.clock.now < until <= limit:
            self.clock.advance_to(until)
        return quiescent
