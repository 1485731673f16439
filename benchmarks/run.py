"""Run the benchmark suite: every measure of issue 12 against its baseline, in one process.

    python benchmarks/run.py                  # everything; writes results.json and the README table
    python benchmarks/run.py --quick          # without the million-scale points; prints only
    python benchmarks/run.py --only cancel memory   # some groups or records; prints only
    python benchmarks/run.py --list           # the groups and their records

Each benchmark prints its figure, its baseline (measured in the same process, interleaved,
minimum of the repeats), the ratio, the target and whether it holds. A full run writes
``benchmarks/results.json`` (machine facts and every raw sample) and rewrites the README's
block between ``<!-- bench:table:start -->`` and ``<!-- bench:table:end -->``; ``--json`` and
``--readme`` write a partial or quick run elsewhere (or there, on purpose). Nothing sleeps:
the loops run on virtual clocks and the figures are the real time that takes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any

import bench_results as br
import bench_suite as suite

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
README = suite.ROOT / "README.md"


def git_facts() -> dict[str, Any] | None:
    """The commit measured and whether the tree had changes (read-only git calls)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=suite.ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    try:
        return {
            "commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        }
    except (OSError, subprocess.CalledProcessError):
        return None


def cpu_model() -> str | None:
    """The CPU's model name (Linux), if known."""
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def peer_versions() -> dict[str, str | None]:
    """Versions of the peers and tools the figures depend on."""
    versions: dict[str, str | None] = {}
    for dist in ("freezegun", "trio", "pytest", "jsonschema"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    from idlespec.conformance.node.bridge import find_node  # noqa: PLC0415

    node = find_node()
    versions["node"] = None
    if node is not None:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
        versions["node"] = done.stdout.strip() or None
    return versions


def machine_facts() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0,
        "git": git_facts(),
        "versions": peer_versions(),
    }


def run_groups(config: suite.Config, groups: list[str]) -> suite.Run:
    """Run ``groups`` in order; a group that crashes leaves its records not run, with why."""
    run = suite.Run(config)
    for group in groups:
        before = {r["name"] for r in run.records}
        try:
            suite.GROUPS[group](run)
        except Exception as error:  # a benchmark's bug must not pass for a figure
            traceback.print_exc()
            reason = f"{type(error).__name__}: {error}".splitlines()[0][:300]
            names = suite.RECORDS.get(group) or suite.js_record_names()
            for name in names:
                if name not in before and name not in {r["name"] for r in run.records}:
                    run.add(br.not_run(name, name, f"the benchmark crashed: {reason}"))
    return run


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the million-scale points")
    parser.add_argument("--only", nargs="+", metavar="NAME", default=[], help="groups or records")
    parser.add_argument("--list", action="store_true", help="list the groups and their records")
    parser.add_argument(
        "--json", type=Path, help="write the results here (default: a full run only)"
    )
    parser.add_argument("--readme", type=Path, help="rewrite this README's block (same default)")
    parser.add_argument("--no-write", action="store_true", help="print only, even on a full run")
    args = parser.parse_args(argv)
    if args.list:
        for group in suite.GROUPS:
            names = suite.RECORDS.get(group) or suite.js_record_names()
            print(f"{group}: {' '.join(names)}")
        return 0
    try:
        groups = suite.select(args.only)
    except ValueError as error:
        parser.error(str(error))
    config = suite.Config.make(args.quick)
    command = shlex.join(
        ["python", "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]
    )
    started = time.perf_counter()
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine_facts()
    print(
        f"{command}: {len(groups)} groups, Python {machine['python']}, {machine['cpu_count']} CPUs, load {machine['load_average']:.2f}"
    )
    run = run_groups(config, groups)
    machine["load_average_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    results = {
        "schema": br.SCHEMA,
        "command": command,
        "date": date,
        "quick": config.quick,
        "groups": groups,
        "wall_s": round(time.perf_counter() - started, 1),
        "machine": machine,
        "benchmarks": run.records,
        "scale": run.scale,
    }
    complete = groups == list(suite.GROUPS) and not config.quick
    expected = suite.expected_records() if complete else ()
    problems = br.results_problems(results, expected)
    print()
    print(br.render_block(results))
    print(f"\n{len(run.records)} measures in {results['wall_s']} s")
    if problems:
        print("the results do not check out:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    json_path = args.json or (RESULTS if complete and not args.no_write else None)
    readme_path = args.readme or (README if complete and not args.no_write else None)
    if json_path is not None:
        br.write_results(json_path, results)
        print(f"wrote {json_path}")
    if readme_path is not None:
        br.write_readme(readme_path, results)
        print(f"rewrote the benchmark block of {readme_path}")
    if json_path is None and readme_path is None:
        print("(a partial or quick run: nothing written; --json/--readme to write it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
