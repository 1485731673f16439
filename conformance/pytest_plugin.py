"""pytest plugin: ``pytest --candidate NAME`` runs every row as a test named by its row id.

Registered through the ``pytest11`` entry point, so it is there wherever idlespec is
installed, and does nothing unless ``--candidate`` is given. With no test paths on the
command line it collects the tables shipped with idlespec; ``-k`` matches row ids, areas,
levels and tags; ``-m must`` (``should``, ``ref``) selects by level. PASS and INFO pass,
XFAIL is an xfail, UNSUPPORTED a skip; FAIL, NON-STRICT, ERROR, TIMEOUT and XPASS fail with
the row, what was expected and the observed trace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .api import expectations_name
from .candidates import Candidate, resolve_candidate
from .errors import IdlespecError
from .rows import (
    AREAS,
    CASES_DIR,
    Row,
    load_rows,
    load_table,
    rows_by_id,
    spec_vocabulary,
    table_files,
)
from .runner import DEFAULT_WATCHDOG_S, CandidateRun, Result
from .verdicts import EXPECTATIONS_DIR, MEANING, Verdict, fails_run, load_known_failures, reason

_CANDIDATES = pytest.StashKey[list[Candidate]]()
_KNOWN = pytest.StashKey[dict[str, dict[str, str]]]()
#: The one candidate run open now: rows are grouped by candidate, and a candidate's run (its
#: process, its clock freeze) stays open across its rows, never beside another's.
_OPEN = pytest.StashKey[list[CandidateRun]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--candidate`` and ``--idlespec-watchdog``."""
    group = parser.getgroup("idlespec", "requestIdleCallback conformance rows")
    group.addoption(
        "--candidate",
        action="append",
        default=[],
        dest="idlespec_candidates",
        metavar="NAME",
        help="run the conformance rows against this candidate "
        "(name or module:attribute; repeatable)",
    )
    group.addoption(
        "--idlespec-expectations",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of <candidate>.toml known-failure files, added to idlespec's own "
        "(repeatable)",
    )
    group.addoption(
        "--idlespec-strict",
        action="store_true",
        help="NON-STRICT verdicts (should rows violated) fail too, as with idlespec run --strict",
    )
    group.addoption(
        "--idlespec-cases",
        metavar="DIR",
        help="run the tables in DIR instead of idlespec's own (as idlespec run --cases)",
    )
    group.addoption(
        "--idlespec-watchdog",
        type=float,
        default=DEFAULT_WATCHDOG_S,
        metavar="S",
        help="real seconds a row may take (default %(default)s)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Resolve the candidates; collect the shipped tables when no path was given.

    A user's mistake (a candidate that does not resolve, a bad table or expectation file)
    is a one-line usage error, not an internal error.
    """
    specs = config.getoption("idlespec_candidates")
    if not specs:
        return
    try:
        _configure(config, specs)
    except IdlespecError as error:
        raise pytest.UsageError(f"idlespec: {error}") from None


def _configure(config: pytest.Config, specs: list[str]) -> None:
    for level in ("must", "should", "ref"):
        config.addinivalue_line("markers", f"{level}: a conformance row of level {level}")
    config.stash[_CANDIDATES] = [resolve_candidate(spec) for spec in specs]
    cases = config.getoption("idlespec_cases")
    if cases:
        config.args = [str(table_files(Path(cases))[0].parent)]  # a missing folder says so
    index = rows_by_id(_rows_named_by(config))
    folders = [EXPECTATIONS_DIR, *map(Path, config.getoption("idlespec_expectations"))]
    config.stash[_KNOWN] = {
        c.name: load_known_failures(expectations_name(c), index, folders)
        for c in config.stash[_CANDIDATES]
    }
    config.stash[_OPEN] = []
    if not cases and config.args_source is not pytest.Config.ArgsSource.ARGS:
        config.args = [str(CASES_DIR)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group the rows by candidate (stable), so each candidate's run opens once."""
    candidates = config.stash.get(_CANDIDATES, None)
    if candidates is None:
        return
    order = {id(c): i for i, c in enumerate(candidates)}
    items.sort(key=lambda item: order[id(item.candidate)] if isinstance(item, RowItem) else -1)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Close the candidate run still open."""
    if _OPEN in session.config.stash:
        _close_open_run(session.config)


def _close_open_run(config: pytest.Config) -> None:
    opened = config.stash[_OPEN]
    while opened:
        opened.pop().__exit__(None, None, None)


def _run_for(config: pytest.Config, candidate: Candidate) -> CandidateRun:
    opened = config.stash[_OPEN]
    if opened and opened[0].candidate is candidate:
        return opened[0]
    _close_open_run(config)
    run = CandidateRun(
        candidate,
        config.stash[_KNOWN][candidate.name],
        watchdog_s=float(config.getoption("idlespec_watchdog")),
    )
    opened.append(run.__enter__())
    return run


def _rows_named_by(config: pytest.Config) -> list[Row]:
    """The shipped rows, and those of any table or folder on the command line.

    Expectation files are checked against these.
    """
    rows = load_rows()
    named = config.args if config.args_source is pytest.Config.ArgsSource.ARGS else []
    if config.getoption("idlespec_cases"):
        named = config.args
    for arg in named:
        path = Path(arg.split("::")[0])
        if path.is_dir():
            rows += load_rows(list(table_files(path)))
        elif path.suffix == ".toml" and path.stem in AREAS:
            rows += load_table(path)
    return rows


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A conformance table becomes a collector of its rows."""
    if _CANDIDATES not in parent.config.stash:
        return None
    if file_path.suffix == ".toml" and file_path.stem in AREAS:
        return RowTable.from_parent(parent, path=file_path)
    return None


class RowTable(pytest.File):
    """One table file."""

    def collect(self) -> Iterator[RowItem]:
        """One item per row and candidate."""
        candidates = self.config.stash[_CANDIDATES]
        for row in load_table(self.path):
            for candidate in candidates:
                name = row.id if len(candidates) == 1 else f"{row.id}[{candidate.name}]"
                item = RowItem.from_parent(self, name=name, row=row, candidate=candidate)
                item.add_marker(getattr(pytest.mark, row.level))
                item.extra_keyword_matches.update({row.area, row.level, *row.tags})
                yield item


class RowFailed(Exception):
    """A row's verdict that fails the test."""

    def __init__(self, result: Result) -> None:
        super().__init__(str(result.verdict))
        self.result = result


class RowItem(pytest.Item):
    """One row run against one candidate."""

    def __init__(self, *, row: Row, candidate: Candidate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.row = row
        self.candidate = candidate

    def runtest(self) -> None:
        """Run the row and turn its verdict into a pytest outcome."""
        result = _run_for(self.config, self.candidate).run(self.row)
        if fails_run(result.verdict, bool(self.config.getoption("idlespec_strict"))):
            raise RowFailed(result)
        why = reason(result.to_json())
        outcome = MEANING[result.verdict].pytest
        if outcome == "xfail":
            pytest.xfail(f"{result.verdict}: {result.known_failure or why}")
        if outcome == "skip":
            pytest.skip(f"{result.verdict}: {why}")
        if result.verdict is not Verdict.PASS:  # INFO, or NON-STRICT without --idlespec-strict
            self.add_report_section("call", "idlespec", f"{result.verdict}: {why}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The row, the expectation and the observed trace."""
        if not isinstance(excinfo.value, RowFailed):
            return str(super().repr_failure(excinfo))
        result = excinfo.value.result
        row = self.row
        outcome = result.outcome
        lines = [
            f"{result.verdict}: {row.id} ({row.level}, {row.area}) against {self.candidate.name}",
            f"  {row.description}",
            f"  spec: {row.spec} <{spec_vocabulary().url(row.anchor)}>",
        ]
        if result.verdict is Verdict.XPASS:
            lines.append(f"  listed as a known failure ({result.known_failure}) but it passes")
        for problem in outcome.mismatches or [outcome.error or outcome.timeout or ""]:
            lines.append(f"  - {problem}")
        lines.append("expected:")
        lines.append("  " + json.dumps(dict(row.expect), sort_keys=True))
        if outcome.trace is not None:
            lines.append("observed calls (t, kind, label, window, didTimeout, timeRemaining):")
            for call in outcome.trace["calls"]:
                lines.append(
                    f"  {call['t']:>10g}  {call['kind']:<9} {call['label']:<12} {call['window']:<6} "
                    f"{call['did_timeout']!s:<5} {call['remaining']}"
                )
            for key in ("samples", "sync_errors", "reported", "notes"):
                if outcome.trace[key]:
                    lines.append(f"{key}: {json.dumps(outcome.trace[key], default=str)}")
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the row lives."""
        return self.path, None, f"{self.row.id} [{self.candidate.name}]"
