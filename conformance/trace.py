"""What a scenario run records: the trace the expectations are checked against."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    """One invocation of a recording callback."""

    kind: str  # "idle", "timer", "raf", "task", "microtask", "chain", "chain-end"
    label: str
    window: str
    t: float
    n: int  # 1 for the label's first invocation, 2 for the second, ...
    did_timeout: bool | None = None  # idle callbacks only
    remaining: float | None = None  # idle callbacks: timeRemaining() on entry
    argc: int | None = None  # idle callbacks: how many arguments the callback got


@dataclass
class Sample:
    """A ``sample`` step: timeRemaining() and didTimeout read inside an idle callback."""

    label: str
    name: str
    n: int
    t: float
    remaining: float | None
    did_timeout: bool | None


@dataclass
class Reported:
    """An exception the host or the candidate reported."""

    window: str
    type: str
    message: str


@dataclass
class Trace:
    """Everything a run of one row recorded."""

    calls: list[Call] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    handles: dict[str, list[Any]] = field(default_factory=dict)
    sync_errors: dict[str, str] = field(default_factory=dict)
    reported: list[Reported] = field(default_factory=list)
    binding: dict[str, Any] = field(default_factory=dict)  # binding check -> its value
    final_time: float = 0.0
    quiescent: bool = True
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: what ``dataclasses.asdict`` gives, built directly.

        A report writes one per row, and asdict's generic walk over every call was a tenth of
        a run of the reference; the calls, samples and reports hold only scalars.
        """
        return {
            "calls": [dict(vars(call)) for call in self.calls],
            "samples": [dict(vars(sample)) for sample in self.samples],
            "handles": copy.deepcopy(self.handles),
            "sync_errors": dict(self.sync_errors),
            "reported": [dict(vars(reported)) for reported in self.reported],
            "binding": copy.deepcopy(self.binding),
            "final_time": self.final_time,
            "quiescent": self.quiescent,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Trace:
        """The inverse of :meth:`to_json`."""
        return cls(
            calls=[Call(**c) for c in data.get("calls", [])],
            samples=[Sample(**s) for s in data.get("samples", [])],
            handles=dict(data.get("handles", {})),
            sync_errors=dict(data.get("sync_errors", {})),
            reported=[Reported(**r) for r in data.get("reported", [])],
            binding=dict(data.get("binding", {})),
            final_time=data.get("final_time", 0.0),
            quiescent=data.get("quiescent", True),
            notes=list(data.get("notes", [])),
        )
