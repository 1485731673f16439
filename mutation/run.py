"""Mutation testing of reference/: what the rows catch, counted.

    python mutation/run.py [--jobs N] [--limit N]      # tox -e mutation

cosmic-ray generates every mutant of the modules ``mutation/cosmic-ray.toml`` names and runs
``mutation/kill.py`` (the must and should rows on the reference, under every conforming
policy) against each. Mutants inside annotations are skipped: every module postpones its
annotations, so they are never evaluated.

cosmic-ray mutates files in place, so each worker gets its own copy of the package in a
temporary folder (imported through ``PYTHONPATH``), and the checkout is never touched. The
mutants are dealt round-robin to the workers, each a cosmic-ray session of its own.

Every surviving mutant must be listed in ``mutation/equivalent.toml`` with the reason it
cannot change what a conforming user agent does; the run fails on a survivor not listed, on
a listed mutant that was killed, and on a listed mutant the tool no longer generates. It
writes ``mutation/results.json`` (counts, the survivors, and which row killed each mutant),
which the report and the README quote and a test checks against today's sources.
"""

from __future__ import annotations

import argparse
import collections
import compileall
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants import (
    RESULTS,
    ROOT,
    config,
    describe,
    entry_key,
    equivalent_entries,
    in_annotation,
    mutated_modules,
    sources_digest,
)

#: What the copy of the package needs: everything the killing test imports or reads.
_COPIED = ("__init__.py", "py.typed", "reference", "conformance", "shims", "mutation")
_SKIP_NOTE = "annotation: never evaluated"
_OTHER_WORKER = "dealt to another worker"


def _copy_package(into: Path) -> Path:
    """A copy of the package at ``into/idlespec``; returns the folder to put on PYTHONPATH."""
    package = into / "idlespec"
    package.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules")
    for name in _COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, package / name, ignore=ignore)
        else:
            shutil.copy2(source, package / name)
    # Compiled once here: cosmic-ray runs each test with PYTHONDONTWRITEBYTECODE, so
    # without these every test would compile the whole package again. A mutated module's
    # source no longer matches its .pyc, and Python compiles it afresh.
    compileall.compile_dir(package, quiet=1)
    return into


def _baseline_seconds(worker: Path, rows: Path) -> float:
    """CPU seconds the whole plan takes on the unmutated copy (it must survive)."""
    start = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    env = dict(os.environ, PYTHONPATH=str(worker), PYTHONDONTWRITEBYTECODE="1")
    kill = worker / "idlespec" / "mutation" / "kill.py"
    done = subprocess.run(
        [sys.executable, str(kill), str(rows)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"the unmutated reference does not pass the killing test: {done.stdout}")
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - start


def _write_config(worker: Path, rows: Path, watchdog: float) -> Path:
    table = config()
    modules = [f"idlespec/{module}" for module in mutated_modules()]
    kill = worker / "idlespec" / "mutation" / "kill.py"
    lines = [
        "[cosmic-ray]",
        f"module-path = {json.dumps(modules)}",
        f"timeout = {float(table['timeout'])}",  # type: ignore[arg-type]
        f"test-command = {json.dumps(f'{sys.executable} {kill} {rows} {watchdog:.0f}')}",
        "excluded-modules = []",
        "",
        "[cosmic-ray.distributor]",
        'name = "local"',
        "",
    ]
    path = worker / "cosmic-ray.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _module_of(path: Path) -> str:
    """``idlespec/reference/idle.py`` as the root-relative ``reference/idle.py``."""
    return Path(*Path(path).parts[1:]).as_posix()


def _deal(db: WorkDB, worker: int, workers: int, limit: int | None) -> int:
    """Skip what is not this worker's: annotations, other workers' share, beyond ``limit``."""
    skipped: dict[str, list[str]] = {_SKIP_NOTE: [], _OTHER_WORKER: []}
    items = sorted(db.work_items, key=lambda item: _order(item.mutations[0]))
    mine = 0
    for index, item in enumerate(items):
        mutation = item.mutations[0]
        module = _module_of(mutation.module_path)
        if in_annotation(module, tuple(mutation.start_pos)):
            skipped[_SKIP_NOTE].append(item.job_id)
        elif index % workers != worker or (limit is not None and index >= limit):
            skipped[_OTHER_WORKER].append(item.job_id)
        else:
            mine += 1
    for note, job_ids in skipped.items():
        db.set_multiple_results(job_ids, WorkResult(WorkerOutcome.SKIPPED, output=note))
    return mine


def _order(mutation: Any) -> tuple[str, str, int]:
    return (str(mutation.module_path), mutation.operator_name, mutation.occurrence)


def _run_workers(workers: int, limit: int | None, rows_pickle: bytes, scratch: Path) -> Path:
    """Run the sessions in parallel; the folder that holds each worker's session."""
    rows = scratch / "rows.pickle"
    rows.write_bytes(rows_pickle)
    processes = []
    watchdog = 0.0
    for worker in range(workers):
        folder = _copy_package(scratch / f"worker-{worker}")
        if not watchdog:
            # A hung mutant is killed by kill.py's own watchdog, which counts CPU time: five
            # times what the unmutated plan uses, at least 10 s.
            baseline = _baseline_seconds(folder, rows)
            watchdog = max(10.0, 5 * baseline)
            print(
                f"unmutated plan: {baseline:.1f} s CPU; watchdog {watchdog:.0f} s CPU", flush=True
            )
        cfg = _write_config(folder, rows, watchdog)
        session = folder / "session.sqlite"
        subprocess.run(
            [sys.executable, "-m", "cosmic_ray.cli", "init", str(cfg), str(session)],
            cwd=folder,
            check=True,
        )
        with use_db(str(session), WorkDB.Mode.open) as db:
            mine = _deal(db, worker, workers, limit)
        print(f"worker {worker}: {mine} mutants", flush=True)
        env = dict(os.environ, PYTHONPATH=str(folder))
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "cosmic_ray.cli", "exec", str(cfg), str(session)],
                cwd=folder,
                env=env,
            )
        )
    for process in processes:
        if process.wait() != 0:
            raise SystemExit(f"a cosmic-ray worker exited with {process.returncode}")
    return scratch


def _collect(scratch: Path, workers: int) -> list[dict[str, Any]]:
    """Every mutant's outcome, merged from the workers' sessions."""
    merged: dict[tuple[str, str, int], dict[str, Any]] = {}
    for worker in range(workers):
        session = scratch / f"worker-{worker}" / "session.sqlite"
        with use_db(str(session), WorkDB.Mode.open) as db:
            for item, result in db.completed_work_items:
                mutation = item.mutations[0]
                module = _module_of(mutation.module_path)
                ident = (module, mutation.operator_name, mutation.occurrence)
                if result.output == _OTHER_WORKER:
                    continue
                if result.worker_outcome == WorkerOutcome.SKIPPED:
                    outcome, by = "skipped", result.output
                elif result.worker_outcome != WorkerOutcome.NORMAL:
                    outcome, by = "error", (result.output or "").strip()[-300:]
                elif result.is_killed:
                    outcome, by = "killed", _killer(result.output or "")
                else:
                    outcome, by = "survived", None
                merged[ident] = {
                    "module": module,
                    "operator": mutation.operator_name,
                    "occurrence": mutation.occurrence,
                    "outcome": outcome,
                    "by": by,
                }
    return [merged[key] for key in sorted(merged)]


def _killer(output: str) -> str:
    """The line kill.py printed (the row and policy), or cosmic-ray's "timeout"."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def summarise(records: list[dict[str, Any]], seconds: float, workers: int) -> dict[str, Any]:
    """The results file: counts, the survivors judged against the equivalent list, killers."""
    entries = equivalent_entries()
    listed = {entry_key(entry): entry for entry in entries}
    survivors: list[dict[str, Any]] = []
    killed_listed: list[dict[str, Any]] = []
    for record in records:
        if record["outcome"] not in ("survived", "killed"):
            continue
        mutant = describe(record["module"], record["operator"], record["occurrence"])
        record.update(line=mutant.line, before=mutant.before, after=mutant.after)
        entry = listed.get(mutant.key)
        if record["outcome"] == "survived":
            record["equivalent"] = entry["reason"] if entry else None
            survivors.append(record)
        elif entry is not None:
            killed_listed.append(record)
    # An entry covers every place its line text occurs; it is wrong only if no place of it
    # survived (a killed place beside a surviving one is the entry's reason not applying
    # there, which the reason must say).
    alive = {(r["module"], r["operator"], r["before"], r["after"]) for r in survivors}
    killed_listed = [
        r
        for r in killed_listed
        if (r["module"], r["operator"], r["before"], r["after"]) not in alive
    ]
    seen = {(r["module"], r["operator"], r["before"], r["after"]) for r in records if "before" in r}
    missing = [entry for key, entry in listed.items() if key not in seen]
    counts = collections.Counter(record["outcome"] for record in records)
    equivalent = sum(1 for record in survivors if record["equivalent"])
    unexplained = [record for record in survivors if not record["equivalent"]]
    non_equivalent = counts["killed"] + len(unexplained) + counts["error"]
    killed = [record["by"] for record in records if record["outcome"] == "killed"]
    by_row = [by for by in killed if by.startswith("killed by ")]
    killers = collections.Counter(
        by.removeprefix("killed by ").split(" under ")[0] for by in by_row
    )
    hung = sum(1 for by in killed if by == "timeout" or ": hung:" in by or "Hung" in by)
    modules = sorted({record["module"] for record in records})
    per_module = {
        module: dict(collections.Counter(r["outcome"] for r in records if r["module"] == module))
        for module in modules
    }
    return {
        "tool": f"cosmic-ray {_version('cosmic-ray')}",
        "sources": sources_digest(mutated_modules()),
        "modules": mutated_modules(),
        "excluded": list(config().get("excluded-modules", [])),  # type: ignore[call-overload]
        "generated": len(records),
        "skipped_annotations": counts["skipped"],
        "run": counts["killed"] + counts["survived"] + counts["error"],
        "killed": counts["killed"],
        # How: a row failed; the mutated reference raised while running the rows (an ERROR
        # for that row); or it hung (the CPU watchdog, or cosmic-ray's own timeout).
        "killed_by_a_row": len(by_row),
        "killed_by_raising": len(killed) - len(by_row) - hung,
        "killed_by_hanging": hung,
        "errors": counts["error"],
        "equivalent": equivalent,
        "unexplained_survivors": len(unexplained),
        "score": round(counts["killed"] / non_equivalent, 4) if non_equivalent else 1.0,
        "listed_but_killed": killed_listed,
        "listed_but_not_generated": missing,
        "seconds": round(seconds),
        "workers": workers,
        "per_module": per_module,
        "killers": dict(killers.most_common()),
        "survivors": survivors,
        "mutants": [
            {key: record[key] for key in ("module", "operator", "occurrence", "outcome", "by")}
            for record in records
        ],
    }


def _version(distribution: str) -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version(distribution)


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    """Run the mutants; write the results; fail on anything unexplained."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="workers")
    parser.add_argument(
        "--limit", type=int, help="run only the first N mutants (a trial; writes no results)"
    )
    parser.add_argument(
        "--from-results",
        action="store_true",
        help="run no mutant: judge the outcomes in mutation/results.json again against "
        "today's equivalent list (after editing a reason); refused if reference/ changed",
    )
    args = parser.parse_args(argv)
    if args.from_results:
        previous = json.loads(RESULTS.read_text(encoding="utf-8"))
        if previous["sources"] != sources_digest(mutated_modules()):
            raise SystemExit("reference/ changed since mutation/results.json: run the mutants")
        records = [dict(record) for record in previous["mutants"]]
        results = summarise(records, previous["seconds"], previous["workers"])
    else:
        from idlespec.conformance.rows import load_rows  # noqa: PLC0415

        rows_pickle = pickle.dumps(load_rows())
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="idlespec-mutation-") as scratch:
            _run_workers(args.jobs, args.limit, rows_pickle, Path(scratch))
            records = _collect(Path(scratch), args.jobs)
        results = summarise(records, time.monotonic() - start, args.jobs)
    if args.limit is None:
        _write_atomically(RESULTS, json.dumps(results, indent=1) + "\n")
    print(
        f"{results['generated']} mutants: {results['skipped_annotations']} in annotations "
        f"(skipped), {results['killed']} killed, {results['equivalent']} equivalent, "
        f"{results['unexplained_survivors']} unexplained survivors, {results['errors']} "
        f"errors; score {results['score']:.1%} in {results['seconds']} s"
    )
    problems = 0
    for record in results["survivors"]:
        if not record["equivalent"]:
            problems += 1
            print(
                f"SURVIVED {record['module']}:{record['line']} {record['operator']}: "
                f"{record['before']!r} -> {record['after']!r}"
            )
    for record in results["listed_but_killed"]:
        problems += 1
        print(f"LISTED AS EQUIVALENT BUT KILLED {record['module']}:{record['line']} {record['by']}")
    if args.limit is None:
        for entry in results["listed_but_not_generated"]:
            problems += 1
            print(f"LISTED BUT NOT GENERATED {entry['module']}: {entry['before']!r}")
    return 1 if problems or results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
