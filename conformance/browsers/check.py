"""``python -m idlespec.conformance.browsers.check FRESH COMMITTED``: a browser run is sound.

Real engines in real time are data, not a regression signal: their verdicts are explained in
the committed report's notes, and a fresh run may differ on a row that depends on real time.
What must never happen is a broken harness, so this fails (exit 1) on:

* a row with ERROR or TIMEOUT (the harness, the page runner or the engine broke);
* a candidate whose every row is UNSUPPORTED because it could not start;
* a candidate of the committed run missing from the fresh one.

It prints, per candidate, the rows whose verdict differs from the committed run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..reports import read_raw

_BROKEN = ("ERROR", "TIMEOUT")


def check(fresh: Path, committed: Path) -> list[str]:
    """Every way the fresh run in ``fresh`` is unsound; prints its differences."""
    problems = []
    runs = {r.name: r for r in map(read_raw, sorted((fresh / "raw").glob("*.jsonl")))}
    old = {r.name: r for r in map(read_raw, sorted((committed / "raw").glob("*.jsonl")))}
    for name in sorted(old.keys() - runs.keys()):
        problems.append(f"{name}: in the committed run, not in the fresh one")
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


def main(argv: Sequence[str] | None = None) -> int:
    """The command line."""
    fresh, committed = (Path(a) for a in (argv if argv is not None else sys.argv[1:]))
    problems = check(fresh, committed)
    for problem in problems:
        print(f"unsound: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
