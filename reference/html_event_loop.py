"""The HTML event loop's idle hook: processing model step 5 and computeDeadline.

https://html.spec.whatwg.org/multipage/webappapis.html#event-loop-processing-model, step 5
(numbered as in the current standard: 1 oldestTask, 2 run a task, 3 taskEndTime, 4 long
tasks, **5 idle periods**, 6 workers). The loop machine that decides *when* step 5 runs is
:meth:`~idlespec.reference.event_loop.EventLoop.run`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from .idle import start_an_idle_period

if TYPE_CHECKING:
    from .event_loop import EventLoop
    from .window import Window

#: HTML step 5.2.1: the cap on an idle period, in ms, from its start.
IDLE_PERIOD_CAP_MS = 50.0


def start_idle_periods(loop: EventLoop) -> None:
    """HTML ``#event-loop-processing-model`` step 5, run when no task is runnable."""
    # step 5: "if this is a window event loop that has no runnable task in any of its task
    # queues" is the caller's condition (EventLoop.run).
    # 5.1 set the last idle period start time to the unsafe shared current time.
    loop.last_idle_period_start_time = loop.unsafe_shared_current_time()
    # 5.2 computeDeadline is compute_deadline(loop), below.
    # 5.3 for each win of the same-loop windows, start an idle period with a getDeadline
    # that runs computeDeadline and coarsens the result for win.
    for win in loop.same_loop_windows:
        start_an_idle_period(win, _get_deadline_for(loop, win))


def _get_deadline_for(loop: EventLoop, win: Window) -> Callable[[], float]:
    # HTML step 5.3's getDeadline: "return the result of coarsening computeDeadline() with
    # win's relevant settings object's cross-origin isolated capability". One coarsening
    # resolution is modelled (Policy.coarsening_ms), whatever the window.
    del win
    if loop.policy.coarsening_ms == 0:
        # Coarsening to no resolution returns its input: getDeadline is computeDeadline.
        return partial(compute_deadline, loop)

    def get_deadline() -> float:
        return loop.coarsen(compute_deadline(loop))

    return get_deadline


def compute_deadline(loop: EventLoop) -> float:
    """HTML step 5.2's computeDeadline: the end of the current idle period, in ms.

    It reads the loop's state *now* (R-51): a timer or animation frame requested during an
    idle callback changes the next result.
    """
    # 5.2.1 deadline is the last idle period start time plus 50.
    deadline = loop.last_idle_period_start_time + IDLE_PERIOD_CAP_MS
    # 5.2.2 hasPendingRenders is false.
    # 5.2.3 for each windowInSameLoop of the same-loop windows:
    #   5.2.3.1 if its map of animation frame callbacks is not empty, or the UA believes it
    #   might have pending rendering updates (F-05, Policy.pending_rendering_updates), set
    #   hasPendingRenders to true;
    #   5.2.3.2 timerCallbackEstimates is the values of its map of active timers;
    #   5.2.3.3 for each timeoutDeadline of timerCallbackEstimates, if it is less than
    #   deadline, set deadline to it.
    # The loop keeps both answers at hand across all windows (the set of windows with frame
    # callbacks; one heap of every active timer, its top the smallest) rather than walking
    # every map on every call: this runs before each idle callback and on every
    # timeRemaining().
    has_pending_renders = loop.policy.pending_rendering_updates == "always" or bool(
        loop.windows_with_frame_callbacks
    )
    timers = loop.active_timer_expiries
    if timers and timers[0][0] < deadline:
        deadline = timers[0][0]
    # 5.2.4 if hasPendingRenders, nextRenderDeadline is the last render opportunity time plus
    # 1000 / the current refresh rate; if it is less than deadline, return it.
    if has_pending_renders:
        next_render_deadline = loop.last_render_opportunity_time + loop.policy.frame_interval_ms
        if next_render_deadline < deadline:
            return next_render_deadline
    # 5.2.5
    return deadline
