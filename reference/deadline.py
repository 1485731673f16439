"""``IdleDeadline`` (rIC ``#the-idledeadline-interface``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .event_loop import EventLoop

GetDeadlineTime = Callable[[], float]


class IdleDeadline:
    """The object an idle callback receives.

    Like the IDL interface, it has no constructor: ``IdleDeadline()`` raises ``TypeError``
    (R-03). The algorithms make one with :meth:`create`.
    """

    __slots__ = ("_get_deadline_time", "_loop", "_timeout")

    _loop: EventLoop
    _get_deadline_time: GetDeadlineTime
    _timeout: bool

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("Illegal constructor: IdleDeadline has no constructor")

    @classmethod
    def create(
        cls, loop: EventLoop, get_deadline_time: GetDeadlineTime, *, timeout: bool
    ) -> IdleDeadline:
        """A new IdleDeadline whose *get deadline time* algorithm is ``get_deadline_time``.

        Args:
            loop: the event loop whose clock gives the current high resolution time.
            get_deadline_time: rIC ``#dfn-get-deadline-time``: returns an absolute time, ms.
            timeout: the ``#dfn-timeout`` flag.
        """
        self = object.__new__(cls)
        self._loop = loop
        self._get_deadline_time = get_deadline_time
        self._timeout = timeout
        return self

    def time_remaining(self) -> float:
        """rIC ``#dom-idledeadline-timeremaining``: ms left before the deadline, never < 0."""
        loop = self._loop
        # rIC #the-idledeadline-interface timeRemaining() step 1: now is the current high
        # resolution time (coarsened, relative to the time origin).
        now = loop.current_high_resolution_time()
        # step 2: deadline is this object's get deadline time, evaluated on every call
        # (so a timer or animation frame requested since the last call shows at once, R-24).
        deadline = self._get_deadline_time()
        # step 3
        remaining = deadline - now
        # step 4
        if remaining < 0:
            remaining = 0.0
        # step 5
        return loop.snap_to_resolution(remaining)

    @property
    def did_timeout(self) -> bool:
        """rIC ``#dom-idledeadline-didtimeout``: this object's timeout flag."""
        return self._timeout

    def __repr__(self) -> str:
        return f"IdleDeadline(did_timeout={self._timeout})"
