"""The Python side of the Node bridge: one Node process, its protocol, and JS values.

Protocol 1 (``protocol.schema.json``): JSON Lines over the process's stdin and stdout. A
message is a call ``{"t": "call", "id", "op", "a"}`` or its answer ``{"t": "ret", "id",
"v"}`` / ``{"t": "err", "id", "e": {"name", "message"}}``; everything Python sends also
carries ``now``, the virtual time, so the JS side reads ``performance.now()`` without a
round trip. Calls nest both ways and are answered in stack order: while one side waits for
its answer it serves the other side's calls. No asyncio, no threads: the run's wall-clock
watchdog interrupts a read that waits too long, and the process is then restarted.

JS values cross as JSON with tagged objects (``{"$": "undefined"}``, ``{"$": "jsfn", "id":
3}``, ...); :meth:`Bridge.encode` and :meth:`Bridge.decode` map them to the Python stand-ins
of :mod:`idlespec.reference.webidl` and to proxies of JS functions and objects.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, Final

from idlespec.reference import UNDEFINED

from ..api import CandidateCrashed
from ..scenario import ScenarioError, error_name
from ..scenario import _BigInt as BigIntStandIn
from ..scenario import _Symbol as SymbolStandIn
from ..scenario import _ThrowingGetter as ThrowingGetter
from ..scenario import _ThrowingValueOf as ThrowingValueOf

#: The protocol version both sides speak.
PROTOCOL: Final = 1
BRIDGE_JS: Final = Path(__file__).with_name("bridge.js")
#: Node's flags: ES modules in vm contexts need the experimental flag on Node 20; a heap
#: cap makes a candidate that allocates without bound crash in seconds (ERROR, restart)
#: instead of taking the machine's memory.
NODE_FLAGS: Final = (
    "--experimental-vm-modules",
    "--no-warnings",
    "--stack-size=4000",
    "--max-old-space-size=512",
)
_STDERR_TAIL = 2000

HostHandler = Callable[[int, str, list[Any]], Any]


class BridgeError(CandidateCrashed):
    """The Node process died, hung up, or broke the protocol."""


class JSError(Exception):
    """An exception thrown on the JS side; ``js_name`` is its JS name (``TypeError``)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.js_name = name


def find_node() -> str | None:
    """The ``node`` executable (``IDLESPEC_NODE`` names another), or None if there is none."""
    return shutil.which(os.environ.get("IDLESPEC_NODE") or "node")


class JsFunction:
    """A JS function held by the Python side: calling it enters the realm."""

    __slots__ = ("bridge", "id", "realm")

    def __init__(self, bridge: Bridge, realm: int, fn: int) -> None:
        self.bridge, self.realm, self.id = bridge, realm, fn

    def __call__(self, *args: Any) -> Any:
        """Call the function (``this`` undefined) with ``args``; a throw is :class:`JSError`."""
        args_ = [self.bridge.encode(a) for a in args]
        return self.bridge.decode(
            self.bridge.call("fn.call", realm=self.realm, fn=self.id, args=args_), self.realm
        )

    def __repr__(self) -> str:
        return f"<JS function {self.id} of realm {self.realm}>"


class JsObject:
    """A JS object held by the Python side, read as a deadline: ``timeRemaining()``, ``didTimeout``."""

    __slots__ = ("bridge", "id", "realm")

    def __init__(self, bridge: Bridge, realm: int, ref: int) -> None:
        self.bridge, self.realm, self.id = bridge, realm, ref

    def time_remaining(self) -> Any:
        """``deadline.timeRemaining()``."""
        return self.call("timeRemaining")

    @property
    def did_timeout(self) -> Any:
        """``deadline.didTimeout``."""
        return self.get("didTimeout")

    def get(self, prop: str) -> Any:
        """``object[prop]``."""
        value = self.bridge.call("ref.get", realm=self.realm, ref=self.id, prop=prop)
        return self.bridge.decode(value, self.realm)

    def call(self, method: str, *args: Any) -> Any:
        """``object[method](...args)``."""
        args_ = [self.bridge.encode(a) for a in args]
        value = self.bridge.call(
            "ref.call", realm=self.realm, ref=self.id, method=method, args=args_
        )
        return self.bridge.decode(value, self.realm)

    def __repr__(self) -> str:
        return f"<JS object {self.id} of realm {self.realm}>"


_SPECIAL_NUMBERS: Final = {
    "NaN": math.nan,
    "Infinity": math.inf,
    "-Infinity": -math.inf,
    "-0": -0.0,
}


class Bridge:
    """One Node process speaking protocol 1.

    Args:
        node: the ``node`` executable.
        host: answers the JS side's host calls: ``host(realm, fn, args)``.
        now: the virtual time to send with every message.
    """

    def __init__(self, node: str, host: HostHandler, now: Callable[[], float]) -> None:
        self.node = node
        self.host = host
        self.now = now
        self.broken = False
        self.version = ""
        self._seq = 0
        self._pyfns: dict[int, Callable[..., Any]] = {}
        self._pyfn_ids: dict[int, int] = {}
        # Closed in stop(): it lives as long as the process.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            [node, *NODE_FLAGS, str(BRIDGE_JS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=str(BRIDGE_JS.parent),
        )
        hello = self.call("hello")
        if not isinstance(hello, Mapping) or hello.get("protocol") != PROTOCOL:
            self.stop()
            raise BridgeError(f"the bridge speaks protocol {hello!r}, not {PROTOCOL}")
        self.version = str(hello.get("node", ""))

    # Lifecycle ---------------------------------------------------------------------------

    def stop(self) -> None:
        """End the process (politely: closing its stdin ends its loop; then kill)."""
        proc = self._proc
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait(timeout=1.0)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        self._stderr.close()
        self.broken = True

    def forget_callables(self) -> None:
        """Drop the Python callables handed to JS (after a row)."""
        self._pyfns.clear()
        self._pyfn_ids.clear()

    def stderr_tail(self) -> str:
        """The end of what the process wrote on stderr."""
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - _STDERR_TAIL))
            return self._stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    # Calls ---------------------------------------------------------------------------------

    def call(self, op: str, **args: Any) -> Any:
        """Call ``op`` on the JS side; serve its calls until the answer comes.

        Raises:
            JSError: the JS side threw.
            BridgeError: the process died or broke the protocol (it is then broken).
        """
        if self.broken:
            raise BridgeError("the Node process is not running")
        self._seq += 1
        own = self._seq
        try:
            self._send({"t": "call", "id": own, "now": self.now(), "op": op, "a": args})
            while True:
                message = self._receive()
                kind = message.get("t")
                if kind == "call":
                    self._serve(message)
                    continue
                if message.get("id") != own:
                    raise BridgeError(f"protocol: answer {message.get('id')!r} to call {own}")
                if kind == "ret":
                    return message.get("v")
                if kind == "err":
                    error = message.get("e") or {}
                    raise JSError(str(error.get("name", "Error")), str(error.get("message", "")))
                raise BridgeError(f"protocol: unknown message type {kind!r}")
        except JSError:
            raise
        except BaseException:
            self.broken = True  # a watchdog hit, a dead process, garbage: start again
            raise

    def _serve(self, message: Mapping[str, Any]) -> None:
        op, a = message.get("op"), message.get("a") or {}
        try:
            if op == "host":
                realm = int(a["realm"])
                args = [self.decode(v, realm) for v in a["args"]]
                value = self.host(realm, str(a["fn"]), args)
            elif op == "py.call":
                fn = self._pyfns[int(a["fn"])]
                value = fn(*(self.decode(v, int(a["realm"])) for v in a["args"]))
            else:
                raise BridgeError(f"protocol: unknown op {op!r} from Node")
            reply: dict[str, Any] = {"t": "ret", "id": message.get("id"), "v": self.encode(value)}
        except Exception as error:
            name = "Error" if isinstance(error, ScenarioError) else error_name(error)
            reply = {
                "t": "err",
                "id": message.get("id"),
                "e": {"name": name, "message": str(error)},
            }
        reply["now"] = self.now()
        self._send(reply)

    def _send(self, message: Mapping[str, Any]) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(
                json.dumps(message, allow_nan=False, separators=(",", ":")).encode() + b"\n"
            )
            stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            raise BridgeError(self._death("it stopped reading")) from None

    def _receive(self) -> dict[str, Any]:
        stdout = self._proc.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise BridgeError(self._death("it closed its stdout"))
        try:
            message = json.loads(line)
        except ValueError:
            raise BridgeError(f"Node printed garbage on stdout: {line[:200]!r}") from None
        if not isinstance(message, dict):
            raise BridgeError(f"Node printed garbage on stdout: {line[:200]!r}")
        return message

    def _death(self, what: str) -> str:
        try:
            code = self._proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        tail = self.stderr_tail()
        status = "is still running" if code is None else f"exited with status {code}"
        return f"the Node process {status} ({what})" + (f"; stderr: {tail}" if tail else "")

    # Values ------------------------------------------------------------------------------

    def encode(self, value: Any) -> Any:
        """A Python value (a JS stand-in, a proxy, a callable) as a wire value."""
        if value is None or isinstance(value, (bool, str)):
            return value
        if value is UNDEFINED:
            return {"$": "undefined"}
        if isinstance(value, (int, float)):
            number = float(value)
            if math.isnan(number):
                return {"$": "num", "v": "NaN"}
            if math.isinf(number):
                return {"$": "num", "v": "Infinity" if number > 0 else "-Infinity"}
            if number == 0 and math.copysign(1.0, number) < 0:
                return {"$": "num", "v": "-0"}
            return value
        if isinstance(value, BigIntStandIn):
            return {"$": "bigint"}
        if isinstance(value, SymbolStandIn):
            return {"$": "symbol"}
        if isinstance(value, ThrowingGetter):
            return {"$": "throwing-getter"}
        if isinstance(value, ThrowingValueOf):
            return {"$": "throwing-valueof"}
        if isinstance(value, JsFunction):
            return {"$": "jsfn", "id": value.id}
        if isinstance(value, JsObject):
            return {"$": "ref", "id": value.id}
        if isinstance(value, Mapping):
            return {"$": "object", "v": {str(k): self.encode(v) for k, v in value.items()}}
        if isinstance(value, (list, tuple)):
            return [self.encode(v) for v in value]
        if callable(value):
            key = id(value)
            if key not in self._pyfn_ids:
                self._pyfn_ids[key] = len(self._pyfns) + 1
                self._pyfns[self._pyfn_ids[key]] = value
            return {"$": "pyfn", "id": self._pyfn_ids[key]}
        return repr(value)

    def decode(self, value: Any, realm: int | None) -> Any:
        """A wire value from ``realm`` as a Python value."""
        if isinstance(value, list):
            return [self.decode(v, realm) for v in value]
        if not isinstance(value, dict):
            return value
        tag = value.get("$")
        if tag == "undefined":
            return UNDEFINED
        if tag == "num":
            return _SPECIAL_NUMBERS[value["v"]]
        if tag == "symbol":
            return SymbolStandIn()
        if tag == "bigint":
            return BigIntStandIn()
        if tag == "pyfn":
            return self._pyfns[int(value["id"])]
        if tag in ("jsfn", "ref") and realm is None:
            raise BridgeError(f"protocol: a JS {tag} outside any realm")
        if tag == "jsfn":
            return JsFunction(self, realm, int(value["id"]))  # type: ignore[arg-type]
        if tag == "ref":
            return JsObject(self, realm, int(value["id"]))  # type: ignore[arg-type]
        raise BridgeError(f"protocol: unknown wire value {value!r}")
