"""Deliberately broken candidates: the reference with one requirement violated each.

Each must fail at least one row, or the suite cannot see that bug (README.md, "Layout").
Each is a native candidate wrapping the reference window.
"""

from __future__ import annotations

from typing import Any

from idlespec.reference import IdleDeadline, Window
from idlespec.reference.tasks import IDLE_TASK_SOURCE
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


class _Wrapping(_Broken):
    """Wraps every callable callback the page posts (non-callables go through unchanged)."""

    def wrap(self, window: Window, callback: Any) -> Any:
        raise NotImplementedError

    def request(self, window: Window, callback: Any, options: Any) -> int:
        if not callable(callback):
            return super().request(window, callback, options)
        return super().request(window, self.wrap(window, callback), options)


class AlwaysTimedOut(_Wrapping):
    """didTimeout is always true, as in @sinonjs/fake-timers (violates R-25/R-26)."""

    name = "broken-always-timed-out"

    def wrap(self, window: Window, callback: Any) -> Any:
        return lambda d: callback(_Deadline(d, did_timeout=True))


class NegativeRemaining(_Wrapping):
    """timeRemaining() is not floored at 0, as polyfill-library's (violates R-22/R-23)."""

    name = "broken-negative-remaining"

    def wrap(self, window: Window, callback: Any) -> Any:
        return lambda d: callback(_Deadline(d, extra=-60.0))


class FiftyFromRequest(_Wrapping):
    """The deadline is 50 ms from the request, blind to the idle period, as the classic
    fallback's (violates R-50/R-51)."""

    name = "broken-fifty-from-request"

    def wrap(self, window: Window, callback: Any) -> Any:
        posted = window.loop.now

        class FromRequest:
            did_timeout = False

            def __init__(self, real: Any) -> None:
                self.did_timeout = real.did_timeout

            def time_remaining(self) -> float:
                return max(0.0, 50.0 - (window.loop.now - posted))

        return lambda d: callback(FromRequest(d))


class AcceptsAnyCallback(_Broken):
    """No WebIDL check on the callback: a non-callable is queued and skipped, as
    requestidlecallback's (violates R-04)."""

    name = "broken-accepts-any-callback"

    def request(self, window: Window, callback: Any, options: Any) -> int:
        return super().request(
            window, callback if callable(callback) else (lambda d: None), options
        )


class CancelIsANoOp(_Broken):
    """cancelIdleCallback does nothing (violates R-18..R-20)."""

    name = "broken-cancel-noop"

    def cancel(self, window: Window, handle: Any) -> None:
        to_unsigned_long(handle)


class HandlesFromZero(_Broken):
    """Handles count from 0, as an array index would (violates R-08/R-10)."""

    name = "broken-handles-from-zero"

    def request(self, window: Window, callback: Any, options: Any) -> int:
        return super().request(window, callback, options) - 1

    def cancel(self, window: Window, handle: Any) -> None:
        super().cancel(window, to_unsigned_long(handle) + 1)


class TimeoutDoubled(_Broken):
    """The timeout waits twice as long (a unit slip; violates R-14/R-15)."""

    name = "broken-timeout-doubled"

    def request(self, window: Window, callback: Any, options: Any) -> int:
        if isinstance(options, dict) and isinstance(options.get("timeout"), (int, float)):
            options = {**options, "timeout": options["timeout"] * 2}
        return super().request(window, callback, options)


class RunsSynchronously(_Broken):
    """Calls the callback inside requestIdleCallback when the loop looks idle, as ric's
    (violates R-12/R-27)."""

    name = "broken-runs-synchronously"

    def request(self, window: Window, callback: Any, options: Any) -> int:
        handle = super().request(window, callback, options)
        if callable(callback) and window.loop.current_task is not None:
            window.list_of_idle_request_callbacks.pop(handle, None)
            callback(_Deadline(_Fixed50(window), extra=0.0))
        return handle


class _Fixed50:
    """A deadline of 50 ms from now, never timed out."""

    did_timeout = False

    def __init__(self, window: Window) -> None:
        self.window, self.start = window, window.loop.now

    def time_remaining(self) -> float:
        return max(0.0, 50.0 - (self.window.loop.now - self.start))


class OneSharedDeadline(_Wrapping):
    """Every callback gets the same deadline object, frozen at the first run, as
    requestidlecallback's singleton (violates R-21/R-24)."""

    name = "broken-one-shared-deadline"

    def wrap(self, window: Window, callback: Any) -> Any:
        def run(deadline: Any) -> Any:
            shared = getattr(window, "_shared_deadline", None)
            if shared is None:
                shared = deadline
                window._shared_deadline = shared  # type: ignore[attr-defined]
            return callback(shared)

        return run


class MicrotasksAfterThePeriod(_Wrapping):
    """The callbacks' microtasks run only once the period's callbacks are done, as when a
    polyfill runs a whole batch in one task (requestidlecallback's; violates R-46)."""

    name = "broken-microtasks-after-the-period"

    def wrap(self, window: Window, callback: Any) -> Any:
        def run(deadline: Any) -> Any:
            loop = window.loop
            held: list[Any] = getattr(window, "_held_microtasks", [])
            window._held_microtasks = held  # type: ignore[attr-defined]
            before = list(loop._microtasks)
            loop._microtasks.clear()
            try:
                return callback(deadline)
            finally:
                held.extend(loop._microtasks)
                loop._microtasks.clear()
                loop._microtasks.extend(before)
                if not window.list_of_runnable_idle_callbacks:
                    loop._microtasks.extend(held)
                    held.clear()

        return run


class ReportsNothing(_Wrapping):
    """Swallows the callback's exception instead of reporting it (violates R-47)."""

    name = "broken-reports-nothing"

    def wrap(self, window: Window, callback: Any) -> Any:
        def run(deadline: Any) -> Any:
            try:
                return callback(deadline)
            except Exception:
                return None

        return run


class JoinsTheRunningPeriod(_Broken):
    """A callback posted from an idle callback runs in the same period (violates R-28/R-38)."""

    name = "broken-joins-the-running-period"

    def request(self, window: Window, callback: Any, options: Any) -> int:
        handle = super().request(window, callback, options)
        task = window.loop.current_task
        if task is not None and task.source == IDLE_TASK_SOURCE:
            window.list_of_runnable_idle_callbacks[handle] = (
                window.list_of_idle_request_callbacks.pop(handle)
            )
        return handle


class RejectsNullOptions(_Broken):
    """options null throws TypeError, as fake-timers' destructuring does (violates R-04)."""

    name = "broken-rejects-null-options"

    def install(self, window: Window) -> Any:
        class Binding(_Binding):
            def request_idle_callback(self, callback: Any, *options: Any) -> int:
                if options and options[0] is None:  # passed as null, not left out
                    raise TypeError("Cannot destructure 'null' as it is null.")
                return super().request_idle_callback(callback, *options)

        return Binding(self, window)


class ZeroTimeoutFires(_Broken):
    """A timeout that converts to 0 still fires at once, as Firefox's (violates R-13/R-14)."""

    name = "broken-zero-timeout-fires"

    def request(self, window: Window, callback: Any, options: Any) -> int:
        if isinstance(options, dict) and "timeout" in options:
            from idlespec.reference.webidl import convert_idle_request_options

            try:
                if convert_idle_request_options(options) == 0:
                    options = {"timeout": 1}
            except Exception:  # the reference raises its own conversion errors below
                pass
        return super().request(window, callback, options)


BROKEN = [
    Lifo(),
    Cap60(),
    CancelPendingOnly(),
    IgnoresTimeout(),
    NeverTimedOut(),
    StopsAfterException(),
    AlwaysTimedOut(),
    NegativeRemaining(),
    FiftyFromRequest(),
    AcceptsAnyCallback(),
    CancelIsANoOp(),
    HandlesFromZero(),
    TimeoutDoubled(),
    RunsSynchronously(),
    OneSharedDeadline(),
    MicrotasksAfterThePeriod(),
    ReportsNothing(),
    ZeroTimeoutFires(),
    JoinsTheRunningPeriod(),
    RejectsNullOptions(),
]
lifo = Lifo()
