"""Timed actions on the host's ``setTimeout``, using as few timers as possible.

Each host timer is a task for the page and, on a spec-following host, a cap on every idle
deadline until it expires (HTML computeDeadline reads the map of active timers, and
``clearTimeout`` does not take a timer out of that map). So the queue never clears a timer
and never sets one it does not need: its actions wait in one heap, and a host timer is set
only when an action is due before every timer already set.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

from idlespec.conformance.api import Host

#: Virtual times closer than this are equal (float sums of ms drift by ulps).
EPSILON = 1e-6


class HostTimers:
    """Run actions at host times, from the host's timers."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self._actions: list[tuple[float, int, Callable[[], object]]] = []
        self._fires: list[float] = []  # when the host timers set and not yet fired are due
        self._seq = 0

    def at(self, when: float, action: Callable[[], object]) -> None:
        """Run ``action`` from a host timer task at ``when`` (or as soon after as the host can)."""
        self._seq += 1
        heapq.heappush(self._actions, (when, self._seq, action))
        self._arm()

    def _arm(self) -> None:
        if not self._actions:
            return
        now = self._host.now()
        # setTimeout takes whole ms (a long): round up, so an action never runs early.
        delay = max(0, math.ceil(self._actions[0][0] - now - EPSILON))
        due = now + delay
        if self._fires and min(self._fires) <= due + EPSILON:
            return  # a timer already set fires no later, and re-arms
        self._fires.append(due)
        self._host.set_timeout(lambda: self._fire(due), delay)

    def _fire(self, due: float) -> None:
        self._fires.remove(due)
        now = self._host.now()
        while self._actions and self._actions[0][0] <= now + EPSILON:
            action = heapq.heappop(self._actions)[2]
            action()
        self._arm()
