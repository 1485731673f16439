"""``--isolate``: a Python candidate runs in a child process, killed if it hangs.

The watchdog inside one process relies on a signal reaching Python code; a candidate stuck
in C (or one that swallows the signal) is out of its reach. Isolated, the candidate lives in
a child process that runs one row at a time for the parent: the parent waits for each
answer with a real-time limit, kills the child when it passes, reports TIMEOUT, and starts
a new child for the next row. A child that dies (``os._exit``, a crash) is an ERROR.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from .api import CandidateBase, CandidateCrashed
from .rows import Row, load_rows, rows_by_id, table_files
from .runner import WatchdogTimeout
from .trace import Trace

#: Real seconds an isolated row may take (the parent's limit; the in-process watchdog is
#: the runner's and stays in force too).
ISOLATED_ROW_S = 10.0


class IsolatedCrash(CandidateCrashed):
    """The child process died or stopped answering."""


def _child(spec: str, cases: str | None, connection: Connection) -> None:
    """The child: resolve the candidate, then answer each row id with its trace."""
    from .candidates import resolve_candidate  # noqa: PLC0415 - a cycle at import time
    from .connectors import connector_for  # noqa: PLC0415
    from .runner import CandidateRun  # noqa: PLC0415

    rows = rows_by_id(load_rows(table_files(Path(cases)) if cases else None))
    candidate = resolve_candidate(spec)
    with CandidateRun(candidate) as run:
        connector = connector_for(candidate)
        while True:
            row_id = connection.recv()
            if row_id is None:
                return
            try:
                trace = connector.trace(rows[row_id], run.budget_for(rows[row_id]))
                connection.send(("trace", trace.to_json()))
            except BaseException as error:  # reported to the parent, which judges it
                text = "".join(traceback.format_exception_only(type(error), error)).strip()
                connection.send(("error", type(error).__name__, text))


class IsolatedCandidate(CandidateBase):
    """A Python candidate (named by ``spec``) run in a child process."""

    kind: Literal["self-hosted"] = "self-hosted"
    in_process = False  # the child freezes its own clocks; the parent's stay real

    def __init__(self, spec: str, inner: Any, cases: str | None = None) -> None:
        self.spec = spec
        self.cases = cases
        self.name = inner.name
        self.version = inner.version
        self.expectations = getattr(inner, "expectations", None)
        self.provenance = (
            f"{getattr(inner, 'provenance', '') or spec} (isolated in a child process)"
        )
        self.unsupported_actions = frozenset(getattr(inner, "unsupported_actions", ()))
        self._process: Any = None
        self._connection: Connection | None = None

    def open(self) -> None:
        """Start the child."""
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(
            target=_child, args=(self.spec, self.cases, child), daemon=True
        )
        self._process.start()
        child.close()
        self._connection = parent

    def run_row(self, row: Row) -> Trace:
        """The child's trace of ``row``.

        Raises:
            IsolatedCrash: the child died, or gave no answer in time (it is killed).
        """
        connection = self._connection
        assert connection is not None
        try:
            connection.send(row.id)
            if not connection.poll(ISOLATED_ROW_S):
                self._kill()
                raise WatchdogTimeout(f"no answer after {ISOLATED_ROW_S:g} s: the child was killed")
            answer = connection.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = self._process.exitcode if self._process is not None else None
            self._kill()
            raise IsolatedCrash(f"the child process died (exit status {code})") from None
        if answer[0] == "trace":
            return Trace.from_json(answer[1])
        raise RuntimeError(f"in the child: {answer[2]}")

    def _kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
        if self._process is not None:
            self._process.join(5)
        if self._connection is not None:
            self._connection.close()
        self._process = None
        self._connection = None

    def restart(self) -> None:
        """A new child after a crash or a hang (a hung one is killed first)."""
        self._kill()
        self.open()

    def close(self) -> None:
        """Stop the child."""
        if self._connection is not None:
            with contextlib.suppress(OSError):
                self._connection.send(None)
        if self._process is not None:
            self._process.join(5)
        self._kill()
