"""JavaScript candidates: npm packages as published, and idlespec's own JS files, on the bridge.

Each candidate is a row of :data:`JS_CANDIDATES`: where its files are, how a page or a
bundler loads them (classic script, CommonJS, ES module), and where the loaded code leaves
``requestIdleCallback`` and ``cancelIdleCallback``. Userland candidates run on the Python
reference host, one realm per window; self-hosted ones (fake clocks) run a row in their own
clock through an adapter; absent ones (DOM libraries without the API) are probed and shown.

npm packages come from the ``node_modules`` folder that ``npm ci`` fills from the
repository's ``package-lock.json`` (``IDLESPEC_NODE_MODULES`` names another one). The lock's
integrity hash is the candidate's provenance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from idlespec.reference import UNDEFINED, TaskBudgetExceeded

from ..api import CandidateBase, CandidateUnavailable, Host
from ..rows import Row
from ..trace import Trace
from .bridge import Bridge, BridgeError, JSError, find_node

NODE_DIR: Final = Path(__file__).parent
#: The repository root, where package.json and package-lock.json live (a source checkout).
REPO_ROOT: Final = NODE_DIR.parent.parent
#: The row an absent API is shown on: the simplest call there is.
ABSENCE_ROW: Final = "idl-handle-first-call-returns-one"

Format = Literal["script", "cjs", "esm"]


@dataclass(frozen=True)
class Source:
    """Where a JS candidate's code comes from and how it is loaded.

    Attributes:
        package: the npm package, or None for a file of idlespec's own (in conformance/node).
        version: the npm version pinned in package.json (idlespec's version for its own).
        files: the files loaded, relative to the package's folder (or conformance/node).
        format: how a page or bundler loads them.
        request, cancel: where ``requestIdleCallback`` / ``cancelIdleCallback`` are after
            loading: ``("global", name)`` on the window, or ``("exports", ...)`` a path in
            the module's exports.
    """

    package: str | None
    version: str
    files: tuple[str, ...]
    format: Format
    request: tuple[str, ...] = ("global", "requestIdleCallback")
    cancel: tuple[str, ...] = ("global", "cancelIdleCallback")
    window: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)


def node_modules() -> Path:
    """The node_modules folder the packages load from."""
    named = os.environ.get("IDLESPEC_NODE_MODULES")
    if named:
        return Path(named)
    for base in (Path.cwd(), REPO_ROOT):
        if (base / "node_modules").is_dir():
            return base / "node_modules"
    return REPO_ROOT / "node_modules"


def _lock_entry(package: str) -> Mapping[str, Any]:
    lock = node_modules() / ".package-lock.json"
    try:
        packages = json.loads(lock.read_text(encoding="utf-8")).get("packages", {})
    except (OSError, ValueError):
        return {}
    entry = packages.get(f"node_modules/{package}", {})
    return entry if isinstance(entry, Mapping) else {}


def resolve_files(source: Source) -> list[str]:
    """The absolute paths of ``source``'s files, checked.

    Raises:
        CandidateUnavailable: a package is missing, or not at its pinned version.
    """
    if source.package is None:
        base = NODE_DIR
    else:
        base = node_modules() / source.package
        try:
            meta = json.loads((base / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise CandidateUnavailable(
                f"npm package {source.package}@{source.version} is not installed in "
                f"{node_modules()} (run `npm ci` in the repository)"
            ) from None
        if meta.get("version") != source.version:
            raise CandidateUnavailable(
                f"npm package {source.package} is {meta.get('version')}, not the pinned "
                f"{source.version} (run `npm ci`)"
            )
    files = [str((base / name).resolve()) for name in source.files]
    for file in files:
        if not Path(file).is_file():
            raise CandidateUnavailable(f"{file} is missing")
    return files


def provenance_of(source: Source, what: str) -> str:
    """Where the code comes from, with the tarball's integrity hash for an npm package."""
    if source.package is None:
        files = ", ".join("conformance/node/" + f for f in source.files)
        return f"{what}, version {source.version}: {files}"
    integrity = _lock_entry(source.package).get("integrity", "integrity not recorded")
    files = ", ".join(source.files)
    return f"npm {source.package}@{source.version} ({integrity}); {what}: {files}"


class LoadError(Exception):
    """The candidate's files threw while they loaded into a realm."""


class _NodeCandidate(CandidateBase):
    """What every candidate on the bridge shares: the Node process and its lifecycle."""

    in_process = False

    def __init__(self, name: str, source: Source, description: str) -> None:
        self.name = name
        self.version = source.version
        self.source = source
        self.description = description
        self.provenance = f"{description}; {source.format}"
        self.bridge: Bridge | None = None
        self._spec: dict[str, Any] = {}

    def open(self) -> None:
        """Find Node and the files; start the process.

        Raises:
            CandidateUnavailable: Node or the package is missing.
        """
        node = find_node()
        if node is None:
            raise CandidateUnavailable("Node.js is not installed (no `node` on PATH)")
        files = resolve_files(self.source)
        self.provenance = provenance_of(self.source, self.description)
        self._spec = {
            "files": files,
            "format": self.source.format,
            "request": list(self.source.request),
            "cancel": list(self.source.cancel),
            "window": self.source.window,
            **self.source.extra,
        }
        self._start(node)

    def _start(self, node: str) -> None:
        try:
            self.bridge = Bridge(node, self._host_call, self._now)
        except (OSError, BridgeError) as error:
            raise CandidateUnavailable(f"the Node bridge did not start: {error}") from None

    def _host_call(self, realm: int, fn: str, args: list[Any]) -> Any:
        raise BridgeError(f"protocol: host call {fn} for realm {realm} of a self-hosted candidate")

    def _now(self) -> float:
        return 0.0

    def restart(self) -> None:
        """A new process if the old one broke (a hang, a crash, garbage on stdout)."""
        bridge = self.bridge
        if bridge is not None and bridge.broken:
            bridge.stop()
            self._start(bridge.node)

    def close(self) -> None:
        """Stop the process."""
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge = None

    def _live_bridge(self) -> Bridge:
        if self.bridge is None:
            raise BridgeError("the candidate is not open")
        return self.bridge


class JsUserlandCandidate(_NodeCandidate):
    """JS code that builds rIC on a page's primitives, run on the Python reference host."""

    kind: Literal["userland"] = "userland"
    #: Its binding lives in a JS realm, so it answers binding rows (JsBinding.binding_fact).
    binding_facts = True

    def __init__(
        self, name: str, source: Source, description: str, expectations: str | None = None
    ) -> None:
        super().__init__(name, source, description)
        #: A twin shares its original's expectation file.
        self.expectations = expectations
        self._hosts: dict[int, Host] = {}
        self._realms = 0

    def open(self) -> None:
        """Start the process, and build ES-module realms ahead (their linking is async)."""
        super().open()
        self._prepare()

    def _prepare(self) -> None:
        if self.source.format == "esm":
            # Realms a row may need: its windows (rows open at most a few).
            self._live_bridge().call("realm.prepare", spec=self._spec, count=4)

    def restart(self) -> None:
        """A new process if the old one broke; its realms are gone."""
        broken = self.bridge is not None and self.bridge.broken
        super().restart()
        if broken:
            self._hosts.clear()
            self._prepare()

    def install(self, host: Host) -> JsBinding:
        """Open a realm for this window and load the candidate into it."""
        bridge = self._live_bridge()
        self._realms += 1
        realm = self._realms
        self._hosts[realm] = host
        try:
            bridge.call("realm.open", realm=realm, spec=self._spec)
        except JSError as error:
            files = ", ".join(self._spec["files"])
            raise LoadError(f"loading {files} threw {error.js_name}: {error}") from None
        return JsBinding(bridge, realm, host)

    def reset(self) -> None:
        """Close the row's realms; forget the callables handed to JS."""
        bridge = self.bridge
        if bridge is None or bridge.broken:
            self._hosts.clear()
            return
        for realm in self._hosts:
            bridge.call("realm.close", realm=realm)
        self._hosts.clear()
        bridge.forget_callables()
        self._prepare()

    def _now(self) -> float:
        for host in self._hosts.values():
            return host.now()
        return 0.0

    def _host_call(self, realm: int, fn: str, args: list[Any]) -> Any:
        """A page global of ``realm`` calls the host."""
        host = self._hosts.get(realm)
        if host is None:
            raise BridgeError(f"protocol: host call {fn} for unknown realm {realm}")
        arg = args + [None] * (2 - len(args))
        if fn == "setTimeout":
            return host.set_timeout(arg[0], arg[1])
        if fn == "clearTimeout":
            return host.clear_timeout(arg[0])
        if fn == "requestAnimationFrame":
            return host.request_animation_frame(arg[0])
        if fn == "cancelAnimationFrame":
            return host.cancel_animation_frame(arg[0])
        if fn == "queueMicrotask":
            return host.queue_microtask(arg[0])
        if fn == "queueTask":
            return host.queue_task(arg[0], str(arg[1]))
        if fn == "reportError":
            return host.report_error(JSError(str(arg[0]), str(arg[1])))
        raise BridgeError(f"protocol: unknown host function {fn!r}")


class JsBinding:
    """One window's realm: ``requestIdleCallback`` / ``cancelIdleCallback`` as loaded there.

    ``page`` is the page's globals of the realm (``setTimeout``, ``requestAnimationFrame``,
    ...), looked up at each call, so a package that replaced them sees the page's calls.
    """

    def __init__(self, bridge: Bridge, realm: int, host: Host) -> None:
        self.bridge = bridge
        self.realm = realm
        self.page = JsPage(self, host)

    def call(self, name: str, *args: Any) -> Any:
        """Call the realm's ``name`` with ``args``."""
        bridge = self.bridge
        wire = [bridge.encode(a) for a in args]
        return bridge.decode(
            bridge.call("realm.call", realm=self.realm, name=name, args=wire), self.realm
        )

    def request_idle_callback(self, *args: Any) -> Any:
        """``requestIdleCallback(...args)`` in the realm."""
        return self.call("requestIdleCallback", *args)

    def cancel_idle_callback(self, *args: Any) -> Any:
        """``cancelIdleCallback(...args)`` in the realm."""
        return self.call("cancelIdleCallback", *args)

    def binding_fact(self, check: str, deadline: Any = None) -> Any:
        """A binding check (rows.BINDING_CHECKS) answered in the realm: a JSON scalar.

        ``deadline`` is the IdleDeadline (a JS object) a ``deadline-*`` check reads.
        """
        bridge = self.bridge
        wire = bridge.encode(UNDEFINED if deadline is None else deadline)
        return bridge.call("realm.binding", realm=self.realm, check=check, deadline=wire)


class JsPage:
    """The :class:`~idlespec.conformance.api.Host` a page's own script uses: the realm's globals."""

    def __init__(self, binding: JsBinding, host: Host) -> None:
        self._binding = binding
        self._host = host

    def set_timeout(self, callback: Any, delay: object = 0) -> int:
        """``setTimeout(callback, delay)``."""
        handle: int = self._binding.call("setTimeout", callback, delay)
        return handle

    def clear_timeout(self, handle: object) -> None:
        """``clearTimeout(handle)``."""
        self._binding.call("clearTimeout", handle)

    def request_animation_frame(self, callback: Any) -> int:
        """``requestAnimationFrame(callback)``."""
        handle: int = self._binding.call("requestAnimationFrame", callback)
        return handle

    def cancel_animation_frame(self, handle: object) -> None:
        """``cancelAnimationFrame(handle)``."""
        self._binding.call("cancelAnimationFrame", handle)

    def queue_microtask(self, callback: Any) -> None:
        """``queueMicrotask(callback)``."""
        self._binding.call("queueMicrotask", callback)

    def now(self) -> float:
        """The host's time (the realm's ``performance.now()`` reads the same)."""
        return self._host.now()

    def queue_task(self, callback: Any, source: str = "task") -> None:
        """A task queued by the host (not a page global)."""
        self._host.queue_task(callback, source)

    def report_error(self, error: BaseException) -> None:
        """Report to the host."""
        self._host.report_error(error)


class JsSelfHostedCandidate(_NodeCandidate):
    """A fake clock: the row runs in the package's own clock, through an adapter."""

    kind: Literal["self-hosted"] = "self-hosted"

    def __init__(self, name: str, source: Source, description: str, adapter: str) -> None:
        super().__init__(name, source, description)
        self.adapter = adapter
        self.unsupported_actions: frozenset[str] = frozenset()
        self.step_budget = 200_000

    def open(self) -> None:
        """Start the process; ask the adapter what it cannot express."""
        super().open()
        info = self._live_bridge().call("selfhosted.info", adapter=self.adapter, spec=self._spec)
        self.unsupported_actions = frozenset(info.get("unsupported", ()))

    def run_row(self, row: Row) -> Trace:
        """The adapter's trace of ``row`` in a fresh clock.

        Raises:
            TaskBudgetExceeded: the adapter stopped at its step budget.
        """
        data = self._live_bridge().call(
            "selfhosted.run",
            adapter=self.adapter,
            spec=self._spec,
            rowSource=json.dumps(row.to_json()),  # a JS literal: NaN and Infinity included
            stepBudget=self.step_budget,
        )
        trace = Trace.from_json(data)
        for note in trace.notes:
            if note.startswith("step budget:"):
                raise TaskBudgetExceeded(note)
        return trace


class AbsentCandidate(_NodeCandidate):
    """A DOM library without the API: one row shows the absence, the others are UNSUPPORTED."""

    kind: Literal["self-hosted"] = "self-hosted"
    unsupported_actions: frozenset[str] = frozenset()

    def __init__(self, name: str, source: Source, description: str) -> None:
        super().__init__(name, source, description)
        self._probe: Mapping[str, Any] = {}

    def open(self) -> None:
        """Start the process and probe the library's window."""
        super().open()
        self._probe = self._live_bridge().call("absent.probe", spec=self._spec)

    def _absence(self) -> str:
        types = self._probe.get("types", {})
        shown = ", ".join(f"typeof window.{k} is {v!r}" for k, v in types.items())
        return f"{self.source.package} {self.version} does not implement the API ({shown})"

    def unsupported_row(self, row: Row) -> str | None:
        """Every row but :data:`ABSENCE_ROW`: nothing to run them against."""
        return None if row.id == ABSENCE_ROW else self._absence()

    def run_row(self, row: Row) -> Trace:
        """The absence, as the library's window shows it to ``requestIdleCallback(a)``."""
        trace = Trace(notes=[self._absence()])
        error = self._probe.get("error")
        if error:
            trace.sync_errors["a"] = str(error.get("name", "Error"))
            trace.notes.append(
                f"window.requestIdleCallback(cb) threw {error.get('name')}: {error.get('message')}"
            )
        return trace


def _npm(package: str, version: str, files: tuple[str, ...], fmt: Format, **where: Any) -> Source:
    return Source(package, version, files, fmt, **where)


#: Every JS candidate, by name.
JS_CANDIDATES: Final[Mapping[str, tuple[str, Source, str]]] = {
    "npm:requestidlecallback@0.3.0": (
        "userland",
        _npm("requestidlecallback", "0.3.0", ("index.js",), "script"),
        "UMD, loaded as a page's classic script",
    ),
    "npm:requestidlecallback-polyfill@1.0.2": (
        "userland",
        _npm("requestidlecallback-polyfill", "1.0.2", ("index.js",), "script"),
        "a page's classic script",
    ),
    "npm:ric-shim@1.0.1": (
        "userland",
        _npm(
            "ric-shim",
            "1.0.1",
            ("index.js",),
            "cjs",
            request=("exports",),
            cancel=("exports", "cancelIdleCallback"),
        ),
        "CommonJS, as a bundler wraps it",
    ),
    "npm:ric@1.3.0": (
        "userland",
        _npm("ric", "1.3.0", ("src/ric-polyfill.js",), "script"),
        "a page's classic script",
    ),
    "npm:request-idle-callback@1.0.2": (
        "userland",
        _npm(
            "request-idle-callback",
            "1.0.2",
            ("index.js",),
            "cjs",
            request=("exports", "requestIdleCallback"),
            cancel=("exports", "cancelIdleCallback"),
        ),
        "CommonJS, as a bundler wraps it (with its `global`)",
    ),
    "npm:idlize@0.1.1": (
        "userland",
        _npm(
            "idlize",
            "0.1.1",
            ("idle-callback-polyfills.mjs",),
            "esm",
            request=("exports", "rIC"),
            cancel=("exports", "cIC"),
        ),
        "its ES module idle-callback-polyfills.mjs",
    ),
    "npm:polyfill-library@4.8.0": (
        "userland",
        _npm(
            "polyfill-library", "4.8.0", ("polyfills/__dist/requestIdleCallback/raw.js",), "script"
        ),
        "its requestIdleCallback polyfill, a page's classic script",
    ),
    "npm:@sinonjs/fake-timers@15.5.0": (
        "self-hosted:fake_clock",
        _npm("@sinonjs/fake-timers", "15.5.0", ("src/fake-timers-src.js",), "cjs", window=False),
        "its createClock(), CommonJS",
    ),
    "npm:lolex@6.0.0": (
        "self-hosted:fake_clock",
        _npm("lolex", "6.0.0", ("src/lolex-src.js",), "cjs", window=False),
        "its createClock(), CommonJS",
    ),
    "npm:jsdom@29.1.1": (
        "absent",
        _npm("jsdom", "29.1.1", ("lib/api.js",), "cjs", window=False, extra={"library": "jsdom"}),
        "new JSDOM('', {pretendToBeVisual: true}).window",
    ),
    "npm:happy-dom@21.0.4": (
        "absent",
        _npm(
            "happy-dom",
            "21.0.4",
            ("lib/index.js",),
            "esm",
            window=False,
            extra={"library": "happy-dom"},
        ),
        "new Window()",
    ),
    "js-settimeout-shim": (
        "userland",
        Source(None, "mdn-2015", ("shims/settimeout.js",), "script"),
        "the classic setTimeout fallback in JS (idlespec)",
    ),
    "js-polyfill": (
        "userland",
        Source(None, "3", ("shims/polyfill.js",), "script"),
        "idlespec's best userland polyfill, ported to JS",
    ),
}


def js_file_candidate(path: str) -> JsUserlandCandidate:
    """``js:path/to/polyfill.js``: a JS author's own file, as a userland candidate.

    The format follows the file: ``.mjs`` is an ES module, ``.cjs`` CommonJS, and a ``.js``
    file that assigns ``module.exports`` or ``exports.`` is CommonJS too; anything else is a
    classic script. After loading, ``requestIdleCallback`` and ``cancelIdleCallback`` are
    taken from the module's exports if it has them, else from the window.
    """
    file = Path(path).resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise CandidateUnavailable(f"js:{path}: cannot read it ({error.strerror})") from None
    fmt: Format
    if file.suffix == ".mjs":
        fmt = "esm"
    elif file.suffix == ".cjs" or "module.exports" in text or "exports." in text:
        fmt = "cjs"
    else:
        fmt = "script"
    source = Source(
        None,
        "local",
        (str(file),),
        fmt,
        request=("auto", "requestIdleCallback"),
        cancel=("auto", "cancelIdleCallback"),
    )
    return JsUserlandCandidate(f"js:{path}", source, f"your file {file}")


#: The JS twins of the Python shims: the same known failures, by construction.
TWINS: Final = {"js-settimeout-shim": "settimeout-shim", "js-polyfill": "polyfill"}


def make_js_candidate(name: str) -> _NodeCandidate:
    """The candidate named ``name`` in :data:`JS_CANDIDATES`."""
    how, source, description = JS_CANDIDATES[name]
    if how == "userland":
        return JsUserlandCandidate(name, source, description, TWINS.get(name))
    if how == "absent":
        return AbsentCandidate(name, source, description)
    return JsSelfHostedCandidate(name, source, description, how.partition(":")[2])
