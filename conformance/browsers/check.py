"""``python -m idlespec.conformance.browsers.check [--not-run KEY]... FRESH COMMITTED``: a browser run is sound.

Real engines in real time are data, not a regression signal: their verdicts are explained in
the committed report's notes, and a fresh run may differ on a row that depends on real time.
What must never happen is a broken harness, so this fails (exit 1) on:

* a row with ERROR or TIMEOUT (the harness, the page runner or the engine broke);
* a candidate whose every row is UNSUPPORTED because it could not start;
* a candidate of the committed run missing from the fresh one (unless ``--not-run`` names
  it: CI leaves Chromium's virtual mode to ``tox -e browsers-report``).

It prints, per candidate, the rows whose verdict differs from the committed run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..reports import atomic_write, read_raw

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_BROKEN = ("ERROR", "TIMEOUT")


def check(fresh: Path, committed: Path, not_run: Sequence[str] = ()) -> list[str]:
    """Every way the fresh run in ``fresh`` is unsound; prints its differences.

    ``not_run`` names committed candidates (engine-mode, as ``chromium-virtual``) the fresh
    run leaves out on purpose.
    """
    problems = []
    # Matched by engine and mode (the expectations name), not by the version-bearing name:
    # a Debian update of a browser is news, not a broken harness.
    runs = {_key(r): r for r in map(read_raw, sorted((fresh / "raw").glob("*.jsonl")))}
    old = {_key(r): r for r in map(read_raw, sorted((committed / "raw").glob("*.jsonl")))}
    for name in sorted(old.keys() - runs.keys()):
        if name in not_run:
            print(f"{name}: not run here (tox -e browsers-report runs it)")
        else:
            problems.append(f"{name}: in the committed run, not in the fresh one")
    for name in sorted(old.keys() & runs.keys()):
        if old[name].name != runs[name].name:
            print(f"{name}: now {runs[name].name}, committed {old[name].name}: regenerate it")
    for name, run in runs.items():
        verdicts = {r["row"]: r["verdict"] for r in run.results}
        for result in run.results:
            if result["verdict"] in _BROKEN:
                why = result.get("error") or result.get("timeout")
                problems.append(f"{name}: {result['row']}: {result['verdict']}: {why}")
        if run.results and all(r["verdict"] == "UNSUPPORTED" for r in run.results):
            problems.append(f"{name}: nothing ran: {run.results[0].get('unsupported')}")
        before = {r["row"]: r["verdict"] for r in old[name].results} if name in old else {}
        flips = sorted(
            (row, before[row], v) for row, v in verdicts.items() if before.get(row, v) != v
        )
        print(f"{name}: {len(verdicts)} rows, {len(flips)} differ from the committed run")
        for row, was, now in flips:
            print(f"  {row}: {was} -> {now}")
    return problems


def _key(run: Any) -> str:
    return str(run.header["candidate"].get("expectations") or run.name)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``FRESH COMMITTED``, or ``--bridge-vs-browser BRIDGE BROWSER``."""
    args = list(argv if argv is not None else sys.argv[1:])
    if args[:1] == ["--bridge-vs-browser"]:
        bridge, browser = Path(args[1]), Path(args[2])
        atomic_write(browser / "bridge-vs-browser.md", bridge_vs_browser(bridge, browser))
        return 0
    not_run = []
    while len(args) > 2 and args[0] == "--not-run":
        not_run.append(args[1])
        args = args[2:]
    fresh, committed = (Path(a) for a in args)
    problems = check(fresh, committed, not_run)
    for problem in problems:
        print(f"unsound: {problem}")
    return 1 if problems else 0


#: Why each difference between the bridge and live Chromium is what it is (cause and
#: evidence per polyfill and group of rows); the generated Markdown shows it row by row.
WHY_PATH = Path(__file__).with_name("bridge-vs-browser.toml")
CAUSES = {
    "bridge": "a bug in the Node bridge",
    "tolerance": "a live tolerance",
    "engine": "a real engine effect",
    "flaky": "real-time variation across repetitions",
}


def explanations(path: Path = WHY_PATH) -> dict[tuple[str, str], dict[str, Any]]:
    """(polyfill, row) -> its [[difference]] entry (cause, text)."""
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for index, entry in enumerate(data.get("difference", [])):
        if entry.get("cause") not in CAUSES or not entry.get("text"):
            raise ValueError(f"{path}: difference #{index + 1}: needs a cause in {list(CAUSES)}")
        for row in entry["rows"]:
            if (entry["polyfill"], row) in found:
                raise ValueError(f"{path}: {entry['polyfill']} {row} is explained twice")
            found[(entry["polyfill"], row)] = entry
    return found


def bridge_vs_browser(bridge: Path, browser: Path) -> str:
    """Markdown: each polyfill's verdicts on the Node bridge against live Chromium, row by row.

    ``bridge`` holds the main report's raw results, ``browser`` the polyfills-in-Chromium
    ones; a polyfill is matched by the JS candidate name after ``+`` in the browser run's
    provenance-bearing name (``chromium@V + npm:ric@1.3.0``).
    """
    on_bridge = {r.name: r for r in map(read_raw, sorted((bridge / "raw").glob("*.jsonl")))}
    why = explanations()
    lines = [
        "# Polyfills on the Node bridge and in live Chromium, row by row",
        "",
        "A difference is a bug in the bridge, a timing tolerance, or a real engine effect; "
        "FLAKY rows are listed apart. Each is explained in "
        "`conformance/browsers/bridge-vs-browser.toml`, shown under each polyfill.",
        "",
        "| polyfill | rows judged in both | same verdict | differ | FLAKY in Chromium |",
        "|---|---|---|---|---|",
    ]
    details = []
    for run in map(read_raw, sorted((browser / "raw").glob("*.jsonl"))):
        js = run.name.partition(" + ")[2]
        if js not in on_bridge:
            continue
        theirs = {r["row"]: r["raw_verdict"] for r in on_bridge[js].results}
        both = [
            (r["row"], theirs[r["row"]], r["raw_verdict"])
            for r in run.results
            if r["row"] in theirs and "UNSUPPORTED" not in (theirs[r["row"]], r["raw_verdict"])
        ]
        flaky = [b for b in both if b[2] == "FLAKY"]
        differ = [b for b in both if b[1] != b[2] and b[2] != "FLAKY"]
        lines.append(
            f"| {js} | {len(both)} | {len(both) - len(differ) - len(flaky)} | {len(differ)} "
            f"| {len(flaky)} |"
        )
        if differ or flaky:
            details += ["", f"## {js}", ""]
            groups: list[dict[str, Any]] = []
            for row, a, b in differ + flaky:
                entry = why.get((js, row))
                if entry is None:
                    details.append(f"- `{row}`: bridge {a}, Chromium {b}: **unexplained**")
                    continue
                if entry not in groups:
                    groups.append(entry)
                details.append(
                    f"- `{row}`: bridge {a}, Chromium {b}: {entry['cause']} "
                    f"([{groups.index(entry) + 1}](#{_anchor(js)}-{groups.index(entry) + 1}))"
                )
            details.append("")
            for number, entry in enumerate(groups, 1):
                details.append(
                    f'<a id="{_anchor(js)}-{number}"></a>{number}. **{entry["cause"]}** '
                    f"({CAUSES[entry['cause']]}): {entry['text']}"
                )
    return "\n".join([*lines, *details]) + "\n"


def _anchor(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower())


if __name__ == "__main__":
    raise SystemExit(main())
