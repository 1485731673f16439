"""Every freedom the spec leaves to a user agent that the reference must pick, in one place.

Each field of :class:`Policy` names one freedom (spec.toml F-xx, N-xx), cites the text that
grants it and holds the reference's default. A conformance row whose expectation depends on a
field here is level ``ref``.

Freedoms the reference fixes by construction rather than by a field (changing them would
change the shape of the model, not a value in it):

* F-07 (rendering opportunities are UA-defined): a rendering opportunity occurs at every
  vsync, the grid ``k * 1000 / refresh_rate`` ms from the time origin, so the *last render
  opportunity time* is the latest grid point not after now. An "update the rendering" task is
  queued only for a fully active window with animation frame callbacks: the HTML standard
  lets the UA skip unnecessary rendering, and a no-op task at 60 Hz would keep the loop from
  ever falling quiet.
* F-10 (order across windows): same-loop windows are visited in the order they were opened.
* F-13 (how a reported exception surfaces): it is appended to the window's
  ``reported_errors``.
* N-03 / F-14 (what a retained ``IdleDeadline`` reports later): getDeadline is the live
  closure the spec describes; it re-reads the loop's current state on every call.
* N-07 (which document an idle task belongs to): the window's, so a window that is not fully
  active runs neither idle nor timeout callbacks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

TaskSelection = Literal["oldest-first", "round-robin"]
TieOrder = Literal["posting", "reverse-posting"]
PendingRenders = Literal["when-frames-requested", "always"]
Overflow = Literal["raise", "wrap"]


@dataclass(frozen=True)
class Policy:
    """The reference's choice for each freedom the spec leaves open."""

    skip_empty_idle_periods: bool = True
    """F-01 / N-04, rIC ``#start-an-idle-period-algorithm`` step 1 ("the user agent may delay
    the idle period"). Taken literally, HTML step 5 starts an idle period, and queues an
    invoke task, for every window each time the loop is idle, even when the window has no
    idle callbacks. The reference declines the period for a window whose two lists are both
    empty. ``False`` starts them anyway (each then queues an invoke task that does nothing)."""

    gate_on_previous_deadline: bool = True
    """N-05 / F-12, the note under ``#start-an-idle-period-algorithm`` (and WPT
    ``idle_periods``): a window's next idle period does not start before the deadline of its
    previous one, as that deadline was frozen when the period started (not the live
    getDeadline, which moves). Nothing normative requires this since 2021; ``False`` lets a
    new period start the moment the previous invoke chain drains, with a fresh 50 ms."""

    max_callbacks_per_period: int | None = None
    """F-02, ``#invoke-idle-callbacks-algorithm`` step 1: the UA may end an idle period early.
    ``None`` (the reference) never does; ``n`` ends each period after its n-th callback, the
    rest staying in the list of runnable idle callbacks for a later period."""

    timeout_padding_ms: float = 0.0
    """F-03, ``#the-requestidlecallback-method`` step 6.3: the UA may wait a further
    implementation-defined time before queuing the timeout task. The reference adds this many
    ms (0: timeouts are exact)."""

    equal_timeout_expiry_order: TieOrder = "posting"
    """N-06 / F-11, ``#the-requestidlecallback-method`` step 6.2 orders timeouts only by a
    strictly earlier posted time + timeout. For equal expiries the reference queues the
    timeout tasks in posting order, as browsers do; ``"reverse-posting"`` exists so that a
    suite can check it accepts either order."""

    task_selection: TaskSelection = "oldest-first"
    """F-04, HTML ``#event-loop-processing-model`` step 2.1: which task queue the loop takes
    its next task from is implementation-defined. ``"oldest-first"`` takes the runnable task
    queued earliest across every queue (one FIFO across sources; no source can starve).
    ``"round-robin"`` visits the task sources in turn, taking the first runnable task of the
    next non-empty one (no source can starve either). FIFO holds within a source either way."""

    refresh_rate: float = 60.0
    """F-06, HTML step 5.2.4 ("the current refresh rate"): vsyncs per second. It sets the
    render term of computeDeadline (last render opportunity time + 1000 / refresh rate) and
    the rendering-opportunity grid."""

    pending_rendering_updates: PendingRenders = "when-frames-requested"
    """F-05, HTML ``#event-loop-processing-model`` step 5.2.3.1: hasPendingRenders is true if
    a same-loop window's map of animation frame callbacks is not empty, "or if the user agent
    believes that the windowInSameLoop might have pending rendering updates". The reference
    believes so exactly when frames are requested. ``"always"`` believes so all the time, as
    a UA that keeps producing frames may: every deadline is then capped by the next render
    (last render opportunity time + 1000 / refresh rate). This is why no row can give
    ``timeRemaining()`` a lower bound at level must."""

    timer_delay_ms: float = 0.0
    """F-09, HTML ``#run-steps-after-a-timeout`` step 4.3: "Optionally, wait a further
    implementation-defined length of time" before a timer's task is queued. The reference
    waits none (timers are never late); ``n`` makes every setTimeout's task that many ms late
    (its entry in the map of active timers keeps the undelayed expiry of step 3, so the cap
    it puts on idle deadlines does not move). Browsers run a timer late when a busy task is
    running at its expiry, so a row may not rely on a timer's exact firing time to order
    events less than this far apart."""

    coarsening_ms: float = 0.0
    """F-08 / R-58, HR-TIME ``#dfn-coarsen-time``: the resolution to which getDeadline's
    result and the current high resolution time are floored. The reference's default is 0
    (off), so that exact values such as ``time_remaining() == 50`` hold; 0.1 gives HR-TIME's
    non-isolated 100 µs floor (the subtraction in ``time_remaining`` is then snapped to the
    grid so that 50 never reads as 49.99999999)."""

    identifier_overflow: Overflow = "raise"
    """N-08 / F-14, ``#the-requestidlecallback-method`` step 2: the idle callback identifier
    is only ever incremented and nothing says what follows 2**32 - 1 (the largest value the
    ``unsigned long`` return type holds). The reference raises ``OverflowError`` (no handle
    consumed, nothing queued) rather than wrap and hand out a handle that may already be in
    a list; ``"wrap"`` continues at ``(identifier + 1) mod 2**32``. Wrapping has a hazard the
    spec allows: a timeout wait still racing for an old handle may find the *new* callback
    that reuses it and run it early with ``did_timeout`` true."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.refresh_rate) and self.refresh_rate > 0):
            raise ValueError(f"refresh_rate must be a positive number, not {self.refresh_rate}")
        if not (math.isfinite(self.coarsening_ms) and self.coarsening_ms >= 0):
            raise ValueError(f"coarsening_ms must be >= 0, not {self.coarsening_ms}")
        if not (math.isfinite(self.timeout_padding_ms) and self.timeout_padding_ms >= 0):
            raise ValueError(f"timeout_padding_ms must be >= 0, not {self.timeout_padding_ms}")
        if not (math.isfinite(self.timer_delay_ms) and self.timer_delay_ms >= 0):
            raise ValueError(f"timer_delay_ms must be >= 0, not {self.timer_delay_ms}")
        if self.pending_rendering_updates not in ("when-frames-requested", "always"):
            raise ValueError(
                f"unknown pending_rendering_updates {self.pending_rendering_updates!r}"
            )
        if self.max_callbacks_per_period is not None and self.max_callbacks_per_period < 1:
            raise ValueError("max_callbacks_per_period must be None or >= 1")
        if self.task_selection not in ("oldest-first", "round-robin"):
            raise ValueError(f"unknown task_selection {self.task_selection!r}")
        if self.equal_timeout_expiry_order not in ("posting", "reverse-posting"):
            raise ValueError(
                f"unknown equal_timeout_expiry_order {self.equal_timeout_expiry_order!r}"
            )
        if self.identifier_overflow not in ("raise", "wrap"):
            raise ValueError(f"unknown identifier_overflow {self.identifier_overflow!r}")

    @property
    def frame_interval_ms(self) -> float:
        """1000 / refresh rate: the time between two rendering opportunities."""
        return 1000.0 / self.refresh_rate
