"""Retry delays: exponential backoff with a cap, a bound on attempts and optional jitter."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Backoff:
    """How a failed task is retried.

    The delay after the n-th failed attempt is ``min(cap, base * factor ** (n - 1))``
    virtual ms; with ``jitter`` j > 0 it is drawn uniformly from ``[delay * (1 - j),
    delay]`` (j = 1 is "full jitter": anywhere from 0 to the delay), so jitter never makes a
    retry later than the exponential schedule. A task is tried at most ``max_attempts``
    times in all; then it is dead.

    Attributes:
        base: the delay after the first failure, ms.
        factor: what each further failure multiplies the delay by (at least 1).
        cap: the longest delay, ms.
        max_attempts: attempts before a task is dead (the first one included).
        jitter: the fraction of each delay that is random, 0 to 1.
        seed: seeds the jitter's generator; the same seed gives the same schedule
            (None: seeded by the OS, not reproducible).
    """

    base: float = 100.0
    factor: float = 2.0
    cap: float = 60_000.0
    max_attempts: int = 5
    jitter: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("base", "factor", "cap", "jitter"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"Backoff.{name} must be a finite number")
        if self.base < 0 or self.cap < 0:
            raise ValueError("Backoff.base and Backoff.cap must be >= 0")
        if self.factor < 1:
            raise ValueError("Backoff.factor must be >= 1 (delays never shrink)")
        if self.max_attempts < 1:
            raise ValueError("Backoff.max_attempts must be >= 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("Backoff.jitter must be between 0 and 1")

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """The wait after ``failures`` failed attempts (1 for the first), ms.

        ``rng`` draws the jitter; it is needed only when ``jitter`` is not 0.
        """
        if failures < 1:
            raise ValueError("failures counts from 1")
        delay = min(self.base, self.cap)
        # Multiplied step by step, so a long run of failures stops at the cap instead of
        # overflowing a float power.
        for _ in range(failures - 1):
            if delay >= self.cap:
                break
            delay = min(delay * self.factor, self.cap)
        if self.jitter:
            if rng is None:
                raise ValueError("a Backoff with jitter needs a random generator")
            delay -= delay * self.jitter * rng.random()
        return delay

    def schedule(self) -> list[float]:
        """The delays between attempts without jitter: ``max_attempts - 1`` of them."""
        plain = replace(self, jitter=0.0)
        return [plain.delay(n) for n in range(1, self.max_attempts)]

    def generator(self) -> random.Random:
        """A generator for this policy's jitter, seeded with ``seed``."""
        return random.Random(self.seed)
