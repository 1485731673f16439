"""How long a slice may go on: the idle deadline, read as a flawed candidate may hand it over.

A conforming ``IdleDeadline`` has ``time_remaining()`` (a number of ms, at most 50) and
``did_timeout`` (a boolean). Candidates in the wild break both: a ``timeRemaining`` that is
a number and not a method, a missing ``didTimeout``, a deadline that never runs out. The
queue survives every such deadline, and keeps its promises:

* a slice always starts its first task: on a conforming host the deadline has time left
  when the callback starts (the event loop only invokes callbacks before the deadline), and
  on a flawed one this is what keeps the queue moving;
* then it goes on while ``time_remaining() > 0``, or, once the deadline timed out, for a
  budget of its own (``timed_out_budget_ms``: a timed-out callback must make progress, but
  draining the whole queue, as the MDN example does, would freeze the page);
* the deadline may come earlier within a slice (a timer or frame requested meanwhile
  lowers it at once), but never later: each slice holds to the earliest end it has read.
  ``timeRemaining()`` is re-evaluated on every call, and on a host whose last render
  opportunity time follows the clock (the reference's choice for F-07) a slice whose task
  ran past a vsync reads a fresh frame's time; the MDN loop then runs on, frame after
  frame, until the 50 ms cap;
* and never past :data:`MAX_SLICE_MS`, the longest idle period the spec allows, whatever
  the deadline claims. Anything unreadable reads as no time left and not timed out.
"""

from __future__ import annotations

import math
from collections.abc import Callable

#: HTML's cap on an idle period (event loop processing model step 5.2.1): no conforming
#: deadline is further away, so no slice runs longer.
MAX_SLICE_MS = 50.0


def time_remaining(deadline: object) -> float:
    """``deadline.time_remaining()`` as a number of ms; 0 if it cannot be read as one."""
    try:
        value = deadline.time_remaining()  # type: ignore[attr-defined]
    except Exception:  # a candidate's deadline may raise anything; it reads as no time left
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return 0.0
    return float(value)


def did_timeout(deadline: object) -> bool:
    """``deadline.did_timeout`` if it is the boolean True; False otherwise."""
    try:
        value = deadline.did_timeout  # type: ignore[attr-defined]
    except Exception:  # an unreadable flag is not a timeout
        return False
    return value is True


class SliceBudget:
    """Whether a slice that started at ``start`` may start another task.

    Args:
        now: the host's clock.
        deadline: the idle callback's deadline, or None for a slice the queue runs from its
            own timer (which counts as timed out).
        timed_out_budget_ms: how long a timed-out slice may go on.
    """

    def __init__(
        self, now: Callable[[], float], deadline: object | None, timed_out_budget_ms: float
    ) -> None:
        self._now = now
        self._deadline = deadline
        self.start = now()
        self.timed_out = deadline is None or did_timeout(deadline)
        self._timed_out_budget_ms = timed_out_budget_ms
        # The earliest end read so far, read before the first task runs (a task that ran
        # past a vsync would otherwise make the first reading a later frame's).
        self._end = self.start + MAX_SLICE_MS
        if deadline is not None:
            self._end = min(self._end, self.start + time_remaining(deadline))

    def allows_another(self) -> bool:
        """Whether the slice may start one more task now."""
        now = self._now()
        if self._deadline is not None:
            self._end = min(self._end, now + time_remaining(self._deadline))
            if now < self._end:
                return True
        return self.timed_out and now - self.start < min(self._timed_out_budget_ms, MAX_SLICE_MS)
