"""HTML timers, as far as idle deadlines depend on them.

https://html.spec.whatwg.org/multipage/timers-and-user-prompts.html: ``#timers``
(``setTimeout``/``clearTimeout``), ``#timer-initialisation-steps`` and
``#run-steps-after-a-timeout`` with the *map of active timers* that HTML's computeDeadline
reads (``#event-loop-processing-model`` step 5.2.3.2). ``setInterval`` and string handlers
are not modelled: nothing in rIC depends on them.

A trap kept on purpose, because it is what the standard says: ``clearTimeout`` removes the id
from the *map of setTimeout and setInterval IDs* only. The wait in "run steps after a
timeout" goes on, and its entry in the map of active timers (so its cap on idle deadlines)
stays until the timer's time has elapsed.

A second, for the same reason: while a window is not fully active its timers' waits pause
(step 4.1), but their map entries keep the expiry set at step 3, and computeDeadline reads
every same-loop window's map whether or not it is fully active. Once that expiry is in the
past, every window's idle deadline is in the past too: no idle callback on the loop runs
until the paused window is fully active again and its timer fires. A deadline may only ever
be shorter than computeDeadline's (F-05), so no policy can lift this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .tasks import TIMER_TASK_SOURCE
from .webidl import check_callback, to_long

if TYPE_CHECKING:
    from .window import Window

_SET_TIMEOUT_ORDERING = "setTimeout/setInterval"
_NESTING_CLAMP_LEVEL = 5
_NESTING_CLAMP_MS = 4


def set_timeout(window: Window, handler: object, timeout: object = 0) -> int:
    """HTML ``#dom-settimeout``: the timer initialisation steps with repeat false."""
    check_callback(handler)
    return timer_initialisation_steps(window, handler, to_long(timeout))  # type: ignore[arg-type]


def clear_timeout(window: Window, handle: object) -> None:
    """HTML ``#dom-cleartimeout``: remove this's map of setTimeout and setInterval IDs[id]."""
    window.map_of_settimeout_and_setinterval_ids.pop(to_long(handle), None)


def timer_initialisation_steps(window: Window, handler: Callable[[], object], timeout: int) -> int:
    """HTML ``#timer-initialisation-steps`` (repeat false, no previousId)."""
    loop = window.loop
    # HTML #timer-initialisation-steps step 1: thisArg (the handler is called with none).
    # step 2: id is an integer > 0 not already in the map of setTimeout and setInterval IDs.
    window.timer_identifier += 1
    timer_id = window.timer_identifier
    # step 3: nesting level is the currently running task's timer nesting level if that task
    # was created by this algorithm, else 0 (non-timer tasks carry level 0).
    current = loop.current_task
    nesting_level = current.timer_nesting_level if current is not None else 0
    # step 4
    timeout = max(timeout, 0)
    # step 5: the nesting clamp.
    if nesting_level > _NESTING_CLAMP_LEVEL and timeout < _NESTING_CLAMP_MS:
        timeout = _NESTING_CLAMP_MS
    # steps 6-7: realm and initiating script (nothing to model).
    # steps 8-11: uniqueHandle (null until step 12), the task's steps and completionStep.
    timer = _Timer(window, handler, timer_id, nesting_level)
    # step 12: uniqueHandle is the result of running steps after a timeout.
    timer.unique_handle = run_steps_after_a_timeout(
        window, _SET_TIMEOUT_ORDERING, timeout, timer.completion_step
    )
    # step 13: map of setTimeout and setInterval IDs[id] is uniqueHandle.
    window.map_of_settimeout_and_setinterval_ids[timer_id] = timer.unique_handle
    # step 14
    return timer_id


class _Timer:
    """Steps 8-11 of the timer initialisation steps for one timer: its task and completionStep.

    One object with two methods rather than two closures: a page may hold many thousands of
    pending timers, and closures cost a cell per variable they capture.
    """

    __slots__ = ("handler", "nesting_level", "timer_id", "unique_handle", "window")

    def __init__(
        self, window: Window, handler: Callable[[], object], timer_id: int, nesting_level: int
    ) -> None:
        self.window = window
        self.handler = handler
        self.timer_id = timer_id
        self.nesting_level = nesting_level
        # step 8: uniqueHandle is null (set at step 12).
        self.unique_handle = -1

    def task_steps(self) -> None:
        """Step 9: the steps of the timer's task."""
        window = self.window
        ids = window.map_of_settimeout_and_setinterval_ids
        # 9.1-9.2 abort if id is gone from the map or now names another timer (cleared).
        if ids.get(self.timer_id) != self.unique_handle:
            return
        # 9.3 (timing info) n/a. 9.4 invoke the handler; report an exception it throws.
        window.loop.invoke_callback(window, self.handler)
        # 9.5-9.6 abort if the id was cleared or reused meanwhile. 9.7 (repeat) n/a.
        # 9.8 otherwise remove map of setTimeout and setInterval IDs[id].
        if ids.get(self.timer_id) == self.unique_handle:
            del ids[self.timer_id]

    def completion_step(self) -> None:
        """Step 11: queue a global task on the timer task source to run the task.

        The task's timer nesting level is nesting level + 1 (step 10).
        """
        self.window.loop.queue_task_for(
            self.window,
            TIMER_TASK_SOURCE,
            self.task_steps,
            timer_nesting_level=self.nesting_level + 1,
        )


def run_steps_after_a_timeout(
    window: Window,
    ordering_identifier: str,
    milliseconds: float,
    completion_steps: Callable[[], None],
) -> int:
    """HTML ``#run-steps-after-a-timeout`` for a Window global; returns the timer's key."""
    loop = window.loop
    # HTML #run-steps-after-a-timeout step 1: timerKey is a new unique internal value.
    timer_key = loop.new_timer_key()
    # step 2: startTime is the current high resolution time.
    start_time = loop.current_high_resolution_time()
    # step 3: set global's map of active timers[timerKey] to startTime + milliseconds.
    window.map_of_active_timers[timer_key] = start_time + milliseconds
    loop.note_active_timer(window, timer_key, start_time + milliseconds)
    # step 4, in parallel: 4.1 wait until the document has been fully active for a further
    # milliseconds (the wait pauses while it is not); 4.2 wait for earlier-started timers
    # with the same global and orderingIdentifier whose milliseconds is not larger (expiry
    # order, ties by start order, gives this); 4.3 the optional further wait
    # (F-09, Policy.timer_delay_ms, added by start_timer_wait); 4.4 run
    # completionSteps; 4.5 remove map of active timers[timerKey]. Only setTimeout uses
    # this here, so orderingIdentifier never distinguishes two waits.
    loop.start_timer_wait(window, timer_key, milliseconds, completion_steps)
    # step 5
    return timer_key
