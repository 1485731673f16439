"""Verdicts: how a row's outcome is judged, at the row's level (README.md, "Verdicts")."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Final, Literal

from .api import file_stem
from .rows import Row, TableError, load_rows, read_toml, rows_by_id

EXPECTATIONS_DIR: Final = Path(__file__).parent / "expectations"


class Verdict(str, Enum):
    """The verdict on one row for one candidate."""

    PASS = "PASS"
    FAIL = "FAIL"  # a must row violated
    NON_STRICT = "NON-STRICT"  # a should row violated
    INFO = "INFO"  # a ref row differs: recorded, never judged
    UNSUPPORTED = "UNSUPPORTED"  # the candidate cannot express the row
    ERROR = "ERROR"  # the candidate or the harness crashed
    TIMEOUT = "TIMEOUT"  # step budget or wall-clock watchdog
    XFAIL = "XFAIL"  # a known failure (expectation file) that still fails
    XPASS = "XPASS"  # a known failure that passes: the expectation file is stale
    FLAKY = "FLAKY"  # a live row whose repetitions disagree (each outcome is in the report)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Meaning:
    """What a verdict does, everywhere it shows: the one table that every writer reads.

    Attributes:
        fails_run: ``idlespec run`` exits 1, and the pytest test fails ("strict": only
            under ``--strict`` / ``--idlespec-strict``).
        listed: named, with its reason, among a run's failures (terminal, summary.md,
            the top of the HTML report).
        junit: the JUnit element: ``passed``, ``failure``, ``error`` or ``skipped``.
        pytest: the pytest outcome when it does not fail the run: ``pass``, ``xfail`` or
            ``skip``.
    """

    fails_run: bool | Literal["strict"]
    listed: bool
    junit: Literal["passed", "failure", "error", "skipped"]
    pytest: Literal["pass", "xfail", "skip"]


#: What each verdict means for the run, the lists of failures, JUnit and pytest.
MEANING: Final[Mapping[Verdict, Meaning]] = {
    Verdict.PASS: Meaning(False, False, "passed", "pass"),
    Verdict.FAIL: Meaning(True, True, "failure", "pass"),
    Verdict.NON_STRICT: Meaning("strict", True, "failure", "pass"),
    Verdict.INFO: Meaning(False, False, "passed", "pass"),
    Verdict.UNSUPPORTED: Meaning(False, False, "skipped", "skip"),
    Verdict.ERROR: Meaning(True, True, "error", "pass"),
    Verdict.TIMEOUT: Meaning(True, True, "error", "pass"),
    Verdict.XFAIL: Meaning(False, False, "skipped", "xfail"),
    Verdict.XPASS: Meaning(True, True, "failure", "pass"),
    Verdict.FLAKY: Meaning(False, True, "skipped", "xfail"),
}


def fails_run(verdict: Verdict, strict: bool = False) -> bool:
    """Whether ``verdict`` makes the run (or the pytest test) fail."""
    rule = MEANING[verdict].fails_run
    return rule is True or (rule == "strict" and strict)


#: Verdicts that make a run fail (NON-STRICT too under --strict).
FAILING: Final = frozenset(v for v in Verdict if MEANING[v].fails_run is True)
_VIOLATION: Final = {"must": Verdict.FAIL, "should": Verdict.NON_STRICT, "ref": Verdict.INFO}


@dataclass
class Outcome:
    """What running a row produced, before judging."""

    trace: dict[str, Any] | None = None
    mismatches: list[str] = field(default_factory=list)
    error: str | None = None  # ERROR
    timeout: str | None = None  # TIMEOUT
    unsupported: str | None = None  # UNSUPPORTED
    #: A repeated (live) row: each repetition's verdict and first problem, in order.
    repetitions: list[str] | None = None
    #: A FLAKY row: the trace of every repetition (``trace`` is the first's).
    repetition_traces: list[dict[str, Any] | None] | None = None


def judge(row: Row, outcome: Outcome) -> Verdict:
    """The raw verdict for ``row`` (before the candidate's expectation file)."""
    if outcome.unsupported is not None:
        return Verdict.UNSUPPORTED
    if outcome.error is not None:
        return Verdict.ERROR
    if outcome.timeout is not None:
        return Verdict.TIMEOUT
    if outcome.mismatches:
        return _VIOLATION[row.level]
    return Verdict.PASS


def apply_known_failures(verdict: Verdict, row_id: str, known: Mapping[str, str]) -> Verdict:
    """XFAIL for a listed row that fails, XPASS for a listed row that passes."""
    if row_id not in known:
        return verdict
    if verdict is Verdict.PASS:
        return Verdict.XPASS
    if verdict in (Verdict.FAIL, Verdict.NON_STRICT, Verdict.ERROR, Verdict.TIMEOUT):
        return Verdict.XFAIL
    return verdict


def load_known_failures(
    candidate: str, rows: Mapping[str, Row], directory: Path | Sequence[Path] = EXPECTATIONS_DIR
) -> dict[str, str]:
    """``<directory>/<file_stem(candidate)>.toml``: row id -> one-line reason (none: empty).

    Several folders add up, in order: a row a later folder lists keeps the later reason (a
    user's folder after idlespec's own adds to it). idlespec's own files speak of idlespec's
    own tables: run on other tables (``--cases``), their rows absent from those are skipped.

    Raises:
        TableError: an unknown row id, a ref row (never judged), or an empty reason.
    """
    if not isinstance(directory, Path):
        known: dict[str, str] = {}
        for folder in directory:
            found = load_known_failures(candidate, _own_rows(rows, folder), folder)
            known.update((row_id, why) for row_id, why in found.items() if row_id in rows)
        return known
    path = directory / f"{file_stem(candidate)}.toml"
    if not path.exists():
        return {}
    data = read_toml(path)
    extra = set(data) - {"known-failures"}
    if extra:
        raise TableError(path, None, ", ".join(sorted(extra)), "only [known-failures] is allowed")
    known = data.get("known-failures", {})
    if not isinstance(known, dict):
        raise TableError(path, None, "known-failures", "a table of row id = reason is required")
    for row_id, reason in known.items():
        if row_id not in rows:
            raise TableError(path, row_id, "known-failures", "no row has this id")
        if rows[row_id].level == "ref":
            raise TableError(path, row_id, "known-failures", "a ref row is never judged")
        if not isinstance(reason, str) or not reason.strip() or "\n" in reason:
            raise TableError(path, row_id, "known-failures", "the reason must be one line")
    return dict(known)


def _own_rows(rows: Mapping[str, Row], folder: Path) -> Mapping[str, Row]:
    """The rows a folder's files are checked against: idlespec's own are about its tables."""
    if folder.resolve() != EXPECTATIONS_DIR.resolve():
        return rows
    return {**_shipped_rows(), **rows}


@functools.cache
def _shipped_rows() -> Mapping[str, Row]:
    """The rows idlespec ships, loaded once."""
    return rows_by_id(load_rows())


def reason(record: Mapping[str, Any]) -> str:
    """One line saying why a raw result record got its verdict (the first problem)."""
    for key in ("mismatches",):
        if record.get(key):
            return str(record[key][0])
    for key in ("error", "timeout", "unsupported"):
        if record.get(key):
            return str(record[key]).splitlines()[0]
    if record.get("repetitions"):
        return " | ".join(map(str, record["repetitions"]))
    if record.get("verdict") == str(Verdict.XPASS):
        return f"listed as a known failure ({record.get('known_failure')}) but it passes"
    return str(record.get("known_failure") or "matches")
