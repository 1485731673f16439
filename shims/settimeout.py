"""The classic ``setTimeout`` fallback for ``requestIdleCallback``, translated faithfully.

This is the snippet MDN and countless pages ship for browsers without the API::

    requestIdleCallback = requestIdleCallback || function (cb) {
      var start = Date.now();
      return setTimeout(function () {
        cb({ didTimeout: false,
             timeRemaining: function () { return Math.max(0, 50 - (Date.now() - start)); } });
      }, 1);
    };
    cancelIdleCallback = cancelIdleCallback || function (id) { clearTimeout(id); };

It is the baseline every report compares against, so its flaws are kept on purpose. Against
the spec (spec.toml R-xx) it breaks:

* **No idle periods at all** (R-27..R-39, R-50, R-53): each callback runs from its own 1 ms
  timer, as a timer task, whether or not the loop is busy. A callback posted from a callback
  runs 1 ms later, not in a later idle period; a loop kept busy by tasks does not hold
  callbacks back.
* **The deadline is wrong** (R-23, R-24, R-50..R-52, R-57): it is 50 ms from the *request*,
  not from the idle period's start, and it ignores pending timers, animation frames and
  every other same-loop window. A callback that waited behind busy tasks can see 0 at once.
* **No timeout** (R-14, R-25, R-26, R-41, R-42): ``options`` is ignored and ``didTimeout`` is
  always false.
* **No WebIDL** (R-04): any callback and any options are accepted, and so is no argument at
  all. A non-callable or missing callback throws later, from its timer (reported there),
  and the handle was consumed anyway; ``cancelIdleCallback()`` clears nothing and throws
  nothing.
* **Handles are timer ids** (R-06, R-08, R-09, R-11): they come from setTimeout's counter, so
  the page's own timers take numbers in between, and ``cancelIdleCallback`` can clear a
  *timer* that happens to share the number (it is ``clearTimeout``).
* **One callback per task, but FIFO only by timer order** (R-12, R-34): equal 1 ms timers
  run in posting order, which keeps FIFO; nothing else of the lists exists.

``Date.now()`` is read through the host's ``now()`` (a DOMHighResTimeStamp) rather than
rounded to whole ms: the difference would only blur the deadline by under 1 ms.
"""

from __future__ import annotations

from typing import Any, Literal

from idlespec.conformance.api import CandidateBase, Host
from idlespec.reference import UNDEFINED

_BUDGET_MS = 50.0
_DELAY_MS = 1


class _Deadline:
    """The object literal the snippet builds: ``didTimeout`` false, ``timeRemaining()``."""

    __slots__ = ("_host", "_start")

    def __init__(self, host: Host, start: float) -> None:
        self._host = host
        self._start = start

    did_timeout = False

    def time_remaining(self) -> float:
        """``Math.max(0, 50 - (Date.now() - start))``."""
        return max(0.0, _BUDGET_MS - (self._host.now() - self._start))


class _Binding:
    """What the snippet installs on ``window``."""

    def __init__(self, host: Host) -> None:
        self._host = host

    def request_idle_callback(self, callback: Any = UNDEFINED, options: Any = None) -> int:
        """``setTimeout(() => callback(deadline), 1)``; ``options`` ignored.

        Like the JS function, it takes any number of arguments: a missing callback is
        ``undefined``, and calling it throws later, from the timer.
        """
        host = self._host
        start = host.now()
        return host.set_timeout(lambda: callback(_Deadline(host, start)), _DELAY_MS)

    def cancel_idle_callback(self, handle: Any = UNDEFINED) -> None:
        """``clearTimeout(handle)`` (a missing handle is ``undefined``: nothing to clear)."""
        self._host.clear_timeout(handle)


class SetTimeoutShim(CandidateBase):
    """The classic fallback as a userland candidate."""

    name = "settimeout-shim"
    version = "mdn-2015"
    kind: Literal["userland"] = "userland"
    provenance = "the classic setTimeout fallback (MDN), translated by idlespec.shims.settimeout"

    def install(self, host: Host) -> _Binding:
        """Install on one window."""
        return _Binding(host)


#: The candidate the suite loads as ``settimeout-shim``.
candidate = SetTimeoutShim()
