"""``idlespec new-candidate KIND FILE``: a working skeleton of a candidate of each kind.

Each skeleton runs as written (``idlespec run -c FILE_STEM:candidate``, or ``-c js:FILE``)
and says in comments where a real implementation goes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from .errors import IdlespecError

USERLAND: Final = '''"""A userland requestIdleCallback candidate: built only on the page's primitives.

Run it: idlespec run -c {module}:candidate   (from this file's folder)
"""

from idlespec.conformance.api import CandidateBase, Host


class Deadline:
    """What a callback receives: time_remaining() and did_timeout."""

    did_timeout = False

    def __init__(self, host: Host, start: float) -> None:
        self._host, self._start = host, start

    def time_remaining(self) -> float:
        return max(0.0, 50.0 - (self._host.now() - self._start))


class Binding:
    """requestIdleCallback / cancelIdleCallback for one window. Replace with your algorithm."""

    def __init__(self, host: Host) -> None:
        self.host = host  # set_timeout, clear_timeout, request_animation_frame, now, ...

    def request_idle_callback(self, callback, options=None):  # arguments are JS stand-ins
        start = self.host.now()
        return self.host.set_timeout(lambda: callback(Deadline(self.host, start)), 1)

    def cancel_idle_callback(self, handle):
        self.host.clear_timeout(handle)


class Candidate(CandidateBase):
    name = "{name}"
    version = "0.1"
    kind = "userland"

    def install(self, host: Host) -> Binding:
        return Binding(host)


candidate = Candidate()
'''

NATIVE: Final = '''"""A native candidate: it gets the reference Window and may replace its rIC.

Run it: idlespec run -c {module}:candidate   (from this file's folder)
"""

from idlespec.conformance.api import CandidateBase
from idlespec.reference import Window


class Candidate(CandidateBase):
    name = "{name}"
    version = "0.1"
    kind = "native"

    def install(self, window: Window) -> Window:
        # Return any object with request_idle_callback / cancel_idle_callback; the window
        # itself is the reference's own implementation.
        return window


candidate = Candidate()
'''

SELF_HOSTED: Final = '''"""A self-hosted candidate: it brings its own event loop (a fake clock, a browser).

run_row(row) performs the row's scenario in that loop and returns the trace
(idlespec.conformance.trace.Trace); unsupported_actions names what it cannot express.
This skeleton runs the rows on idlespec's reference host, to show the shape.

Run it: idlespec run -c {module}:candidate   (from this file's folder)
"""

from idlespec.conformance.api import CandidateBase
from idlespec.conformance.candidates import ReferenceCandidate
from idlespec.conformance.connectors import run_row


class Candidate(CandidateBase):
    name = "{name}"
    version = "0.1"
    kind = "self-hosted"
    in_process = True  # False if the loop lives in another process (no clock freeze then)
    unsupported_actions = frozenset({{"open_window", "deactivate", "activate"}})

    def open(self) -> None:
        """Start your loop's process, if it has one."""

    def run_row(self, row):
        return run_row(row, ReferenceCandidate())

    def close(self) -> None:
        """Stop it."""


candidate = Candidate()
'''

JS: Final = """// A JavaScript candidate: a classic script that installs the API on the page's window.
// Run it: idlespec run -c js:{file}
// The page's globals are bindings to the host: setTimeout, clearTimeout,
// requestAnimationFrame, cancelAnimationFrame, queueMicrotask, performance.now, Date,
// postMessage, reportError. Replace the fallback below with your algorithm.
window.requestIdleCallback = function (callback, options) {{
  var start = performance.now();
  return setTimeout(function () {{
    callback({{ didTimeout: false, timeRemaining: function () {{
      return Math.max(0, 50 - (performance.now() - start));
    }} }});
  }}, 1);
}};
window.cancelIdleCallback = function (handle) {{ clearTimeout(handle); }};
"""

SKELETONS: Final = {"userland": USERLAND, "native": NATIVE, "self-hosted": SELF_HOSTED, "js": JS}


def write_skeleton(kind: str, file: Path) -> str:
    """Write the skeleton of ``kind`` to ``file``; the command that runs it.

    Raises:
        IdlespecError: the file exists, or the kind is unknown, or a Python file's name is
            not a module name.
    """
    if kind not in SKELETONS:
        raise IdlespecError(f"new-candidate: kind {kind!r} is not one of {', '.join(SKELETONS)}")
    if file.exists():
        raise IdlespecError(f"new-candidate: {file} exists; name a new file")
    if kind == "js":
        file.write_text(JS.format(file=file), encoding="utf-8")
        return f"idlespec run -c js:{file}"
    if file.suffix != ".py" or not file.stem.isidentifier():
        raise IdlespecError(f"new-candidate: {file} must be a .py file named like a module")
    text = SKELETONS[kind].format(module=file.stem, name=file.stem.replace("_", "-"))
    file.write_text(text, encoding="utf-8")
    return f"cd {file.parent} && idlespec run -c {file.stem}:candidate"
