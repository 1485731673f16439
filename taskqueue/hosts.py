"""A candidate installed on a fresh reference page, for code that runs on top of rIC.

The conformance harness installs a candidate per row inside its scenario interpreter; this
module does the same for a page of our own (a queue, a workload), with the same connectors
and lifecycle: ``open()`` once, a fresh :class:`~idlespec.reference.EventLoop` per page with
the candidate installed on its window (a native candidate gets the window, a userland one
its :class:`~idlespec.conformance.api.HostWindow`), ``reset()`` after each page and
``close()`` at the end. As in the scenario, the page's own script uses the binding's
``page`` host when it has one (a polyfill that wraps ``setTimeout`` or
``requestAnimationFrame`` sees the page's timers and frames only through it), and Python's
global clocks follow the virtual clock while an in-process candidate's page is open.

Self-hosted candidates cannot be hosted: they bring their own event loop and only run a
row's scenario in it (``run_row``), so no Python code can run on top of their binding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import TracebackType

from idlespec.conformance.api import Binding, Candidate, Host, HostWindow
from idlespec.conformance.candidates import builtin_candidates
from idlespec.conformance.connectors import NativeConnector, UserlandConnector, connector_for
from idlespec.conformance.node.candidates import AbsentCandidate
from idlespec.reference import EventLoop, GlobalClockFollower, Policy, Window

#: Why a self-hosted candidate cannot carry a Python queue.
SELF_HOSTED_REASON = (
    "self-hosted: it brings its own event loop and only runs a row's scenario in it "
    "(run_row), so no Python code can run on top of its binding on the reference host"
)
#: Why an absent candidate (a DOM library without the API) cannot either.
ABSENT_REASON = "it does not implement requestIdleCallback at all (a DOM library without the API)"


class Unhostable(ValueError):
    """The candidate cannot be installed on a reference page (the message says why)."""


def exclusion_reason(candidate: Candidate) -> str | None:
    """Why ``candidate`` cannot be installed on a reference page, or None if it can."""
    if candidate.kind != "self-hosted":
        return None
    if isinstance(candidate, AbsentCandidate):
        return f"{SELF_HOSTED_REASON}; besides, {ABSENT_REASON}"
    return SELF_HOSTED_REASON


def builtin_hosting() -> tuple[dict[str, Callable[[], Candidate]], dict[str, str]]:
    """The built-in candidates a page can host (factories, by name), and the others with why.

    Resolving a candidate starts nothing (a JS candidate's Node process starts at open).
    """
    hostable: dict[str, Callable[[], Candidate]] = {}
    excluded: dict[str, str] = {}
    for name, factory in builtin_candidates().items():
        reason = exclusion_reason(factory())
        if reason is None:
            hostable[name] = factory
        else:
            excluded[name] = reason
    return hostable, excluded


@dataclass(frozen=True)
class Page:
    """One fresh reference page with the candidate installed.

    Attributes:
        loop: the page's event loop (drive it with ``loop.run``; ``loop.busy`` is how a
            page's code spends virtual time).
        window: its window.
        binding: the candidate's ``request_idle_callback`` / ``cancel_idle_callback``.
        host: the primitives the page's own script uses: the binding's ``page`` when it
            has one, else the window's.
    """

    loop: EventLoop
    window: Window
    binding: Binding
    host: Host


class HostedCandidate:
    """A candidate, open for pages: ``with HostedCandidate(c) as hosted, hosted.page() as p``.

    Raises:
        Unhostable: ``candidate`` is self-hosted (see :func:`exclusion_reason`).
    """

    def __init__(self, candidate: Candidate) -> None:
        reason = exclusion_reason(candidate)
        if reason is not None:
            raise Unhostable(f"{candidate.name}: {reason}")
        self.candidate = candidate
        connector = connector_for(candidate)
        assert isinstance(connector, (NativeConnector, UserlandConnector))  # not self-hosted
        self._connector = connector

    def __enter__(self) -> HostedCandidate:
        """Open the candidate (it may raise :class:`~.api.CandidateUnavailable`)."""
        self._connector.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._connector.close()

    @property
    def in_process(self) -> bool:
        """Whether the candidate's code runs as Python in this process."""
        return self._connector.in_process

    @contextmanager
    def page(
        self, policy: Policy | None = None, *, freeze_global_clocks: bool | None = None
    ) -> Iterator[Page]:
        """A fresh page with the candidate installed; the candidate is reset after it.

        Args:
            policy: the reference host's policy (default: the reference's).
            freeze_global_clocks: make ``time.monotonic`` and friends follow the page's
                virtual clock while it is open (default: for an in-process candidate, as a
                conformance run does; a Hypothesis test passes False).
        """
        freeze = self.in_process if freeze_global_clocks is None else freeze_global_clocks
        with ExitStack() as stack:
            stack.callback(self._connector.reset)
            loop = EventLoop(policy, freeze_global_clocks=False)
            if freeze:
                stack.enter_context(GlobalClockFollower()).follow(loop.clock)
            binding = self._connector.installer()(loop.window)
            page = getattr(binding, "page", None)
            host: Host = page if isinstance(page, Host) else HostWindow(loop.window)
            yield Page(loop, loop.window, binding, host)
