"""Reports, all derived from raw results (JSON Lines).

``raw/<candidate>.jsonl``: a header (suite revision, idlespec version, candidate name,
version, kind and provenance, Python version), one line per row (verdict, mismatches,
trace, timings), a footer. It is written line by line as results arrive (into a
``.partial`` file, renamed when the run completes), so a crash loses nothing already run.
Everything else is rebuilt from the raw files by :func:`write_reports`: ``summary.json``,
``summary.md``, ``index.html``, ``junit.xml`` and ``badges/<candidate>.json`` (shields
endpoint). Each is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import platform
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import idlespec

from .api import file_stem
from .errors import RawResultsError
from .html_report import render_html
from .notes import load_notes
from .rows import (
    AREAS,
    LEVELS,
    SCHEMA_PATH,
    SPEC_PATH,
    Row,
    rows_by_id,
    spec_vocabulary,
    table_files,
)
from .strength import strength_lines, suite_strength
from .tomlcache import parse_toml
from .verdicts import MEANING, Verdict, reason

RAW_DIR = "raw"
TIMINGS_DIR = "timings"
_COLUMNS = (
    "PASS",
    "FAIL",
    "NON-STRICT",
    "INFO",
    "XFAIL",
    "XPASS",
    "FLAKY",
    "UNSUPPORTED",
    "ERROR",
    "TIMEOUT",
)
_JUDGED_OUT = {str(Verdict.UNSUPPORTED)}


def suite_revision(files: Iterable[Path] | None = None) -> str:
    """Which suite ran: a digest of what the tables, the schema and the vocabulary *say*.

    Parsed, not raw: a comment, a reflowed line or a new catalogue entry (freedoms, traps,
    assertions) leaves the revision as it was, so committed results stay current; a changed
    row, expectation, schema rule, anchor or requirement changes it.
    """
    digest = hashlib.sha256()
    for path in sorted(files or table_files()):
        _digest_data(digest, path.name, _toml(path))
    _digest_data(digest, SCHEMA_PATH.name, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    vocabulary = _toml(SPEC_PATH)
    cited = {key: vocabulary.get(key) for key in ("bases", "anchors", "requirements")}
    _digest_data(digest, SPEC_PATH.name, cited)
    return digest.hexdigest()[:12]


def _toml(path: Path) -> Any:
    return parse_toml(path.read_text(encoding="utf-8"))


def _digest_data(digest: Any, name: str, data: Any) -> None:
    # NaN is a value rows use (a timeout of nan); json writes it as NaN, consistently.
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=True)
    digest.update(name.encode() + b"\0" + text.encode() + b"\0")


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    # mkstemp makes the file private (0600); a report is for everyone to read (a web server
    # running as another user serves it): the usual 0644, less what the umask takes away.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RawWriter:
    """Streams one candidate's results to ``raw/<candidate>.jsonl``.

    The raw results are deterministic (the same run gives the same bytes), so a committed
    snapshot changes only when a verdict or a row does. What differs from run to run (real
    time per row and per run, the Python version) goes to ``timings/<candidate>.json``,
    beside ``raw/`` and kept out of version control.
    """

    def __init__(
        self,
        out_dir: Path,
        candidate: Mapping[str, Any],
        revision: str,
        carried: Mapping[str, Any] | None = None,
    ) -> None:
        stem = file_stem(candidate["name"])
        self.path = out_dir / RAW_DIR / f"{stem}.jsonl"
        self.timings_path = out_dir / TIMINGS_DIR / f"{stem}.json"
        self.timings: dict[str, Any] = {"python": platform.python_version(), "rows_ms": {}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._handle: IO[str] = self._partial.open("w", encoding="utf-8")
        self.counts: Counter[str] = Counter()
        self._line(
            {
                "type": "header",
                "suite_revision": revision,
                "idlespec_version": idlespec.__version__,
                "candidate": dict(candidate),
                **({"carried": dict(carried)} if carried else {}),
            }
        )

    def _line(self, record: Mapping[str, Any]) -> None:
        self._handle.write(json.dumps(record, sort_keys=True) + "\n")
        self._handle.flush()

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one result record (its real time goes to the timings)."""
        record = dict(record)
        wall_ms = record.pop("wall_ms", None)
        if wall_ms is not None:
            self.timings["rows_ms"][record["row"]] = wall_ms
        self.counts[record["verdict"]] += 1
        self._line(record)

    def abandon(self) -> None:
        """The run stopped (Ctrl-C): close the file, leaving ``.partial`` readable."""
        if not self._handle.closed:
            self._handle.close()

    def close(self, wall_s: float) -> Path:
        """Write the footer and move the file into place."""
        self._line(
            {
                "type": "footer",
                "rows": sum(self.counts.values()),
                "counts": dict(self.counts),
            }
        )
        self._handle.close()
        os.replace(self._partial, self.path)
        self.timings["wall_s"] = round(wall_s, 3)
        atomic_write(self.timings_path, json.dumps(self.timings, indent=1, sort_keys=True) + "\n")
        return self.path


@dataclass
class CandidateResults:
    """One candidate's raw results, read back."""

    header: dict[str, Any]
    results: list[dict[str, Any]]
    footer: dict[str, Any] | None

    @property
    def name(self) -> str:
        """The candidate's name."""
        return str(self.header["candidate"]["name"])


def read_raw(path: Path) -> CandidateResults:
    """Read a raw JSON Lines file (a ``.partial`` one too: it just has no footer).

    Raises:
        ValueError: the file is not a raw results file (names the file and line).
    """
    header: dict[str, Any] | None = None
    results: list[dict[str, Any]] = []
    footer = None
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                kind = record["type"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise RawResultsError(f"{path}:{number}: not a raw results line") from None
            if kind == "header":
                header = record
            elif kind == "result":
                results.append(record)
            elif kind == "footer":
                footer = record
    if header is None:
        raise RawResultsError(f"{path}: no header line: not a raw results file")
    return CandidateResults(header, results, footer)


# Summary ----------------------------------------------------------------------------------


def _share(rows: Sequence[Mapping[str, Any]], level: str) -> dict[str, Any]:
    """Compliance for one level: rows whose raw verdict is PASS, over the rows judged."""
    at_level = [r for r in rows if r["level"] == level]
    unsupported = sum(1 for r in at_level if r["raw_verdict"] in _JUDGED_OUT)
    judged = len(at_level) - unsupported
    passed = sum(1 for r in at_level if r["raw_verdict"] == str(Verdict.PASS))
    percent = round(100.0 * passed / judged, 1) if judged else None
    arithmetic = (
        f"{passed} of {judged} {level} rows pass = {percent} %"
        + (f" ({unsupported} unsupported, not counted)" if unsupported else "")
        if judged
        else f"no {level} row could be judged ({unsupported} unsupported)"
    )
    return {
        "passed": passed,
        "judged": judged,
        "unsupported": unsupported,
        "percent": percent,
        "arithmetic": arithmetic,
    }


def summarize(runs: Sequence[CandidateResults], rows: Sequence[Row]) -> dict[str, Any]:
    """The ``summary.json`` document."""
    index = rows_by_id(rows)
    candidates = []
    for run in runs:
        counts = Counter(r["verdict"] for r in run.results)
        ref_rows = [r for r in run.results if r["level"] == "ref"]
        candidates.append(
            {
                "candidate": run.header["candidate"],
                "suite_revision": run.header["suite_revision"],
                "rows": len(run.results),
                "carried": run.header.get("carried"),
                "complete": run.footer is not None,
                "counts": {str(v): counts.get(str(v), 0) for v in Verdict},
                "must_compliance": _share(run.results, "must"),
                "should_strictness": _share(run.results, "should"),
                "ref_agreement": {
                    "same": sum(1 for r in ref_rows if r["raw_verdict"] == str(Verdict.PASS)),
                    "differs": sum(1 for r in ref_rows if r["raw_verdict"] == str(Verdict.INFO)),
                },
                "notes": _notes(run.header["candidate"].get("expectations") or run.name, index),
                "failures": [
                    {
                        "row": r["row"],
                        "level": r["level"],
                        "verdict": r["verdict"],
                        "reason": reason(r),
                    }
                    for r in run.results
                    if MEANING[Verdict(r["verdict"])].listed
                ],
            }
        )
    return {
        "idlespec_version": idlespec.__version__,
        "suite_revision": suite_revision(sorted({Path(row.file) for row in rows})),
        "rows": {
            "total": len(rows),
            "by_area": {a: sum(1 for r in rows if r.area == a) for a in AREAS},
            "by_level": {lv: sum(1 for r in rows if r.level == lv) for lv in LEVELS},
        },
        "requirements": requirement_coverage(rows),
        "strength": suite_strength(rows),
        "candidates": candidates,
    }


def _notes(name: str, index: Mapping[str, Row]) -> dict[str, Any] | None:
    notes = load_notes(name, index)
    return None if notes is None else notes.to_json()


def requirement_coverage(rows: Sequence[Row]) -> dict[str, Any]:
    """Every spec.toml requirement, with the rows that cover it; those with none listed."""
    vocabulary = spec_vocabulary()
    covering: dict[str, list[str]] = {req: [] for req in vocabulary.requirements}
    for row in rows:
        for req in row.covers:
            covering[req].append(row.id)
    return {
        "covered_by": covering,
        "uncovered": [req for req, ids in covering.items() if not ids],
        "titles": dict(vocabulary.requirements),
    }


def summary_markdown(summary: Mapping[str, Any], notes: bool = True) -> str:
    """``summary.md``: fits a CI step summary (the terminal gets it without the notes)."""
    lines = [
        "# requestIdleCallback conformance",
        "",
        *_selection_lines(summary),
        f"Suite revision `{summary['suite_revision']}`, idlespec {summary['idlespec_version']}, "
        f"{summary['rows']['total']} rows "
        f"({', '.join(f'{n} {lv}' for lv, n in summary['rows']['by_level'].items())}).",
        "",
        "| candidate | MUST compliance | SHOULD strictness | " + " | ".join(_COLUMNS) + " |",
        "|---|---|---" + "|---" * len(_COLUMNS) + "|",
    ]
    for c in summary["candidates"]:
        counts = c["counts"]
        must, should = c["must_compliance"], c["should_strictness"]
        lines.append(
            f"| {c['candidate']['name']} {c['candidate'].get('version', '')} "
            f"| {_pct(must)} | {_pct(should)} | "
            + " | ".join(str(counts[v]) for v in _COLUMNS)
            + " |"
        )
    lines += ["", "How the percentages are computed (raw verdicts, before expectation files):", ""]
    for c in summary["candidates"]:
        lines.append(
            f"- **{c['candidate']['name']}**: MUST {c['must_compliance']['arithmetic']}; "
            f"SHOULD {c['should_strictness']['arithmetic']}; ref rows: "
            f"{c['ref_agreement']['same']} agree with the reference, {c['ref_agreement']['differs']} differ (INFO)."
        )
    for c in summary["candidates"]:
        if c.get("carried"):
            lines.append(
                f"- **{c['candidate']['name']}**: {c['carried']['rows']} of {c['rows']} results "
                "carried over from earlier runs (the first under suite revision "
                f"`{c['carried']['from_suite_revision']}`), their rows unchanged since "
                "(`idlespec run --refresh`); the rest ran under this revision."
            )
    listed = [c for c in summary["candidates"] if c.get("failures")]
    lines += ["", "## Failures", ""]
    if not listed:
        lines.append("No row failed that an expectation file does not list (XFAIL).")
    for c in listed:
        lines.append(f"**{c['candidate']['name']}** ({len(c['failures'])}):")
        lines.append("")
        lines += [
            f"- `{f['row']}` {f['verdict']} ({f['level']}): {_md(f['reason'])}"
            for f in c["failures"]
        ]
        lines.append("")
    uncovered = summary["requirements"]["uncovered"]
    lines += ["", f"Requirements with no row: {', '.join(uncovered) if uncovered else 'none'}.", ""]
    lines += strength_lines(summary.get("strength"))
    noted = [c for c in summary["candidates"] if c.get("notes")] if notes else []
    if noted:
        lines += ["## Notes on third-party candidates", ""]
    for c in noted:
        lines += [f"**{c['candidate']['name']}**: {c['notes']['summary']}", ""]
        for note in c["notes"]["notes"]:
            rows = ", ".join(f"`{r}`" for r in note["rows"])
            lines.append(f"- {rows} (`{note['source']}`): {note['text']}")
        lines.append("")
    return "\n".join(lines)


def selection_text(summary: Mapping[str, Any]) -> str | None:
    """The sentence that says a run was filtered (13 of 225 rows, -k fifo), or None."""
    selection = summary.get("selection")
    if not selection:
        return None
    filters = " ".join(
        f"{flag} {' '.join(map(str, v)) if isinstance(v, list) else v}"
        for flag, v in selection["filters"].items()
    )
    return f"Filtered run: {selection['rows']} of {selection['of']} rows ({filters})."


def _selection_lines(summary: Mapping[str, Any]) -> list[str]:
    lines = []
    text = selection_text(summary)
    if text is not None:
        lines += [f"**{_md(text)}**", ""]
    unfinished = [c["candidate"]["name"] for c in summary["candidates"] if not c["complete"]]
    if unfinished:
        names = ", ".join(_md(n) for n in unfinished)
        lines += [f"**Partial: the run of {names} did not finish** (`idlespec run --resume`).", ""]
    return lines


def one_line(text: str, limit: int = 300) -> str:
    """A reason on one line, cut at ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _md(text: str, limit: int = 300) -> str:
    """A candidate's text made inert in Markdown: one line, no table pipes, no markup."""
    return "".join("\\" + ch if ch in "\\`*_<>|" else ch for ch in one_line(text, limit))


def _pct(share: Mapping[str, Any]) -> str:
    return (
        "n/a"
        if share["percent"] is None
        else f"{share['percent']} % ({share['passed']}/{share['judged']})"
    )


# Badges and JUnit -------------------------------------------------------------------------


def badge(candidate_summary: Mapping[str, Any]) -> dict[str, Any]:
    """A shields.io endpoint document for one candidate's MUST compliance."""
    percent = candidate_summary["must_compliance"]["percent"]
    if percent is None:
        message, color = "n/a", "lightgrey"
    else:
        message = f"{percent:g}%"
        color = (
            "brightgreen"
            if percent == 100
            else "yellow"
            if percent >= 90
            else "orange"
            if percent >= 70
            else "red"
        )
    return {"schemaVersion": 1, "label": "rIC MUST", "message": message, "color": color}


def quoteattr(value: str) -> str:
    """``value`` as a double-quoted XML attribute value, tabs and line breaks kept.

    What ``xml.sax.saxutils.quoteattr`` does, always with double quotes; that module brings
    ``urllib.request`` (about 20 ms of a run's imports) for this one function.
    """
    escaped = html.escape(value, quote=False).replace('"', "&quot;")
    return '"' + escaped.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;") + '"'


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Text that XML 1.0 can hold: characters it forbids (control characters) become U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def junit_xml(runs: Sequence[CandidateResults]) -> str:
    """JUnit XML: a testsuite per candidate, a testcase per row."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>"]
    for run in runs:
        elements = Counter(MEANING[Verdict(r["verdict"])].junit for r in run.results)
        failures, errors, skipped = elements["failure"], elements["error"], elements["skipped"]
        out.append(
            f'  <testsuite name={quoteattr(run.name)} tests="{len(run.results)}" '
            f'failures="{failures}" errors="{errors}" skipped="{skipped}">'
        )
        for r in run.results:
            attrs = f"classname={quoteattr(r['area'])} name={quoteattr(r['row'])}"
            verdict = r["verdict"]
            element = MEANING[Verdict(verdict)].junit
            detail = "\n".join(r["mismatches"] or [reason(r)])
            if element == "failure":
                body = f"<failure type={quoteattr(verdict)} message={quoteattr(verdict + ' ' + r['spec'])}>{html.escape(detail)}</failure>"
            elif element == "error":
                body = f"<error type={quoteattr(verdict)} message={quoteattr(detail[:200])}>{html.escape(detail)}</error>"
            elif element == "skipped":
                why = r.get("known_failure") or reason(r)
                body = f"<skipped message={quoteattr(verdict + ': ' + why)}/>"
            else:
                body = ""
            out.append(f"    <testcase {attrs}>{body}</testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return _xml_text("\n".join(out) + "\n")


def write_reports(
    runs: Sequence[CandidateResults],
    rows: Sequence[Row],
    out_dir: Path,
    selection: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write every derived report into ``out_dir``; return the summary.

    ``selection`` (a filtered run: rows run, of how many, the filters) is stated in every
    report, so a filtered run is never read as the whole suite.
    """
    summary = summarize(runs, rows)
    summary["selection"] = dict(selection) if selection else None
    atomic_write(out_dir / "summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    atomic_write(out_dir / "summary.md", summary_markdown(summary))
    atomic_write(out_dir / "junit.xml", junit_xml(runs))
    atomic_write(out_dir / "index.html", render_html(runs, rows, summary))
    for c in summary["candidates"]:
        name = c["candidate"]["name"]
        atomic_write(
            out_dir / "badges" / f"{file_stem(name)}.json", json.dumps(badge(c), indent=2) + "\n"
        )
    return summary
