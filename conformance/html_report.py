"""``index.html``: candidates x rows, grouped by area, with every cell's evidence.

Everything a candidate produced (labels, messages, notes) is escaped: nothing it says reaches
the page as markup (README.md, "Candidate protocol").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from .rows import AREAS, LEVELS, Row, spec_vocabulary
from .verdicts import Verdict

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
.share{text-align:right;white-space:nowrap}.hi{background:#cdebc9}.mid{background:#f3e8b4}
.lo{background:#f6d3a8}.bad{background:#f3b3b3}.none{background:#f6f6f6;color:#777}
.filters label{margin-right:1rem}[hidden]{display:none!important}
"""


def render_html(
    runs: Sequence[CandidateResults], rows: Sequence[Row], summary: Mapping[str, Any]
) -> str:
    """The whole page: overview, failures, notes, then the matrix with its filters.

    Evidence (what was expected, what was observed) is written only for cells where it
    explains something: every verdict but PASS. A cell opens its evidence in one click.
    """
    vocabulary = spec_vocabulary()
    by_candidate = {run.name: {r["row"]: r for r in run.results} for run in runs}
    names = [run.name for run in runs]
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width'>",
        "<title>requestIdleCallback conformance</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>requestIdleCallback conformance</h1>",
        f"<p class=muted>Suite revision <code>{escape(summary['suite_revision'])}</code>, "
        f"idlespec {escape(summary['idlespec_version'])}, {summary['rows']['total']} rows. "
        "<a href='#failures'>Failures</a> · <a href='#notes'>Notes</a> · "
        "<a href='#matrix'>All rows</a></p>",
        _selection(summary),
        _overview(summary, runs),
        _failures(summary),
        _summary_table(summary),
        _uncovered(summary),
        _notes(summary),
        "<h2 id=matrix>All rows</h2>",
        _filters(names),
    ]
    for area in AREAS:
        area_rows = [row for row in rows if row.area == area]
        if not area_rows:
            continue
        out.append(f"<h3 id=area-{escape(area)}>{escape(area)} ({len(area_rows)})</h3>")
        out.append("<table class=matrix><tr><th>row</th><th>level</th><th>spec</th>")
        out.extend(f"<th data-c='{i}'>{escape(n)}</th>" for i, n in enumerate(names))
        out.append("</tr>")
        for row in area_rows:
            url = vocabulary.url(row.anchor)
            out.append(
                f"<tr data-area='{escape(row.area)}' data-level='{escape(row.level)}'>"
                f"<td><a href='#row-{escape(row.id)}'>{escape(row.id)}</a>"
                f"<br><span class=muted>{escape(row.description)}</span></td>"
                f"<td>{escape(row.level)}</td>"
                f"<td><a href='{escape(url)}'>{escape(row.spec)}</a></td>"
            )
            for i, name in enumerate(names):
                result = by_candidate[name].get(row.id)
                if result is None:
                    out.append(f"<td class=v data-c='{i}'>—</td>")
                    continue
                verdict = escape(result["verdict"])
                target = (
                    f"row-{escape(row.id)}"
                    if result["verdict"] == "PASS"
                    else f"cell-{escape(name)}-{escape(row.id)}"
                )
                out.append(
                    f"<td class='v {verdict}' data-c='{i}'><a href='#{target}'>{verdict}</a></td>"
                )
            out.append("</tr>")
        out.append("</table>")
    out.append("<h2>Evidence</h2>")
    out.append(
        "<p class=muted>For every row: its steps and expectation; for every cell that is not "
        "PASS, what was expected and what the candidate did.</p>"
    )
    for row in rows:
        out.append(_row_details(row, names, by_candidate, vocabulary.url(row.anchor)))
    out.append(f"<script>{_SCRIPT}</script>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


#: Filters and one-click evidence; the page works without a server (file://).
_SCRIPT = """
const $ = (q, el = document) => Array.from(el.querySelectorAll(q));
function filter() {
  const pick = (id) => document.getElementById(id).value;
  const c = pick('f-candidate'), a = pick('f-area'), v = pick('f-verdict'), l = pick('f-level');
  $('table.matrix [data-c]').forEach((el) => { el.hidden = c !== '' && el.dataset.c !== c; });
  $('table.matrix tr[data-area]').forEach((tr) => {
    const cells = $('td.v', tr).filter((td) => !td.hidden);
    tr.hidden = (a !== '' && tr.dataset.area !== a) || (l !== '' && tr.dataset.level !== l)
      || (v !== '' && !cells.some((td) => td.classList.contains(v)));
  });
}
function open(hash) {
  const el = hash && document.getElementById(decodeURIComponent(hash.slice(1)));
  if (el && el.tagName === 'DETAILS') el.open = true;
}
$('#filters select').forEach((s) => s.addEventListener('change', filter));
window.addEventListener('hashchange', () => open(location.hash));
open(location.hash);
"""


def _selection(summary: Mapping[str, Any]) -> str:
    """A filtered run says so at the top."""
    from .reports import selection_text  # noqa: PLC0415 - reports imports this module

    text = selection_text(summary)
    return "" if text is None else f"<p class=filtered><b>{escape(text)}</b></p>"


def _filters(names: Sequence[str]) -> str:
    """The matrix's filters: candidate, area, verdict, level (client-side)."""

    def select(ident: str, label: str, options: Sequence[tuple[str, str]]) -> str:
        items = "".join(f"<option value='{escape(v)}'>{escape(t)}</option>" for v, t in options)
        return f"<label>{label} <select id={ident}><option value=''>all</option>{items}</select></label>"

    verdicts = [(str(v), str(v)) for v in Verdict]
    return (
        "<form id=filters class=filters>"
        + select("f-candidate", "candidate", [(str(i), n) for i, n in enumerate(names)])
        + select("f-area", "area", [(a, a) for a in AREAS])
        + select("f-verdict", "verdict", verdicts)
        + select("f-level", "level", [(lv, lv) for lv in LEVELS])
        + "</form>"
    )


def _overview(summary: Mapping[str, Any], runs: Sequence[CandidateResults]) -> str:
    """Candidates (best MUST compliance first) by areas: the share of judged rows passed."""
    results = {run.name: run.results for run in runs}
    ranked = sorted(
        summary["candidates"],
        key=lambda c: (
            -1.0 if c["must_compliance"]["percent"] is None else -c["must_compliance"]["percent"]
        ),
    )
    out = [
        "<h2 id=overview>Overview</h2><table class=overview><tr><th>candidate</th><th>MUST</th>"
        + "".join(f"<th><a href='#area-{escape(a)}'>{escape(a)}</a></th>" for a in AREAS)
        + "</tr>"
    ]
    for c in ranked:
        name = c["candidate"]["name"]
        must = c["must_compliance"]
        out.append(
            f"<tr><td><b>{escape(name)}</b></td><td class='share {_band(must['percent'])}'>"
            f"{escape(_percent(must['percent']))}</td>"
        )
        for area in AREAS:
            judged = [
                r
                for r in results.get(name, [])
                if r["area"] == area and r["verdict"] != "UNSUPPORTED"
            ]
            passed = sum(1 for r in judged if r["raw_verdict"] in ("PASS", "INFO"))
            share = 100.0 * passed / len(judged) if judged else None
            title = f"{passed} of {len(judged)} judged rows pass" if judged else "no row judged"
            out.append(
                f"<td class='share {_band(share)}' title='{escape(title)}'>"
                f"{escape(_percent(share))}</td>"
            )
        out.append("</tr>")
    out.append(
        "</table><p class=muted>MUST: must rows passed over must rows judged (raw verdicts). "
        "Areas: rows passed (or, for ref rows, recorded) over rows judged; UNSUPPORTED rows "
        "are not judged.</p>"
    )
    return "\n".join(out)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


def _band(value: float | None) -> str:
    if value is None:
        return "none"
    return "hi" if value >= 99.95 else "mid" if value >= 90 else "lo" if value >= 50 else "bad"


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
            f"<br><span class=muted>{escape(str(cand.get('provenance', '')))}</span>"
            + (
                f"<br><span class=muted>{c['carried']['rows']} results carried over from "
                "earlier runs (the first under suite revision "
                f"{escape(str(c['carried']['from_suite_revision']))}; rows unchanged)"
                "</span>"
                if c.get("carried")
                else ""
            )
            + "</td>"
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
    from .reports import one_line  # noqa: PLC0415 - reports imports this module

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
            f"({escape(f['level'])}): {escape(one_line(f['reason']))}</li>"
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
        f"<pre>{escape(_scenario(row))}</pre>",
        "</details>",
    ]
    for name in names:
        result = by_candidate[name].get(row.id)
        if result is None or result["verdict"] == "PASS":
            continue  # evidence only where it explains something
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
            f"{_trace_table(result.get('trace')) if _needs_trace(result) else ''}</details>"
        )
    return "\n".join(out)


def _needs_trace(result: Mapping[str, Any]) -> bool:
    """Whether the observed trace explains this cell.

    It explains a surprise; a known failure has its reason, a ref row its difference and an
    unsupported row its cause (their traces stay in the raw results).
    """
    return result["verdict"] not in ("XFAIL", "INFO", "UNSUPPORTED")


def _scenario(row: Row) -> str:
    """The steps, later steps and expectation, one step or expected field per line.

    Each line is compact JSON: easier to read than an indented dump of the whole, and made
    by the C encoder (an indented dump goes through the pure-Python one, a fifth of the
    time it takes to write every report).
    """
    lines = ["steps:", *(f"  {json.dumps(step)}" for step in row.steps)]
    if row.later:
        lines += ["later:", *(f"  {json.dumps(step)}" for step in row.later)]
    lines += ["expect:", *(f"  {key}: {json.dumps(value)}" for key, value in row.expect.items())]
    return "\n".join(lines)


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
