"""A ``Window``: the per-window state the algorithms read and write, and its public methods.

The state is named as the specs name it. The methods are thin: each converts nothing itself
and calls the spec algorithm of the same name (:mod:`.idle`, :mod:`.html_timers`,
:mod:`.html_rendering`).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import html_rendering, html_timers, idle
from .deadline import IdleDeadline
from .tasks import DEFAULT_TASK_SOURCE

if TYPE_CHECKING:
    from .event_loop import EventLoop

IdleRequestCallback = Callable[[IdleDeadline], object]
FrameRequestCallback = Callable[[float], object]


class IdlePeriodState:
    """What the policy remembers of a window's latest idle period (not spec state)."""

    __slots__ = ("callbacks_invoked", "frozen_deadline")

    def __init__(self) -> None:
        #: getDeadline() as it was when the period started (N-05); -inf before the first.
        self.frozen_deadline = -math.inf
        #: idle callbacks invoked in the period so far (F-02, max_callbacks_per_period).
        self.callbacks_invoked = 0


class Window:
    """A Window on an :class:`~idlespec.reference.event_loop.EventLoop`.

    Make one with ``loop.open_window()``; ``loop.window`` is the first.
    """

    def __init__(self, loop: EventLoop, index: int) -> None:
        self.loop = loop
        #: Position among the loop's same-loop windows (0 for the first).
        self.index = index
        self._fully_active = True
        #: Exceptions reported from callbacks run for this window, in order (HTML "report an
        #: exception"; F-13).
        self.reported_errors: list[Exception] = []

        # rIC #window_extensions: the list of idle request callbacks, the list of runnable
        # idle callbacks (both ordered maps handle -> callback, R-06/R-07) and the idle
        # callback identifier.
        self.list_of_idle_request_callbacks: OrderedDict[int, IdleRequestCallback] = OrderedDict()
        self.list_of_runnable_idle_callbacks: OrderedDict[int, IdleRequestCallback] = OrderedDict()
        self.idle_callback_identifier = 0
        self.idle_period = IdlePeriodState()

        # HTML #map-of-active-timers (key -> expiry) and the map of setTimeout and
        # setInterval IDs (id -> key); timer_identifier hands out ids.
        self.map_of_active_timers: dict[int, float] = {}
        self.map_of_settimeout_and_setinterval_ids: dict[int, int] = {}
        self.timer_identifier = 0

        # HTML #list-of-animation-frame-callbacks (an ordered map) and its identifier.
        self.map_of_animation_frame_callbacks: dict[int, FrameRequestCallback] = {}
        self.animation_frame_callback_identifier = 0

    def __repr__(self) -> str:
        return f"<Window {self.index}{'' if self._fully_active else ' (not fully active)'}>"

    @property
    def fully_active(self) -> bool:
        """Whether the window's document is fully active (HTML ``#fully-active``).

        While it is not, its tasks are not runnable (``#concept-task-runnable``) and its
        timers' waits pause (``#run-steps-after-a-timeout`` step 4.1).
        """
        return self._fully_active

    @fully_active.setter
    def fully_active(self, value: bool) -> None:
        value = bool(value)
        if value != self._fully_active:
            self._fully_active = value
            self.loop.note_fully_active_changed(self)

    # rIC --------------------------------------------------------------------------------

    def request_idle_callback(self, callback: object, options: object = None) -> int:
        """``window.requestIdleCallback(callback, options)``: returns the handle."""
        return idle.request_idle_callback(self, callback, options)

    def cancel_idle_callback(self, handle: object) -> None:
        """``window.cancelIdleCallback(handle)``; see :func:`.idle.cancel_idle_callback`."""
        idle.cancel_idle_callback(self, handle)

    # HTML timers, animation frames, tasks -----------------------------------------------

    def set_timeout(self, callback: object, delay: object = 0) -> int:
        """``window.setTimeout(callback, delay)``: returns the timer's id."""
        return html_timers.set_timeout(self, callback, delay)

    def clear_timeout(self, handle: object) -> None:
        """``window.clearTimeout(handle)``."""
        html_timers.clear_timeout(self, handle)

    def request_animation_frame(self, callback: object) -> int:
        """``window.requestAnimationFrame(callback)``; ``callback(timestamp_ms)``."""
        return html_rendering.request_animation_frame(self, callback)

    def cancel_animation_frame(self, handle: object) -> None:
        """``window.cancelAnimationFrame(handle)``."""
        html_rendering.cancel_animation_frame(self, handle)

    def queue_microtask(self, callback: Callable[[], object]) -> None:
        """``window.queueMicrotask(callback)``."""
        self.loop.queue_microtask(callback, window=self)

    def queue_task(self, callback: Callable[[], object], source: str = DEFAULT_TASK_SOURCE) -> None:
        """Queue a global task for this window on ``source`` that calls ``callback()``."""
        self.loop.queue_task(callback, source=source, window=self)
