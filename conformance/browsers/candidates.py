"""Browser candidates: Chromium (live and CDP virtual time) and Firefox ESR (live).

Each is self-hosted: the row runs in a page served from localhost, by the JavaScript
interpreter of the row language in ``page/runner.js``, against the page's own
``requestIdleCallback`` (or a polyfill loaded into the page after the native API is
deleted). Several windows are same-origin iframes.

Live mode is real time: each row runs :data:`LIVE_REPETITIONS` times and a row that
disagrees with itself is FLAKY; times and ``timeRemaining()`` values are judged with the
live tolerances of :data:`idlespec.conformance.expect.LIVE_TOLERANCES`; a row whose scenario
spans more than :data:`LIVE_MAX_SPAN_MS` is UNSUPPORTED live. How long a row runs is taken
from the reference: its final virtual time, plus :data:`SETTLE_MS`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

from idlespec.reference import wall_clock

from ..api import CandidateBase, CandidateUnavailable
from ..connectors import run_row as run_on_host
from ..expect import LIVE_TOLERANCES, VIRTUAL_TOLERANCES, vacuous
from ..node.candidates import JS_CANDIDATES, Source, node_modules, provenance_of, resolve_files
from ..rows import Row
from ..trace import Trace
from .engines import (
    ENGINES,
    Chromium,
    Engine,
    EngineError,
    PageError,
    browser_version,
    find_browser,
)
from .server import OWN_JS_DIR, PageServer

Mode = Literal["live", "virtual"]

#: Repetitions of every row; a row whose verdicts differ is FLAKY.
LIVE_REPETITIONS: Final = 3
#: Longest scenario run live (by the reference's final time): longer ones are UNSUPPORTED.
LIVE_MAX_SPAN_MS: Final = 2000.0
#: Real (or virtual) time a row goes on after the reference's last event, for late engines.
SETTLE_MS: Final = 200.0
#: How much longer a row may wait, past its span, while an idle callback it posted waits:
#: a UA may delay idle periods (Firefox gives about one callback per 100 ms).
QUIET_EXTRA_MS: Final = 1500.0
#: Virtual mode: the clock advances in steps of this many ms (idle periods can begin only
#: between steps: the mode's resolution), with this much real time paused between steps.
VIRTUAL_STEP_MS: Final = 10.0
VIRTUAL_IDLE_WAIT_S: Final = 0.005
#: Longest scenario run in virtual mode (stepping 4 294 967 295 ms is not possible).
VIRTUAL_MAX_SPAN_MS: Final = 5000.0
#: Real seconds a row may take beyond its span before the engine counts as hung.
_ROW_GRACE_S: Final = 20.0


class BrowserCandidate(CandidateBase):
    """One engine in one mode, with the native API or a polyfill."""

    kind: Literal["self-hosted"] = "self-hosted"
    in_process = False

    def __init__(self, engine: str, mode: Mode, polyfill: tuple[str, Source] | None = None) -> None:
        self.engine = engine
        self.mode = mode
        self.polyfill = polyfill
        executable = find_browser(engine)
        self.executable = executable
        self.version = browser_version(executable) if executable else "not installed"
        suffix = "" if mode == "live" else f" ({mode})"
        what = f" + {polyfill[0]}" if polyfill else ""
        self.name = f"{engine}@{self.version}{suffix}{what}"
        #: Expectation and notes files are per engine and mode, not per version.
        self.expectations = f"{engine}-{mode}" + (f"-{polyfill[0]}" if polyfill else "")
        # A polyfill's own provenance (its version, and an npm package's integrity hash) is
        # part of this one: a new polyfill version is a new candidate (--refresh reruns it).
        self.provenance = f"Debian's {engine} {self.version}, {mode} mode" + (
            f", native API deleted, then loaded: {provenance_of(polyfill[1], polyfill[0])}"
            if polyfill
            else ", native API"
        )
        # Virtual runs repeat too: idle callbacks under CDP virtual time were seen not to run
        # every time; a row that disagrees with itself is FLAKY there as well.
        self.repetitions = LIVE_REPETITIONS
        self.tolerances: Mapping[str, float] = (
            LIVE_TOLERANCES if mode == "live" else VIRTUAL_TOLERANCES
        )
        self.unsupported_actions: frozenset[str] = frozenset()
        self._engine: Engine | None = None
        self._server: PageServer | None = None
        self._candidate_spec: dict[str, Any] = {"kind": "native"}
        self._spans: dict[str, float] = {}

    # Lifecycle ---------------------------------------------------------------------------

    def open(self) -> None:
        """Serve the page, launch the browser, ask the runner what it cannot express.

        Raises:
            CandidateUnavailable: the browser (or the polyfill's package) is not installed.
        """
        if self.executable is None:
            raise CandidateUnavailable(
                f"{self.engine} is not installed (apt-get install {self.engine})"
            )
        try:
            import websockets  # noqa: F401, PLC0415
        except ImportError:
            raise CandidateUnavailable(
                "the browsers need the websockets package: pip install 'idlespec[browsers]'"
            ) from None
        if self.polyfill is not None:
            name, source = self.polyfill
            (file,) = resolve_files(source)
            if source.package is None:
                url = "/idlespec/" + Path(file).relative_to(OWN_JS_DIR.resolve()).as_posix()
            else:
                url = "/node_modules/" + Path(file).relative_to(node_modules().resolve()).as_posix()
            self._candidate_spec = {
                "kind": "polyfill",
                "url": url,
                "format": source.format,
                "request": list(source.request),
                "cancel": list(source.cancel),
            }
            self.provenance += f"; {provenance_of(source, name)}"
        self._server = PageServer(node_modules())
        self._start()

    def _start(self) -> None:
        assert self._server is not None and self.executable is not None
        try:
            engine = ENGINES[self.engine](self.executable)
            engine.open_page(self._server.origin + "/index.html")
        except EngineError as error:
            raise CandidateUnavailable(f"{self.engine} did not start: {error}") from None
        self._engine = engine
        if self.mode == "virtual" and not isinstance(engine, Chromium):
            raise CandidateUnavailable(f"{self.engine} has no virtual time (CDP's is Chromium's)")
        unsupported = engine.evaluate(f"idlespecUnsupported({json.dumps(self.mode)})", 10.0)
        self.unsupported_actions = frozenset(unsupported or ())

    def restart(self) -> None:
        """A new browser after a hang or a crash."""
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        try:
            self._start()
        except CandidateUnavailable as error:
            raise EngineError(str(error)) from None

    def close(self) -> None:
        """Stop the browser and the server."""
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self._server is not None:
            self._server.close()
            self._server = None

    # Rows --------------------------------------------------------------------------------

    def span(self, row: Row) -> float:
        """How long the row's scenario lasts: ``run_until``, or the reference's final time."""
        if row.id not in self._spans:
            from ..candidates import ReferenceCandidate  # noqa: PLC0415 - a cycle otherwise

            if row.run_until is not None:
                self._spans[row.id] = float(row.run_until)
            else:
                self._spans[row.id] = run_on_host(row, ReferenceCandidate()).final_time
        return self._spans[row.id]

    def unsupported_row(self, row: Row) -> str | None:
        """A scenario longer than the mode can run (live: real time; virtual: its steps)."""
        limit = LIVE_MAX_SPAN_MS if self.mode == "live" else VIRTUAL_MAX_SPAN_MS
        if self.span(row) > limit:
            return (
                f"the scenario spans {self.span(row):g} ms (on the reference): more than "
                f"{limit:g} ms cannot run in {self.mode} mode"
            )
        cannot_fail = vacuous(row.expect, row.tolerance, self.tolerances)
        if cannot_fail:
            return f"in {self.mode} mode the row could not fail: {cannot_fail[0]}"
        return None

    def run_row(self, row: Row) -> Trace:
        """Run the row in the page; its trace."""
        engine = self._engine
        if engine is None:
            raise EngineError("the browser is not running")
        span = self.span(row)
        end_at = span if row.run_until is not None else span + SETTLE_MS
        quiet_by = end_at if row.run_until is not None else end_at + QUIET_EXTRA_MS
        options = {
            "mode": self.mode,
            "endAt": end_at,
            "quietBy": quiet_by,
            "candidate": self._candidate_spec,
        }
        call = f"idlespecRunRow({json.dumps(json.dumps(row.to_json()))}, {json.dumps(options)})"
        timeout_s = quiet_by / 1000 + _ROW_GRACE_S
        if self.mode == "virtual":
            steps = (quiet_by + 2 * VIRTUAL_STEP_MS) / VIRTUAL_STEP_MS
            timeout_s += steps * (VIRTUAL_IDLE_WAIT_S + 0.05)
        try:
            if self.mode == "virtual":
                return self._run_virtual(engine, call, quiet_by, timeout_s)
            data = engine.evaluate(call, timeout_s)
        except PageError as error:
            raise RuntimeError(f"the runner page threw: {error}") from None
        return Trace.from_json(data)

    def _run_virtual(self, engine: Engine, call: str, end_at: float, timeout_s: float) -> Trace:
        """CDP virtual time, a frozen clock: the row runs while virtual time stands still.

        Idle callbacks run while virtual time is paused (they get the frozen time), and a
        budget that advances straight through starves them, so the clock moves in steps of
        :data:`VIRTUAL_STEP_MS` with :data:`VIRTUAL_IDLE_WAIT_S` of real time paused between
        steps. Awaiting the row's promise across an advance never returns: the row stores
        its trace on the window, read after each step. ``end_at`` is the latest stop (the
        row's quietBy); a row usually ends before, once it is quiet.
        """
        assert isinstance(engine, Chromium)
        engine.virtual_time("pause")
        engine.evaluate(
            f"window.__idlespecRow = null; {call}.then((t) => {{ window.__idlespecRow = t; }}); true",
            10.0,
        )
        deadline = wall_clock() + timeout_s
        elapsed = 0.0
        time.sleep(VIRTUAL_IDLE_WAIT_S)  # real time, paused: idle callbacks at the frozen time
        data = None
        # Past end_at by the page's own quiet poll (25 ms) and a step, so its last look lands.
        while data is None and elapsed < end_at + 25.0 + 2 * VIRTUAL_STEP_MS:
            if wall_clock() > deadline:
                raise EngineError(f"virtual time reached only {elapsed:g} ms in {timeout_s:g} s")
            engine.virtual_time("advance", VIRTUAL_STEP_MS)
            engine.wait_for_budget(timeout_s)
            engine.virtual_time("pause")
            time.sleep(VIRTUAL_IDLE_WAIT_S)
            elapsed += VIRTUAL_STEP_MS
            data = engine.evaluate("window.__idlespecRow", 10.0)
        if data is None:
            raise RuntimeError(f"the row had not ended after {elapsed:g} ms of virtual time")
        return Trace.from_json(data)


#: The built-in browser candidates, by command-line name.
BROWSER_CANDIDATES: Final = {
    "chromium": ("chromium", "live"),
    "chromium-virtual": ("chromium", "virtual"),
    "firefox-esr": ("firefox-esr", "live"),
}


def make_browser_candidate(name: str) -> BrowserCandidate:
    """The candidate a command-line name stands for.

    ``chromium``, ``chromium-virtual``, ``firefox-esr``; and ``chromium+NAME`` for a JS
    userland candidate NAME (an npm polyfill, or idlespec's JS twins) loaded into live
    Chromium after the native API is deleted.
    """
    if name in BROWSER_CANDIDATES:
        engine, mode = BROWSER_CANDIDATES[name]
        return BrowserCandidate(engine, mode)  # type: ignore[arg-type]
    engine, _, js = name.partition("+")
    how, source, _description = JS_CANDIDATES[js]
    assert engine == "chromium" and how == "userland", name
    return BrowserCandidate("chromium", "live", (js, source))


#: ``chromium+NAME`` for every JS userland candidate: the polyfills in a real engine.
POLYFILLS_IN_CHROMIUM: Final = tuple(
    f"chromium+{name}" for name, (how, _, _) in JS_CANDIDATES.items() if how == "userland"
)
