"""Benchmark records: figures, baselines, ratios and targets; results.json and the README table.

A record keeps the raw samples of every quantity it measured (``parts``: name -> one
sample per repeat) and says how its figure and baseline derive from them: a part name
means the minimum of its samples, a pair ``[a, b]`` the minimum of ``a`` divided by the
minimum of ``b`` (a growth, such as the cost at 1 000 000 over the cost at 1 000). The
ratio is figure / baseline. A target applies to the ratio or to the figure; ``holds`` is
None when the record has no target (a peer shown for comparison) or did not run.

Everything in the README block is rendered from results.json by :func:`render_block`, so
the two cannot drift apart (tests/test_benchmarks.py checks it).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SCHEMA = 1
MARK_START = "<!-- bench:table:start -->"
MARK_END = "<!-- bench:table:end -->"
OPS = ("<=", "<")
#: The multiplication sign of ratios (19 times: "19" + X).
X = "\N{MULTIPLICATION SIGN}"

Record = dict[str, Any]
Source = str | Sequence[str]


def sample(value: float) -> float:
    """A raw sample as stored: six significant digits (the noise is larger)."""
    return float(f"{value:.6g}")


def target(on: str, op: str, value: float, text: str, largest_part: str | None = None) -> Record:
    """A target on ``"ratio"`` or ``"figure"``: ``on op value`` (and a part that must be largest)."""
    assert on in ("ratio", "figure") and op in OPS
    spec: Record = {"on": on, "op": op, "value": value, "text": text}
    if largest_part is not None:
        spec["largest_part"] = largest_part
    return spec


def derive(parts: Mapping[str, Sequence[float]], source: Source) -> float:
    """A figure or baseline from the parts: min of one part, or the ratio of two mins."""
    if isinstance(source, str):
        return min(parts[source])
    numerator, denominator = source
    return min(parts[numerator]) / min(parts[denominator])


def largest_part(details: Mapping[str, Any]) -> str | None:
    """The name of the largest entry of ``details["breakdown"]``, if there is one."""
    breakdown = details.get("breakdown")
    if not breakdown:
        return None
    return max(breakdown, key=lambda name: breakdown[name])  # type: ignore[no-any-return]


def judge(record: Mapping[str, Any]) -> bool | None:
    """Whether the record's target holds (None: no target, or not run)."""
    spec = record.get("target")
    if spec is None or record["status"] != "ran":
        return None
    value = record[spec["on"]]
    ok = value <= spec["value"] if spec["op"] == "<=" else value < spec["value"]
    if "largest_part" in spec:
        ok = ok and largest_part(record.get("details", {})) == spec["largest_part"]
    return bool(ok)


def ran(
    name: str,
    measure: str,
    unit: str,
    *,
    parts: Mapping[str, Sequence[float]],
    figure_from: Source,
    baseline_from: Source,
    baseline_label: str,
    target: Record | None = None,
    details: Mapping[str, Any] | None = None,
) -> Record:
    """A record that ran: samples rounded as stored, then figure, baseline, ratio, holds."""
    stored = {key: [sample(v) for v in values] for key, values in parts.items()}
    figure = derive(stored, figure_from)
    base = derive(stored, baseline_from)
    record: Record = {
        "name": name,
        "measure": measure,
        "status": "ran",
        "unit": unit,
        "figure": figure,
        "baseline": base,
        "baseline_label": baseline_label,
        "ratio": figure / base,
        "target": target,
        "holds": None,
        "repeats": min(len(v) for v in stored.values()),
        "figure_from": figure_from if isinstance(figure_from, str) else list(figure_from),
        "baseline_from": baseline_from if isinstance(baseline_from, str) else list(baseline_from),
        "parts": stored,
        "details": dict(details or {}),
    }
    record["holds"] = judge(record)
    return record


def not_run(name: str, measure: str, reason: str, target: Record | None = None) -> Record:
    """A record that did not run, with why: never a pass."""
    return {
        "name": name,
        "measure": measure,
        "status": "not run",
        "reason": reason,
        "figure": None,
        "baseline": None,
        "ratio": None,
        "target": target,
        "holds": None,
    }


# -- checking ----------------------------------------------------------------------------------


def record_problems(record: Mapping[str, Any]) -> list[str]:
    """What is wrong with one record (empty if nothing): the test and run.py both call it."""
    name = record.get("name", "?")
    problems: list[str] = []
    for key in ("name", "measure", "status", "figure", "baseline", "ratio", "target", "holds"):
        if key not in record:
            problems.append(f"{name}: no {key!r}")
    if problems:
        return problems
    spec = record["target"]
    if spec is not None and (
        spec.get("on") not in ("ratio", "figure") or spec.get("op") not in OPS
    ):
        problems.append(f"{name}: malformed target {spec!r}")
    if record["status"] == "not run":
        if not record.get("reason"):
            problems.append(f"{name}: not run without a reason")
        if record["holds"] is not None or record["figure"] is not None:
            problems.append(f"{name}: not run, yet it has a figure or a verdict")
        return problems
    if record["status"] != "ran":
        return [*problems, f"{name}: unknown status {record['status']!r}"]
    parts = record.get("parts") or {}
    if not parts or any(not values for values in parts.values()):
        return [*problems, f"{name}: no samples"]
    if record.get("repeats") != min(len(v) for v in parts.values()):
        problems.append(f"{name}: repeats {record.get('repeats')} does not match the samples")
    try:
        figure = derive(parts, record["figure_from"])
        base = derive(parts, record["baseline_from"])
    except (KeyError, TypeError, ValueError) as error:
        return [*problems, f"{name}: figure or baseline does not derive from the parts ({error})"]
    for key, value in (("figure", figure), ("baseline", base), ("ratio", figure / base)):
        if not math.isclose(record[key], value, rel_tol=1e-9):
            problems.append(f"{name}: {key} {record[key]} but the samples give {value}")
    if record["holds"] != judge(record):
        problems.append(f"{name}: holds is {record['holds']}, the target says {judge(record)}")
    return problems


def results_problems(results: Mapping[str, Any], expected: Sequence[str] = ()) -> list[str]:
    """What is wrong with a whole results document, including measures missing from it."""
    problems: list[str] = []
    if results.get("schema") != SCHEMA:
        problems.append(f"schema {results.get('schema')!r}, not {SCHEMA}")
    for key in ("machine", "command", "date", "quick", "wall_s", "benchmarks", "scale"):
        if key not in results:
            problems.append(f"no {key!r}")
    records = results.get("benchmarks", [])
    names = [r.get("name") for r in records]
    if len(set(names)) != len(names):
        problems.append("duplicate benchmark names")
    problems += [f"missing measure {name}" for name in expected if name not in names]
    for record in records:
        problems += record_problems(record)
    for key, table in results.get("scale", {}).items():
        for row in table.get("rows", []):
            if len(row["values"]) != len(table["columns"]):
                problems.append(f"scale {key}: {row['label']} has the wrong number of values")
            if row.get("flatness") != flatness(row["values"]):
                problems.append(f"scale {key}: {row['label']} flatness is not largest/smallest")
    return problems


def flatness(values: Sequence[float | None]) -> float | None:
    """Largest / smallest of the values measured (None with fewer than two)."""
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return None
    return max(present) / min(present)


# -- rendering ---------------------------------------------------------------------------------


def number(value: float) -> str:
    """A figure for people: three significant digits, thousands spaced."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}".replace(",", " ")
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    if magnitude >= 0.001:
        return f"{value:#.3g}"
    return f"{value:.1e}"


def quantity(value: float, unit: str) -> str:
    """``value`` with its unit (``µs``, ``s``, ``B``)."""
    return f"{number(value)} {unit}" if unit else number(value)


def _figure_cell(record: Mapping[str, Any]) -> str:
    text = quantity(record["figure"], record["unit"])
    gc_objects = record["details"].get("gc_objects")
    if gc_objects is not None:
        text += f", {gc_objects:.2f} GC objects"
    for label, value in record["details"].get("of_which", {}).items():
        text += f", of which {label} {number(value)}"
    cpu = record["details"].get("cpu_s")
    if cpu is not None:
        text += f" wall, {quantity(cpu, record['unit'])} CPU"
    breakdown = record["details"].get("breakdown")
    if breakdown:
        calls = record["details"].get("calls", {})

        def part(key: str) -> str:
            times = calls.get(key, 1) if key == "tables" else 1
            return f"{key} {number(breakdown[key])}" + (f" in {times} loads" if times > 1 else "")

        text += f" (CPU by phase: {', '.join(part(key) for key in breakdown)})"
    return text


def _baseline_cell(record: Mapping[str, Any]) -> str:
    text = f"{record['baseline_label']} {quantity(record['baseline'], record['unit'])}"
    gc_objects = record["details"].get("baseline_gc_objects")
    if gc_objects is not None:
        text += f", {gc_objects:.2f} GC objects"
    return text


def _holds_cell(record: Mapping[str, Any]) -> str:
    if record["status"] != "ran":
        return "not run"
    if record["holds"] is None:
        return "—"
    return "yes" if record["holds"] else "**no**"


def table_row(record: Mapping[str, Any]) -> str:
    """One record as a Markdown table row."""
    spec = record["target"]
    goal = spec["text"] if spec else "—"
    if record["status"] != "ran":
        cells = [record["measure"], f"not run: {record['reason']}", "", "", goal, "not run"]
    else:
        cells = [
            record["measure"],
            _figure_cell(record),
            _baseline_cell(record),
            f"{number(record['ratio'])}{X}",
            goal,
            _holds_cell(record),
        ]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _scale_table(table: Mapping[str, Any]) -> list[str]:
    head = [table["title"], *table["headers"], "largest / smallest"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table["rows"]:
        cells = [row["label"], *("—" if v is None else number(v) for v in row["values"])]
        flat = row["flatness"]
        cells.append("—" if flat is None else f"{number(flat)}{X}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_block(results: Mapping[str, Any]) -> str:
    """The README's block between the markers (markers excluded), from results.json alone."""
    machine = results["machine"]
    git = machine.get("git") or {}
    commit = git.get("commit", "unknown")[:12]
    if git.get("dirty"):
        commit += ", with uncommitted changes"
    records = results["benchmarks"]
    judged = [r for r in records if r["holds"] is not None]
    held = sum(1 for r in judged if r["holds"])
    lines = [
        f"Measured by `{results['command']}` on {results['date']} (commit {commit}; "
        f"Python {machine['python']}, {machine['platform']}, {machine['cpu_count']} CPUs, "
        f"load average {number(machine['load_average'])} at the start and "
        f"{number(machine.get('load_average_end', machine['load_average']))} at the end; the run took "
        f"{number(results['wall_s'])} s). Each figure is the minimum over its repeats, its "
        "baseline measured in the same process and interleaved with it; ratio = figure / "
        "baseline. Figures in µs and B are measured in the benchmark's process, µs as its CPU "
        "time (every clock there is virtual, so nothing waits, and CPU time leaves out other "
        "processes' turns on a shared machine); the Node figures and whole processes (s) are "
        f"wall time. {held} of {len(judged)} targets hold; a measure without a target is a "
        "peer shown for comparison.",
        "",
        "| measure | figure | baseline | ratio | target | holds |",
        "|---|---|---|---|---|---|",
        *(table_row(r) for r in records),
    ]
    scale = results["scale"]
    for key in ("callbacks", "windows"):
        if scale.get(key, {}).get("rows"):
            lines += ["", scale[key]["caption"], "", *_scale_table(scale[key])]
    return "\n".join(lines)


def readme_block(readme: str) -> str:
    """The text between the markers of ``readme``, without the newlines next to them."""
    start = readme.index(MARK_START) + len(MARK_START)
    end = readme.index(MARK_END, start)
    return readme[start:end].strip("\n")


def with_block(readme: str, block: str) -> str:
    """``readme`` with the text between its markers replaced by ``block``."""
    start = readme.index(MARK_START) + len(MARK_START)
    end = readme.index(MARK_END, start)
    return readme[:start] + "\n" + block + "\n" + readme[end:]


# -- writing -----------------------------------------------------------------------------------


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in its folder and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:  # mkstemp makes 0600; a new file gets what open() would give it
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dump(results: Mapping[str, Any]) -> str:
    """results.json's text."""
    return json.dumps(results, indent=1, ensure_ascii=False) + "\n"


def write_results(path: Path, results: Mapping[str, Any]) -> None:
    """Write results.json atomically."""
    write_atomically(path, dump(results))


def write_readme(path: Path, results: Mapping[str, Any]) -> None:
    """Rewrite the README's block between the markers (atomically) from ``results``."""
    readme = path.read_text(encoding="utf-8")
    write_atomically(path, with_block(readme, render_block(results)))
