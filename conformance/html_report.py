"""``index.html``: candidates x rows, grouped by area, with every cell's evidence.

Everything a candidate produced (labels, messages, notes) is escaped: nothing it says reaches
the page as markup (README.md, "Candidate protocol").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from .rows import AREAS, Row, spec_vocabulary

if TYPE_CHECKING:
    from .reports import CandidateResults

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}
th{background:#f3f3f3;text-align:left}td.v{text-align:center;font-weight:600;white-space:nowrap}
.PASS{background:#d9f2d9}.FAIL{background:#f7c6c6}.NON-STRICT{background:#fde7c2}.INFO{background:#e3ecfa}
.XFAIL{background:#eee}.XPASS{background:#f2b8f2}.FLAKY{background:#fff3a0}.UNSUPPORTED{background:#f6f6f6;color:#777}
.ERROR,.TIMEOUT{background:#c00;color:#fff}a{color:#0645ad}
details{margin:.3rem 0 .8rem 1rem}pre{background:#f8f8f8;padding:.4rem;overflow:auto;font-size:12px}
code{font-size:12px}.muted{color:#666}
"""


def render_html(
    runs: Sequence[CandidateResults], rows: Sequence[Row], summary: Mapping[str, Any]
) -> str:
    """The whole page."""
    vocabulary = spec_vocabulary()
    by_candidate = {run.name: {r["row"]: r for r in run.results} for run in runs}
    names = [run.name for run in runs]
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<title>requestIdleCallback conformance</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>requestIdleCallback conformance</h1>",
        f"<p class=muted>Suite revision <code>{escape(summary['suite_revision'])}</code>, "
        f"idlespec {escape(summary['idlespec_version'])}, {summary['rows']['total']} rows.</p>",
        _summary_table(summary),
        _failures(summary),
        _uncovered(summary),
        _notes(summary),
    ]
    for area in AREAS:
        area_rows = [row for row in rows if row.area == area]
        if not area_rows:
            continue
        out.append(f"<h2 id=area-{escape(area)}>{escape(area)} ({len(area_rows)})</h2>")
        out.append("<table><tr><th>row</th><th>level</th><th>spec</th>")
        out.extend(f"<th>{escape(n)}</th>" for n in names)
        out.append("</tr>")
        for row in area_rows:
            url = vocabulary.url(row.anchor)
            out.append(
                f"<tr><td><a href='#row-{escape(row.id)}'>{escape(row.id)}</a>"
                f"<br><span class=muted>{escape(row.description)}</span></td>"
                f"<td>{escape(row.level)}</td>"
                f"<td><a href='{escape(url)}'>{escape(row.spec)}</a></td>"
            )
            for name in names:
                result = by_candidate[name].get(row.id)
                if result is None:
                    out.append("<td class=v>—</td>")
                else:
                    verdict = escape(result["verdict"])
                    out.append(
                        f"<td class='v {verdict}'><a href='#cell-{escape(name)}-{escape(row.id)}'>"
                        f"{verdict}</a></td>"
                    )
            out.append("</tr>")
        out.append("</table>")
    out.append("<h2>Evidence</h2>")
    for row in rows:
        out.append(_row_details(row, names, by_candidate, vocabulary.url(row.anchor)))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _summary_table(summary: Mapping[str, Any]) -> str:
    cells = [
        "<table><tr><th>candidate</th><th>kind</th><th>MUST compliance</th>"
        "<th>SHOULD strictness</th>"
        "<th>ref rows (same / differ)</th><th>verdicts</th></tr>"
    ]
    for c in summary["candidates"]:
        cand = c["candidate"]
        counts = ", ".join(f"{escape(k)} {v}" for k, v in c["counts"].items() if v)
        cells.append(
            f"<tr><td><b>{escape(cand['name'])}</b> {escape(str(cand.get('version', '')))}"
            f"<br><span class=muted>{escape(str(cand.get('provenance', '')))}</span></td>"
            f"<td>{escape(str(cand.get('kind', '')))}</td>"
            f"<td>{escape(c['must_compliance']['arithmetic'])}</td>"
            f"<td>{escape(c['should_strictness']['arithmetic'])}</td>"
            f"<td>{c['ref_agreement']['same']} / {c['ref_agreement']['differs']}</td>"
            f"<td>{counts}</td></tr>"
        )
    cells.append("</table>")
    cells.append(
        "<p class=muted>MUST compliance and SHOULD strictness count raw verdicts "
        "(before expectation "
        "files): rows that pass over rows judged; UNSUPPORTED rows are not judged. ref rows record "
        "where a candidate's choice differs from the reference's policy and are never judged.</p>"
    )
    return "\n".join(cells)


def _failures(summary: Mapping[str, Any]) -> str:
    """Every failing row per candidate, with its one-line reason, linked to its evidence."""
    listed = [c for c in summary["candidates"] if c.get("failures")]
    if not listed:
        return (
            "<h2 id=failures>Failures</h2><p>No row failed that an expectation file does not "
            "list (those are XFAIL).</p>"
        )
    out = ["<h2 id=failures>Failures</h2>"]
    for c in listed:
        name = escape(c["candidate"]["name"])
        out.append(f"<h3>{name} ({len(c['failures'])})</h3><ul>")
        out.extend(
            f"<li><a href='#cell-{name}-{escape(f['row'])}'>{escape(f['row'])}</a> "
            f"<span class='{escape(f['verdict'])}'>{escape(f['verdict'])}</span> "
            f"({escape(f['level'])}): {escape(f['reason'])}</li>"
            for f in c["failures"]
        )
        out.append("</ul>")
    return "\n".join(out)


def _notes(summary: Mapping[str, Any]) -> str:
    """Why third-party candidates get their verdicts, with the package lines that cause them."""
    noted = [c for c in summary["candidates"] if c.get("notes")]
    if not noted:
        return ""
    out = ["<h2 id=notes>Notes on third-party candidates</h2>"]
    for c in noted:
        name = escape(c["candidate"]["name"])
        out.append(f"<h3 id='notes-{name}'>{name}</h3><p>{escape(c['notes']['summary'])}</p><ul>")
        for note in c["notes"]["notes"]:
            links = ", ".join(
                f"<a href='#cell-{name}-{escape(r)}'>{escape(r)}</a>" for r in note["rows"]
            )
            out.append(
                f"<li>{links} (<code>{escape(note['source'])}</code>): {escape(note['text'])}</li>"
            )
        out.append("</ul>")
    return "\n".join(out)


def _uncovered(summary: Mapping[str, Any]) -> str:
    uncovered = summary["requirements"]["uncovered"]
    titles = summary["requirements"]["titles"]
    if not uncovered:
        return "<p>Every spec requirement (spec.toml R-xx) has at least one row.</p>"
    items = "".join(f"<li>{escape(r)}: {escape(titles[r])}</li>" for r in uncovered)
    return f"<p>Requirements with no row:</p><ul>{items}</ul>"


def _row_details(
    row: Row, names: Sequence[str], by_candidate: Mapping[str, Mapping[str, Any]], url: str
) -> str:
    out = [
        f"<h3 id=row-{escape(row.id)}>{escape(row.id)}</h3>",
        f"<p>{escape(row.description)} — <a href='{escape(url)}'>{escape(row.spec)}</a>, "
        f"level <b>{escape(row.level)}</b>"
        + (f", source {escape(row.source)}" if row.source else "")
        + f", covers {escape(', '.join(row.covers))}.</p>",
        "<details><summary>steps and expectation</summary>",
        f"<pre>{escape(json.dumps(_scenario(row), indent=1))}</pre>",
        "</details>",
    ]
    for name in names:
        result = by_candidate[name].get(row.id)
        if result is None:
            continue
        verdict = escape(result["verdict"])
        problems = result["mismatches"] or [
            result.get("error") or result.get("timeout") or result.get("unsupported") or "matches"
        ]
        if result.get("known_failure"):
            problems = [*problems, f"known failure: {result['known_failure']}"]
        if result.get("repetitions"):
            problems = [
                *problems,
                *(f"repetition {i}: {r}" for i, r in enumerate(result["repetitions"], 1)),
            ]
        out.append(
            f"<details id='cell-{escape(name)}-{escape(row.id)}'><summary><b>{escape(name)}</b>: "
            f"<span class='{verdict}'>{verdict}</span></summary>"
            f"<ul>{''.join(f'<li>{escape(str(p))}</li>' for p in problems)}</ul>"
            f"{_trace_table(result.get('trace'))}</details>"
        )
    return "\n".join(out)


def _scenario(row: Row) -> dict[str, Any]:
    return {"steps": list(row.steps), "later": list(row.later), "expect": dict(row.expect)}


def _trace_table(trace: Mapping[str, Any] | None) -> str:
    if not trace:
        return "<p class=muted>no trace</p>"
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(call.get(k)))}</td>"
            for k in ("t", "kind", "label", "window", "did_timeout", "remaining", "argc")
        )
        + "</tr>"
        for call in trace.get("calls", [])
    )
    extra = {
        k: trace.get(k)
        for k in ("samples", "handles", "sync_errors", "reported", "final_time", "notes")
    }
    return (
        "<table><tr><th>t (ms)</th><th>kind</th><th>label</th><th>window</th><th>didTimeout</th>"
        f"<th>timeRemaining</th><th>args</th></tr>{rows}</table>"
        f"<pre>{escape(json.dumps(extra, indent=1, default=str))}</pre>"
    )
