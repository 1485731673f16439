"""Make Python's global clocks follow a :class:`VirtualClock` while a run is active.

Code under test may read ``time.monotonic``, ``time.perf_counter``, ``time.time`` or
``datetime.now`` instead of the host it is given. While a :class:`GlobalClockFollower` is
active, freezegun answers those calls, and the follower moves freezegun's frozen time on
every advance of the virtual clock it follows: virtual time ``t`` ms reads as
``EPOCH + t`` ms on every global clock.

freezegun is started once per run (a start walks every loaded module, a few ms) and then
only moved (under a microsecond); a suite that runs many loops starts one follower and
points it at each loop's clock in turn with :meth:`GlobalClockFollower.follow`.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .clock import VirtualClock

#: What virtual time 0 reads as on the global clocks (UTC).
EPOCH = _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)

_active: list[GlobalClockFollower] = []


def wall_clock(_perf_counter: Callable[[], float] = time.perf_counter) -> float:
    """The real ``time.perf_counter()``, even while freezegun is active.

    freezegun swaps every *module attribute* that is the real function, so a plain
    ``from time import perf_counter`` would be frozen too; a default argument is not.
    Only for measuring real time (watchdogs, timings), never for semantics.
    """
    return _perf_counter()


def active_follower() -> GlobalClockFollower | None:
    """The innermost follower that is active now, if any."""
    return _active[-1] if _active else None


class GlobalClockFollower:
    """freezegun, started once, following whichever virtual clock it is pointed at."""

    def __init__(self) -> None:
        self._freezer: Any = None
        self._frozen: Any = None
        self._clock: VirtualClock | None = None
        self._microseconds = 0  # virtual time freezegun shows now, in whole microseconds

    def __enter__(self) -> GlobalClockFollower:
        # Imported here, not at the top: freezegun brings asyncio and dateutil (about 0.16 s),
        # which a process that never freezes (the reference alone, a JS candidate) skips.
        import freezegun  # noqa: PLC0415

        self._freezer = freezegun.freeze_time(EPOCH)
        self._frozen = self._freezer.start()
        self._microseconds = 0
        _active.append(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.follow(None)
        _active.remove(self)
        self._freezer.stop()

    def follow(self, clock: VirtualClock | None) -> None:
        """Follow ``clock`` from now on (``None``: stop following any clock)."""
        if self._clock is not None:
            self._clock.remove_listener(self._move)
        self._clock = clock
        if clock is not None:
            clock.add_listener(self._move)
            self._move(clock.now)

    @property
    def clock(self) -> VirtualClock | None:
        """The clock followed now."""
        return self._clock

    def _move(self, now: float) -> None:
        # A tick by a whole number of microseconds, from the rounded target: cheaper than
        # move_to (no parsing), and rounding never accumulates.
        target = round(now * 1000)
        if target != self._microseconds:
            self._frozen.tick(_dt.timedelta(microseconds=target - self._microseconds))
            self._microseconds = target
