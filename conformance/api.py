"""The candidate API: everything a candidate author needs, and nothing of the harness.

A *candidate* is an implementation of ``requestIdleCallback`` that the suite judges. It has a
``name``, a ``version``, a ``kind`` and optionally a ``provenance`` (where it comes from, for
reports), and it is one of three kinds; each kind has one connector in the harness
(:mod:`idlespec.conformance.connectors`) that knows how to run a row against it:

``native``
    Replaces the reference window's rIC with its own algorithms. ``install(window)`` gets
    the reference :class:`~idlespec.reference.Window` and returns a :class:`Binding`.
``userland``
    Built only on host primitives, like a polyfill in a page. ``install(host)`` gets a
    :class:`Host` for one window and returns a :class:`Binding`. If the binding has a
    ``page`` attribute (a :class:`Host`), the scenario's own timers, frames and microtasks
    go through it: that is how a polyfill that wraps ``setTimeout`` or
    ``requestAnimationFrame`` sees the page's calls, as it would by replacing the globals.
``self-hosted``
    Brings its own event loop (a fake clock, a browser). ``run_row(row) -> Trace`` performs
    the row's scenario in that loop; ``unsupported_actions`` names the step actions it cannot
    express (rows using them are UNSUPPORTED, never approximated), and an optional
    ``unsupported_row(row)`` gives the reason for any other row it cannot run.

Lifecycle (every method optional; :class:`CandidateBase` has them all): ``open()`` once
before a run's first row (start a process, load a package), ``reset()`` after every row
(free what the row made), ``close()`` at the end, and ``restart()`` after a crash or a
watchdog hit. ``open()`` may raise :class:`CandidateUnavailable`: every row is then
UNSUPPORTED with its message (for example, Node is not installed). ``in_process`` says
whether the candidate's code runs as Python in this process: only then are Python's global
clocks (``time.monotonic``, ``datetime.now``, ...) frozen to the virtual clock while its rows
run, since the freeze would hang any pipe or socket. ``reads_global_clocks = False`` says the
code never reads them (the reference's own), so no freeze is needed.

This module imports only the reference's host types, so a candidate that uses it does not
load the harness.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from idlespec.reference import Window
from idlespec.reference.tasks import DEFAULT_TASK_SOURCE

if TYPE_CHECKING:
    from .rows import Row
    from .trace import Trace

__all__ = [
    "KINDS",
    "Binding",
    "Candidate",
    "CandidateBase",
    "CandidateCrashed",
    "CandidateUnavailable",
    "Deadline",
    "Host",
    "HostWindow",
    "Kind",
    "NativeCandidate",
    "SelfHostedCandidate",
    "UserlandCandidate",
    "expectations_name",
    "file_stem",
]

Kind = Literal["native", "userland", "self-hosted"]

#: The candidate kinds, each run by one connector.
KINDS: tuple[Kind, ...] = ("native", "userland", "self-hosted")


def file_stem(name: str) -> str:
    """A candidate's name as a file name (raw results, badges, expectation files).

    ``npm:@sinonjs/fake-timers@15.5.0`` is ``npm-sinonjs-fake-timers-15.5.0``.
    """
    return re.sub(r"[^A-Za-z0-9._]+", "-", name).strip("-.") or "candidate"


def expectations_name(candidate: object) -> str:
    """Whose expectation file applies: the candidate's ``expectations``, or its name.

    A twin (the JS port of a Python shim) names its original, whose known failures it shares.
    """
    name = getattr(candidate, "expectations", None) or getattr(candidate, "name", "")
    return str(name)


class CandidateUnavailable(Exception):
    """``open()`` cannot make the candidate runnable here (the reason is the message)."""


class CandidateCrashed(BaseException):
    """The candidate's process died, hung up or broke its protocol.

    A BaseException, so that neither the candidate's code nor the host's "report the
    exception and go on" can swallow it: it ends the row (ERROR), and the candidate is
    restarted before the next one.
    """


@runtime_checkable
class Deadline(Protocol):
    """What an idle callback receives (``IdleDeadline``)."""

    @property
    def did_timeout(self) -> object:
        """``didTimeout``: true when the callback ran because its timeout expired."""

    def time_remaining(self) -> object:
        """``timeRemaining()``: ms left in the idle period, never negative."""


@runtime_checkable
class Binding(Protocol):
    """``requestIdleCallback`` and ``cancelIdleCallback`` as installed on one window.

    Arguments arrive as the Python stand-ins for JS values that
    :mod:`idlespec.reference.webidl` lists (``None`` is ``null``, ``UNDEFINED`` is
    ``undefined``, a mapping is an object, ...). A callback is called with one
    :class:`Deadline`.
    """

    def request_idle_callback(self, callback: Any, options: Any = None) -> Any:
        """``requestIdleCallback(callback, options)``: the handle."""

    def cancel_idle_callback(self, handle: Any) -> Any:
        """``cancelIdleCallback(handle)``."""


@runtime_checkable
class Host(Protocol):
    """The primitives a page has, for one window: what a userland candidate builds on."""

    def set_timeout(self, callback: Callable[[], object], delay: object = 0) -> int:
        """``setTimeout(callback, delay)``: the timer's id."""

    def clear_timeout(self, handle: object) -> None:
        """``clearTimeout(handle)``."""

    def request_animation_frame(self, callback: Callable[[float], object]) -> int:
        """``requestAnimationFrame(callback)``; ``callback(timestamp_ms)``."""

    def cancel_animation_frame(self, handle: object) -> None:
        """``cancelAnimationFrame(handle)``."""

    def now(self) -> float:
        """``performance.now()``: the current high resolution time, ms."""

    def queue_microtask(self, callback: Callable[[], object]) -> None:
        """``queueMicrotask(callback)``."""

    def queue_task(self, callback: Callable[[], object], source: str = DEFAULT_TASK_SOURCE) -> None:
        """Queue a task (what ``postMessage`` or a ``MessageChannel`` does)."""

    def report_error(self, error: BaseException) -> None:
        """Report an exception, as a page's ``reportError`` does."""


class HostWindow:
    """The :class:`Host` of one reference window: every call goes to the reference host."""

    __slots__ = ("_window",)

    def __init__(self, window: Window) -> None:
        self._window = window

    def set_timeout(self, callback: Callable[[], object], delay: object = 0) -> int:
        """``setTimeout(callback, delay)``."""
        return self._window.set_timeout(callback, delay)

    def clear_timeout(self, handle: object) -> None:
        """``clearTimeout(handle)``."""
        self._window.clear_timeout(handle)

    def request_animation_frame(self, callback: Callable[[float], object]) -> int:
        """``requestAnimationFrame(callback)``; ``callback(timestamp_ms)``."""
        return self._window.request_animation_frame(callback)

    def cancel_animation_frame(self, handle: object) -> None:
        """``cancelAnimationFrame(handle)``."""
        self._window.cancel_animation_frame(handle)

    def now(self) -> float:
        """``performance.now()``: the current high resolution time, ms."""
        return self._window.loop.current_high_resolution_time()

    def queue_microtask(self, callback: Callable[[], object]) -> None:
        """``queueMicrotask(callback)``."""
        self._window.queue_microtask(callback)

    def queue_task(self, callback: Callable[[], object], source: str = DEFAULT_TASK_SOURCE) -> None:
        """Queue a global task for this window on ``source``."""
        self._window.queue_task(callback, source)

    def report_error(self, error: BaseException) -> None:
        """Report an exception (what a page's ``reportError`` does)."""
        if isinstance(error, Exception):
            self._window.loop.report_an_exception(self._window, error)
        else:
            raise error


class _Described(Protocol):
    """What every candidate has (plain class attributes satisfy these properties)."""

    @property
    def name(self) -> str:
        """A short name, used in reports and on the command line."""

    @property
    def version(self) -> str:
        """The version judged."""


@runtime_checkable
class NativeCandidate(_Described, Protocol):
    """A candidate that replaces the reference window's rIC."""

    @property
    def kind(self) -> Literal["native"]:
        """``"native"``."""

    def install(self, window: Window) -> Binding:
        """Install on one reference window; return the binding the scenario calls."""


@runtime_checkable
class UserlandCandidate(_Described, Protocol):
    """A candidate built only on host primitives."""

    @property
    def kind(self) -> Literal["userland"]:
        """``"userland"``."""

    def install(self, host: Host) -> Binding:
        """Install on one window's host; return the binding the scenario calls."""


@runtime_checkable
class SelfHostedCandidate(_Described, Protocol):
    """A candidate with its own event loop."""

    @property
    def kind(self) -> Literal["self-hosted"]:
        """``"self-hosted"``."""

    @property
    def unsupported_actions(self) -> frozenset[str]:
        """Step actions it cannot perform: rows using them are UNSUPPORTED."""

    def run_row(self, row: Row) -> Trace:
        """Perform the row's scenario in the candidate's own world and return the trace."""


Candidate = NativeCandidate | UserlandCandidate | SelfHostedCandidate


class CandidateBase:
    """Defaults for the optional parts of a candidate: subclass it, or don't.

    Subclasses set ``name``, ``version`` and ``kind``, and define ``install`` or
    ``run_row``.
    """

    provenance: str = ""
    #: Whether its code runs as Python in this process (then global clocks are frozen).
    in_process: ClassVar[bool] = True
    #: Whether its code may read Python's global clocks (False: no freeze is needed).
    reads_global_clocks: ClassVar[bool] = True
    unsupported_actions: frozenset[str] = frozenset()

    def unsupported_row(self, row: Row) -> str | None:
        """Why the candidate cannot express ``row`` beyond its unsupported actions, or None."""
        return None

    def open(self) -> None:
        """Before a run's first row."""

    def reset(self) -> None:
        """After every row."""

    def restart(self) -> None:
        """After a crash or a watchdog hit: make the next row start clean."""

    def close(self) -> None:
        """After the run's last row."""
