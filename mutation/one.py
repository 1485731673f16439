"""One mutant, by hand: apply it to a copy of the package and run the killing test.

    python mutation/one.py reference/idle.py:84 [--operator core/NumberReplacer] [--cases DIR]

Lists the mutants cosmic-ray makes on that line when more than one matches (pick one with
``--operator`` and ``--index``), then runs ``mutation/kill.py`` on the mutated copy and
prints its verdict: which row under which policy kills the mutant, or "survived". With
``--cases`` the rows come from another tables folder (a row being written for a survivor).
The checkout is never touched.
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cosmic_ray.plugins import get_operator, operator_names
from mutants import ROOT, Mutant, describe, positions


def mutants_on(module: str, line: int, operator: str | None) -> list[Mutant]:
    """Every mutant cosmic-ray makes on ``module``'s ``line`` (with ``operator`` only)."""
    found = []
    for name in sorted(operator_names()):
        if operator is not None and name != operator:
            continue
        if get_operator(name).arguments():
            continue  # operators that take arguments are not configured, so never run
        for occurrence, (at, _) in enumerate(positions(module, name)):
            if at == line:
                found.append(describe(module, name, occurrence))
    return found


def judge(mutant: Mutant, cases: Path | None) -> str:
    """Run the killing test on a copy of the package with ``mutant`` applied."""
    from idlespec.conformance.rows import load_rows, table_files  # noqa: PLC0415

    rows = load_rows(table_files(cases) if cases else None)
    with tempfile.TemporaryDirectory(prefix="idlespec-mutant-") as scratch:
        package = Path(scratch) / "idlespec"
        shutil.copytree(
            ROOT,
            package,
            ignore=shutil.ignore_patterns(".git", ".tox", "node_modules", "reports", "__pycache__"),
        )
        target = package / mutant.module
        lines = target.read_text(encoding="utf-8").split("\n")
        before = lines[mutant.line - 1]
        indent = before[: len(before) - len(before.lstrip())]
        if before.strip() != mutant.before:
            raise SystemExit(f"{mutant.module}:{mutant.line} is not {mutant.before!r}")
        lines[mutant.line - 1] = indent + mutant.after
        target.write_text("\n".join(lines), encoding="utf-8")
        pickled = Path(scratch) / "rows.pickle"
        pickled.write_bytes(pickle.dumps(rows))
        done = subprocess.run(
            [sys.executable, str(package / "mutation" / "kill.py"), str(pickled)],
            env=dict(os.environ, PYTHONPATH=scratch),
            capture_output=True,
            text=True,
            check=False,
        )
        return (done.stdout.strip().splitlines() or ["(no output)"])[-1]


def main(argv: list[str] | None = None) -> int:
    """Pick the mutant, judge it, print the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("where", help="MODULE:LINE, e.g. reference/idle.py:84")
    parser.add_argument("--operator", help="e.g. core/NumberReplacer")
    parser.add_argument("--index", type=int, help="which of the line's mutants (0-based)")
    parser.add_argument("--cases", type=Path, help="a tables folder instead of idlespec's")
    args = parser.parse_args(argv)
    module, _, line = args.where.rpartition(":")
    found = mutants_on(module, int(line), args.operator)
    if not found:
        print(f"no mutant on {args.where}")
        return 2
    if args.index is None and len(found) > 1:
        for index, mutant in enumerate(found):
            print(f"{index}: {mutant.operator}: {mutant.after}")
        print("pick one with --index (or narrow with --operator)")
        return 2
    mutant = found[args.index or 0]
    print(f"{mutant.module}:{mutant.line} {mutant.operator}: {mutant.before!r} -> {mutant.after!r}")
    print(judge(mutant, args.cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
