"""Deliberately broken candidates: the reference with one requirement violated each.

Each must fail at least one row, or the suite cannot see that bug (README.md, "Layout").
Each is a native candidate wrapping the reference window.
"""

from __future__ import annotations

from typing import Any

from idlespec.reference import IdleDeadline, Window
from idlespec.reference.webidl import to_unsigned_long


class _Broken:
    kind = "native"
    version = "broken"
    provenance = "tests/broken_candidates.py"
    name = "broken"

    def install(self, window: Window) -> Any:
        return _Binding(self, window)

    def request(self, window: Window, callback: Any, options: Any) -> int:
        return window.request_idle_callback(callback, options)

    def cancel(self, window: Window, handle: Any) -> None:
        window.cancel_idle_callback(handle)


class _Binding:
    def __init__(self, owner: _Broken, window: Window) -> None:
        self.owner, self.window = owner, window

    def request_idle_callback(self, callback: Any, options: Any = None) -> int:
        return self.owner.request(self.window, callback, options)

    def cancel_idle_callback(self, handle: Any) -> None:
        self.owner.cancel(self.window, handle)


class _Deadline:
    """A deadline that lies: ``extra`` ms more, or didTimeout forced."""

    def __init__(
        self, real: IdleDeadline, extra: float = 0.0, did_timeout: bool | None = None
    ) -> None:
        self.real, self.extra, self.forced = real, extra, did_timeout

    def time_remaining(self) -> float:
        return self.real.time_remaining() + self.extra

    @property
    def did_timeout(self) -> bool:
        return self.real.did_timeout if self.forced is None else self.forced


class Lifo(_Broken):
    """Runs the newest callback first (violates R-12/R-34)."""

    name = "broken-lifo"

    def request(self, window: Window, callback: Any, options: Any) -> int:
        handle = super().request(window, callback, options)
        window.list_of_idle_request_callbacks.move_to_end(handle, last=False)
        return handle


class Cap60(_Broken):
    """Reports 10 ms more than the deadline allows: a 60 ms cap (violates R-50/R-51)."""

    name = "broken-cap60"

    def request(self, window: Window, callback: Any, options: Any) -> int:
        if not callable(callback):
            return super().request(window, callback, options)
        return super().request(window, lambda d: callback(_Deadline(d, extra=10.0)), options)


class CancelPendingOnly(_Broken):
    """Cancel ignores the list of runnable idle callbacks (violates R-19/R-20)."""

    name = "broken-cancel-pending-only"

    def cancel(self, window: Window, handle: Any) -> None:
        window.list_of_idle_request_callbacks.pop(to_unsigned_long(handle), None)


class IgnoresTimeout(_Broken):
    """Drops the timeout option (violates R-14)."""

    name = "broken-ignores-timeout"

    def request(self, window: Window, callback: Any, options: Any) -> int:
        return super().request(window, callback, None if isinstance(options, dict) else options)


class NeverTimedOut(_Broken):
    """didTimeout is always false (violates R-25/R-41)."""

    name = "broken-never-timed-out"

    def request(self, window: Window, callback: Any, options: Any) -> int:
        if not callable(callback):
            return super().request(window, callback, options)
        return super().request(window, lambda d: callback(_Deadline(d, did_timeout=False)), options)


class StopsAfterException(_Broken):
    """An exception drops the rest of the period's callbacks (violates R-48)."""

    name = "broken-stops-after-exception"

    def request(self, window: Window, callback: Any, options: Any) -> int:
        if not callable(callback):
            return super().request(window, callback, options)

        def guarded(deadline: Any) -> None:
            try:
                callback(deadline)
            except Exception:
                window.list_of_runnable_idle_callbacks.clear()
                raise

        return super().request(window, guarded, options)


BROKEN = [
    Lifo(),
    Cap60(),
    CancelPendingOnly(),
    IgnoresTimeout(),
    NeverTimedOut(),
    StopsAfterException(),
]
lifo = Lifo()
