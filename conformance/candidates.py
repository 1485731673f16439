"""Candidates: the implementations the suite judges, and how they plug in.

Three kinds (see the README's "Candidate protocol"):

* **native** -- replaces the window's rIC with its own algorithms. ``install(window)`` gets the
  reference :class:`~idlespec.reference.Window` itself and returns the binding.
* **userland** -- built only on host primitives. ``install(host)`` gets a :class:`HostWindow`
  (``set_timeout``, ``clear_timeout``, ``request_animation_frame``,
  ``cancel_animation_frame``, ``now``, ``queue_microtask``, ``report_error``) and returns
  a binding with ``request_idle_callback(callback, options=None) -> int`` and
  ``cancel_idle_callback(handle)``.
* **self-hosted** -- brings its own loop: ``run_row(row) -> Trace`` performs the scenario
  itself; ``unsupported_actions`` names the step actions it cannot express (rows using them
  are UNSUPPORTED).

Every candidate has ``name``, ``version`` and ``kind``, and may have ``provenance`` (where it
comes from, for reports). Third parties plug in without editing idlespec: ``--candidate
module:attribute`` or an entry point in the group ``idlespec.candidates``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import idlespec
from idlespec.reference import Window

if TYPE_CHECKING:
    from .rows import Row
    from .trace import Trace

ENTRY_POINT_GROUP = "idlespec.candidates"


class Binding(Protocol):
    """What a hosted candidate installs on a window."""

    def request_idle_callback(self, callback: Any, options: Any = None) -> Any:
        """``requestIdleCallback``."""

    def cancel_idle_callback(self, handle: Any) -> Any:
        """``cancelIdleCallback``."""


class _Described(Protocol):
    """What every candidate has (plain class attributes satisfy these properties)."""

    @property
    def name(self) -> str:
        """A short name, used in reports and on the command line."""

    @property
    def version(self) -> str:
        """The version judged."""


@runtime_checkable
class HostedCandidate(_Described, Protocol):
    """A native or userland candidate."""

    @property
    def kind(self) -> Literal["native", "userland"]:
        """How it is hosted."""

    def install(self, window: Any) -> Binding:
        """Install on one window; return the binding the scenario calls."""


@runtime_checkable
class SelfHostedCandidate(_Described, Protocol):
    """A candidate with its own event loop."""

    @property
    def kind(self) -> Literal["self-hosted"]:
        """How it is hosted."""

    @property
    def unsupported_actions(self) -> frozenset[str]:
        """Step actions it cannot perform: rows using them are UNSUPPORTED."""

    def run_row(self, row: Row) -> Trace:
        """Perform the row's scenario in the candidate's own world and return the trace."""


Candidate = HostedCandidate | SelfHostedCandidate


class HostWindow:
    """The host primitives a userland candidate may use, for one window.

    The scenario's own timers and frames go through the same object, so a candidate that
    wraps these methods (to learn of pending timers) sees the page's timers too.
    """

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

    def report_error(self, error: BaseException) -> None:
        """Report an exception (what a page's ``reportError`` does)."""
        if isinstance(error, Exception):
            self._window.loop.report_an_exception(self._window, error)
        else:
            raise error


class ReferenceCandidate:
    """The reference itself: the spec's algorithms, native."""

    name = "reference"
    version = idlespec.__version__
    kind: Literal["native"] = "native"
    provenance = "idlespec.reference (the executable spec)"

    def install(self, window: Window) -> Window:
        """The reference window already implements requestIdleCallback."""
        return window


_BUILTIN_SHIMS = (
    ("settimeout-shim", "idlespec.shims.settimeout"),
    ("polyfill", "idlespec.shims.polyfill"),
)


def builtin_candidates() -> dict[str, Callable[[], Candidate]]:
    """The candidates idlespec ships, by name (factories, so nothing loads until asked)."""

    def shim(module: str) -> Callable[[], Candidate]:
        # Imported when asked for, so listing candidates loads no shim.
        return lambda: _as_candidate(importlib.import_module(module).candidate, module)

    found: dict[str, Callable[[], Candidate]] = {"reference": ReferenceCandidate}
    found.update((name, shim(module)) for name, module in _BUILTIN_SHIMS)
    return found


class CandidateError(LookupError):
    """A candidate name or ``module:attribute`` that does not resolve to a candidate."""


def available_candidates() -> dict[str, str]:
    """Every candidate name that resolves without a ``module:attribute``, with its origin."""
    names = {name: "built in" for name in builtin_candidates()}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        names.setdefault(ep.name, f"entry point {ep.value}")
    return names


def resolve_candidate(spec: str) -> Candidate:
    """A candidate from a built-in name, an entry-point name or ``module:attribute``.

    The attribute may be a candidate object, or a class or factory that makes one when
    called with no arguments.
    """
    builtins = builtin_candidates()
    if spec in builtins:
        return builtins[spec]()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == spec:
            return _as_candidate(ep.load(), spec)
    if ":" in spec:
        module_name, _, attribute = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise CandidateError(f"{spec}: cannot import {module_name!r}: {error}") from None
        try:
            target = getattr(module, attribute)
        except AttributeError:
            raise CandidateError(f"{spec}: {module_name!r} has no {attribute!r}") from None
        return _as_candidate(target, spec)
    known = ", ".join(sorted(available_candidates()))
    raise CandidateError(f"unknown candidate {spec!r} (known: {known}; or module:attribute)")


def _as_candidate(target: Any, spec: str) -> Candidate:
    if not _looks_like_candidate(target) and callable(target):
        target = target()
    if not _looks_like_candidate(target):
        raise CandidateError(
            f"{spec}: not a candidate (needs name, version, kind, and install() or run_row())"
        )
    return target  # type: ignore[no-any-return]


def _looks_like_candidate(target: Any) -> bool:
    if isinstance(target, type):
        return False
    kind = getattr(target, "kind", None)
    if not isinstance(getattr(target, "name", None), str):
        return False
    if kind in ("native", "userland"):
        return callable(getattr(target, "install", None))
    if kind == "self-hosted":
        return callable(getattr(target, "run_row", None)) and hasattr(target, "unsupported_actions")
    return False
