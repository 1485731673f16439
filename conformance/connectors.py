"""Connectors: how the harness runs a row against each kind of candidate.

One class per kind (:data:`idlespec.conformance.api.KINDS`), registered in
:data:`CONNECTORS`; nothing else in the harness branches on a kind. A connector owns the
candidate's lifecycle calls, says whether a row is unsupported, and turns a row into a trace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from idlespec.reference import Window

from .api import Binding, Candidate, HostWindow, Kind
from .errors import CandidateError
from .rows import Row
from .scenario import DEFAULT_STEP_BUDGET, Interpreter
from .trace import Trace


class BindingError(TypeError):
    """``install()`` returned something that is not a binding (names what it lacks)."""


class Connector:
    """Runs rows against one candidate of the connector's kind."""

    kind: ClassVar[Kind]
    #: Methods a candidate of this kind must have (besides ``name``, ``version``, ``kind``).
    needs: ClassVar[tuple[str, ...]]

    def __init__(self, candidate: Any) -> None:
        self.candidate = candidate

    @classmethod
    def accepts(cls, target: Any) -> bool:
        """Whether ``target`` is a candidate object of this kind."""
        return not isinstance(target, type) and all(
            callable(getattr(target, method, None)) for method in cls.needs
        )

    #: Whether the candidate runs on idlespec's reference host (its tasks are the host's).
    host_driven: ClassVar[bool] = False

    @property
    def in_process(self) -> bool:
        """Whether the candidate runs as Python in this process."""
        return bool(getattr(self.candidate, "in_process", True))

    @property
    def freezes_global_clocks(self) -> bool:
        """Whether its rows run with Python's global clocks frozen to the virtual clock.

        Only for a candidate whose code runs in this process and may read those clocks: a
        freeze around a pipe or a socket would hang it, and one around code that never reads
        them (the reference) only costs the start of freezegun.
        """
        return self.in_process and bool(getattr(self.candidate, "reads_global_clocks", True))

    def unsupported(self, row: Row) -> str | None:
        """Why the candidate cannot express ``row``, or None."""
        missing = sorted(
            row.actions & frozenset(getattr(self.candidate, "unsupported_actions", ()))
        )
        if missing:
            return f"the candidate cannot express: {', '.join(missing)}"
        unsupported_row = getattr(self.candidate, "unsupported_row", None)
        return unsupported_row(row) if callable(unsupported_row) else None

    def _lifecycle(self, method: str) -> None:
        hook = getattr(self.candidate, method, None)
        if callable(hook):
            hook()

    def open(self) -> None:
        """Before the first row (may raise :class:`~.api.CandidateUnavailable`)."""
        self._lifecycle("open")

    def reset(self) -> None:
        """After every row."""
        self._lifecycle("reset")

    def restart(self) -> None:
        """After a crash or a watchdog hit."""
        self._lifecycle("restart")

    def close(self) -> None:
        """After the last row."""
        self._lifecycle("close")

    def trace(self, row: Row, step_budget: int = DEFAULT_STEP_BUDGET) -> Trace:
        """Run ``row``; return its trace.

        Raises:
            TaskBudgetExceeded: the row ran more than ``step_budget`` tasks.
        """
        raise NotImplementedError


class _HostedConnector(Connector):
    host_driven = True

    needs = ("install",)

    def installer(self) -> Callable[[Window], Binding]:
        """What installs the candidate on one reference window."""
        raise NotImplementedError

    def unsupported(self, row: Row) -> str | None:
        """Also: binding rows, unless the candidate's binding lives in a JS realm."""
        if "binding" in row.actions and not getattr(self.candidate, "binding_facts", False):
            return (
                "binding rows check the JavaScript binding (typeof, length, the IdleDeadline "
                "interface object): they need a JS realm"
            )
        return super().unsupported(row)

    def trace(self, row: Row, step_budget: int = DEFAULT_STEP_BUDGET) -> Trace:
        """Run ``row`` on a fresh reference host with the candidate on every window."""
        install = self.installer()
        name = getattr(self.candidate, "name", "the candidate")

        def checked(window: Window) -> Binding:
            binding = install(window)
            for method in ("request_idle_callback", "cancel_idle_callback"):
                if not callable(getattr(binding, method, None)):
                    raise BindingError(
                        f"{name}: install() returned {type(binding).__name__}, "
                        f"which has no {method}()"
                    )
            return binding

        return Interpreter(row, checked).run(step_budget)


class NativeConnector(_HostedConnector):
    """``install(window)`` gets the reference window itself."""

    kind = "native"

    def installer(self) -> Callable[[Window], Binding]:
        """The candidate's ``install``, as it is."""
        install: Callable[[Window], Binding] = self.candidate.install
        return install


class UserlandConnector(_HostedConnector):
    """``install(host)`` gets only the window's host primitives."""

    kind = "userland"

    def installer(self) -> Callable[[Window], Binding]:
        """``install(HostWindow(window))``."""
        install = self.candidate.install
        return lambda window: install(HostWindow(window))


class SelfHostedConnector(Connector):
    """``run_row(row)`` performs the scenario in the candidate's own loop."""

    kind = "self-hosted"
    needs = ("run_row",)

    @classmethod
    def accepts(cls, target: Any) -> bool:
        """A ``run_row`` and an ``unsupported_actions``."""
        return super().accepts(target) and hasattr(target, "unsupported_actions")

    def trace(self, row: Row, step_budget: int = DEFAULT_STEP_BUDGET) -> Trace:
        """The candidate's own trace."""
        trace: Trace = self.candidate.run_row(row)
        return trace


#: The connector of each kind.
CONNECTORS: Mapping[str, type[Connector]] = {
    c.kind: c for c in (NativeConnector, UserlandConnector, SelfHostedConnector)
}


def is_candidate(target: Any) -> bool:
    """Whether ``target`` is a candidate object: a name, and what its kind's connector needs."""
    connector = CONNECTORS.get(getattr(target, "kind", None))  # type: ignore[arg-type]
    return (
        connector is not None
        and isinstance(getattr(target, "name", None), str)
        and connector.accepts(target)
    )


def connector_for(candidate: Candidate) -> Connector:
    """The connector for ``candidate``'s kind.

    Raises:
        CandidateError: the kind is not one of :data:`~.api.KINDS`.
    """
    kind = str(getattr(candidate, "kind", None))
    if kind not in CONNECTORS:
        raise CandidateError(
            f"candidate {getattr(candidate, 'name', candidate)!r}: kind {kind!r} "
            f"is not one of {', '.join(CONNECTORS)}"
        )
    return CONNECTORS[kind](candidate)


def run_row(row: Row, candidate: Candidate, step_budget: int = DEFAULT_STEP_BUDGET) -> Trace:
    """Run ``row`` against ``candidate`` once, outside any run (no lifecycle, no freeze)."""
    return connector_for(candidate).trace(row, step_budget)
