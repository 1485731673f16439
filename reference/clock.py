"""The virtual clock: the single source of time for the reference host.

Milliseconds as ``float``, time origin 0, and it only moves forward. The event loop moves it
in two ways: a running callback *uses* time (``EventLoop.busy``), and when nothing is
runnable the loop jumps it to the next scheduled event (trio's ``MockClock`` autojump is the
model). Nothing here reads the host's clock.

One clock serves every window of a loop, so the spec's several clocks coincide
(spec.toml N-01): the *unsafe shared current time*, each window's *current high
resolution time* (relative to a time origin of 0) and the "current time" of the idle
algorithms (N-02) are all ``VirtualClock.now``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Listener = Callable[[float], None]


class ClockError(ValueError):
    """A request to move the virtual clock backwards, or to a time that is not a number."""


class VirtualClock:
    """A monotonic virtual clock in milliseconds, starting at 0.

    Listeners registered with :meth:`add_listener` are told the new time after every move;
    the freezegun follower (:mod:`idlespec.reference.freeze`) is one.
    """

    # ``now`` is a slot, not a property: the loop reads it several times per task, and a
    # slot reads at C speed. It stays read-only: __setattr__ refuses every write, and the
    # clock's own moves go through the slot's descriptor (_set_now).
    __slots__ = {
        "_listeners": "The listeners, called in order after every move.",
        "now": "The current virtual time in ms since the time origin (read-only).",
    }
    now: float
    _listeners: list[Listener]

    def __init__(self) -> None:
        _set_now(self, 0.0)
        object.__setattr__(self, "_listeners", [])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"VirtualClock.{name} is read-only: move the clock with advance_to()")

    def advance_to(self, when: float) -> None:
        """Move the clock to ``when``.

        Raises:
            ClockError: if ``when`` is earlier than now, or not a finite number.
        """
        if not math.isfinite(when) or when < self.now:
            raise ClockError(f"the virtual clock only moves forward: {self.now} -> {when}")
        if when == self.now:
            return
        _set_now(self, when)
        for listener in self._listeners:
            listener(when)

    def advance(self, ms: float) -> None:
        """Move the clock forward by ``ms`` milliseconds (``ms >= 0``)."""
        if not math.isfinite(ms) or ms < 0:
            raise ClockError(f"cannot advance the virtual clock by {ms} ms")
        self.advance_to(self.now + ms)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(now)`` after every move of the clock."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``; a listener never added is ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)


_set_now: Callable[[VirtualClock, float], None] = VirtualClock.__dict__["now"].__set__
