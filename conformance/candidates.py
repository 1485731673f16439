"""Candidates: the implementations idlespec ships, and how a name resolves to one.

The candidate protocol (kinds, host primitives, binding, lifecycle) is
:mod:`idlespec.conformance.api`; the connector of each kind is
:mod:`idlespec.conformance.connectors`. Third parties plug in without editing idlespec:
``--candidate module:attribute`` or an entry point in the group ``idlespec.candidates``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import idlespec
from idlespec.reference import Window

from .api import (
    Binding,
    Candidate,
    CandidateBase,
    Host,
    HostWindow,
    NativeCandidate,
    SelfHostedCandidate,
    UserlandCandidate,
)
from .connectors import CONNECTORS, is_candidate
from .errors import CandidateError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoints

__all__ = [
    "ENTRY_POINT_GROUP",
    "Binding",
    "Candidate",
    "CandidateError",
    "Host",
    "HostWindow",
    "NativeCandidate",
    "ReferenceCandidate",
    "SelfHostedCandidate",
    "UserlandCandidate",
    "available_candidates",
    "builtin_candidates",
    "resolve_candidate",
]

ENTRY_POINT_GROUP = "idlespec.candidates"


class ReferenceCandidate(CandidateBase):
    """The reference itself: the spec's algorithms, native."""

    name = "reference"
    version = idlespec.__version__
    kind: Literal["native"] = "native"
    provenance = "idlespec.reference (the executable spec)"
    #: The reference reads only its virtual clock (tests/test_clock_freeze_in_runs.py runs every row with
    #: Python's global clocks made to raise), so its runs need no freeze.
    reads_global_clocks = False

    def install(self, window: Window) -> Window:
        """The reference window already implements requestIdleCallback."""
        return window


#: The JavaScript candidates (idlespec.conformance.node.candidates.JS_CANDIDATES), by name.
JS_CANDIDATE_NAMES = (
    "js-settimeout-shim",
    "js-polyfill",
    "npm:requestidlecallback@0.3.0",
    "npm:requestidlecallback-polyfill@1.0.2",
    "npm:ric-shim@1.0.1",
    "npm:ric@1.3.0",
    "npm:request-idle-callback@1.0.2",
    "npm:idlize@0.1.1",
    "npm:polyfill-library@4.8.0",
    "npm:@sinonjs/fake-timers@15.5.0",
    "npm:lolex@6.0.0",
    "npm:jsdom@29.1.1",
    "npm:happy-dom@21.0.4",
)

#: Real engines, run on demand (tox -e browsers): not in the default run, which must not
#: take minutes of real time (idlespec.conformance.browsers.candidates.BROWSER_CANDIDATES).
BROWSER_NAMES = ("chromium", "chromium-virtual", "firefox-esr")

#: JS candidates that are not userland polyfills (no page could load them as one).
_NOT_USERLAND = frozenset(
    {
        "npm:@sinonjs/fake-timers@15.5.0",
        "npm:lolex@6.0.0",
        "npm:jsdom@29.1.1",
        "npm:happy-dom@21.0.4",
    }
)

_BUILTIN_SHIMS = (
    ("settimeout-shim", "idlespec.shims.settimeout"),
    ("polyfill", "idlespec.shims.polyfill"),
)


def builtin_candidates() -> dict[str, Callable[[], Candidate]]:
    """The candidates idlespec ships, by name (factories, so nothing loads until asked)."""

    def shim(module: str) -> Callable[[], Candidate]:
        # Imported when asked for, so listing candidates loads no shim.
        return lambda: _as_candidate(importlib.import_module(module).candidate, module)

    def js(name: str) -> Callable[[], Candidate]:
        # Imported when asked for: the Node bridge loads nothing until a JS candidate runs.
        def make() -> Candidate:
            from .node.candidates import make_js_candidate  # noqa: PLC0415

            return make_js_candidate(name)  # type: ignore[return-value]

        return make

    found: dict[str, Callable[[], Candidate]] = {"reference": ReferenceCandidate}
    found.update((name, shim(module)) for name, module in _BUILTIN_SHIMS)
    found.update((name, js(name)) for name in JS_CANDIDATE_NAMES)
    return found


def _entry_points() -> EntryPoints:
    # Imported here: importlib.metadata costs about 40 ms, which a run of built-in
    # candidates (resolved before any entry point is looked up) never needs.
    from importlib.metadata import entry_points  # noqa: PLC0415

    return entry_points(group=ENTRY_POINT_GROUP)


def available_candidates() -> dict[str, str]:
    """Every candidate name that resolves without a ``module:attribute``, with its origin."""
    names = {name: "built in" for name in builtin_candidates()}
    names.update((name, "built in, on demand (a real browser)") for name in BROWSER_NAMES)
    names.update(
        (f"chromium+{name}", "built in, on demand (a JS polyfill in live Chromium)")
        for name in JS_CANDIDATE_NAMES
        if name.startswith(("js-", "npm:")) and name not in _NOT_USERLAND
    )
    for ep in _entry_points():
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
    for ep in _entry_points():
        if ep.name == spec:
            return _as_candidate(ep.load(), spec)
    if spec in BROWSER_NAMES or (
        spec.startswith("chromium+")
        and spec.partition("+")[2] in JS_CANDIDATE_NAMES
        and spec.partition("+")[2] not in _NOT_USERLAND
    ):
        from .browsers.candidates import make_browser_candidate  # noqa: PLC0415

        return make_browser_candidate(spec)
    if spec.startswith("js:"):
        from .node.candidates import js_file_candidate  # noqa: PLC0415

        if not Path(spec[3:]).is_file():
            raise CandidateError(f"{spec}: no such file")
        return js_file_candidate(spec[3:])
    if ":" in spec:
        module_name, _, attribute = spec.partition(":")
        if not module_name or not attribute:
            raise CandidateError(f"{spec}: write module:attribute, both non-empty")
        # As `python -m` does: a module beside the user (the current folder) is importable.
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
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
    if not is_candidate(target) and callable(target):
        try:
            target = target()
        except TypeError as error:
            raise CandidateError(
                f"{spec}: calling it with no arguments failed ({error}); name a candidate "
                "object, or a class or factory that needs no arguments"
            ) from None
    if not is_candidate(target):
        raise CandidateError(f"{spec}: not a candidate: {_what_is_missing(target)}")
    return target  # type: ignore[no-any-return]


def _what_is_missing(target: Any) -> str:
    """Which field of the candidate protocol ``target`` gets wrong (the first found)."""
    if not isinstance(getattr(target, "name", None), str):
        return "its `name` must be a string"
    kind = getattr(target, "kind", None)
    if not isinstance(kind, str) or kind not in CONNECTORS:
        return f"its `kind` is {kind!r}, not one of {', '.join(map(repr, CONNECTORS))}"
    needs = [m for m in CONNECTORS[kind].needs if not callable(getattr(target, m, None))]
    if needs:
        return f"a {kind} candidate needs the method {needs[0]}()"
    return "a self-hosted candidate needs `unsupported_actions` (a set of step actions)"
