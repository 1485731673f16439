"""A rate limit: at most ``count`` task starts in any window of ``per_ms`` ms (sliding)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` tasks start in any ``per_ms`` ms (default: ``count`` per second)."""

    count: int
    per_ms: float = 1000.0

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("RateLimit.count must be >= 1")
        if not (math.isfinite(self.per_ms) and self.per_ms > 0):
            raise ValueError("RateLimit.per_ms must be a positive number of ms")


class RateWindow:
    """The starts inside the current window of a :class:`RateLimit`."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.starts: deque[float] = deque()

    def free_at(self, now: float) -> float | None:
        """None if a task may start at ``now``; otherwise when the next one may."""
        window = self.limit.per_ms
        while self.starts and self.starts[0] + window <= now:
            self.starts.popleft()
        if len(self.starts) < self.limit.count:
            return None
        return self.starts[0] + window

    def note(self, now: float) -> None:
        """A task started at ``now``."""
        self.starts.append(now)
