"""The benchmarks of issue 12: each measure with its baseline, its target and its scale table.

A *group* measures what several records need in one interleaved pass (so that a ratio's
two sides see the same machine), then turns the samples into records
(:mod:`bench_results`). :data:`GROUPS` lists them in run order; :data:`RECORDS` the records
each one produces, which is what a full run's results.json must hold.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench_results as br
import bench_workloads as wl

ROOT = Path(__file__).resolve().parents[1]
MILLION = 1_000_000


@dataclass(frozen=True)
class Config:
    """Sizes and repeats. ``quick`` drops the million-scale points and shortens the rest."""

    quick: bool = False
    sizes: tuple[int, ...] = (1_000, 100_000, MILLION)
    repeats: dict[int, int] = field(default_factory=lambda: {1_000: 7, 100_000: 5, MILLION: 3})
    #: Where the peer comparisons (asyncio, trio) and the timeout ratio are read.
    peer_n: int = 100_000
    trio_timers_n: int = 10_000
    trio_timers_repeats: int = 3
    windows: tuple[int, ...] = (1, 10, 100, 1_000)
    windows_total: int = 20_000
    windows_repeats: int = 5
    cancel_sizes: tuple[int, ...] = (1_000, 100_000, MILLION)
    cancel_k: int = 10_000
    cancel_repeats: int = 7
    memory_n: int = MILLION
    timer_memory_n: int = 100_000
    process_repeats: int = 5
    bridge_batches: int = 5
    bridge_batch: int = 400
    js_suite_repeats: int = 2

    @classmethod
    def make(cls, quick: bool) -> Config:
        """The full configuration, or the quick one."""
        if not quick:
            return cls()
        return cls(
            quick=True,
            sizes=(1_000, 100_000),
            repeats={1_000: 5, 100_000: 3},
            trio_timers_n=2_000,
            windows_total=5_000,
            windows_repeats=3,
            cancel_sizes=(1_000, 100_000),
            cancel_repeats=5,
            memory_n=100_000,
            timer_memory_n=10_000,
            process_repeats=3,
            bridge_batches=3,
            bridge_batch=200,
            js_suite_repeats=1,
        )


QUICK_SKIPS = "not among this run's sizes (--quick skips the million-scale points)"


def spaced(n: int) -> str:
    """1000000 -> '1 000 000'."""
    return f"{n:,}".replace(",", " ")


class Run:
    """Collects the records and scale rows of one run, printing each record as it comes."""

    def __init__(self, config: Config, echo: Callable[[str], None] = print) -> None:
        self.config = config
        self.echo = echo
        self.records: list[br.Record] = []
        self.scale: dict[str, dict[str, Any]] = {}

    def add(self, record: br.Record) -> None:
        """Keep ``record`` and print its line."""
        problems = br.record_problems(record)
        assert not problems, problems
        self.records.append(record)
        self.echo(line(record))

    def scale_table(
        self, key: str, title: str, caption: str, columns: Sequence[int], headers: Sequence[str]
    ) -> None:
        """Start a scale table (rows are added with :meth:`scale_row`)."""
        self.scale[key] = {
            "title": title,
            "caption": caption,
            "columns": list(columns),
            "headers": list(headers),
            "rows": [],
        }

    def scale_row(self, key: str, label: str, values: Sequence[float | None]) -> None:
        """A row of per-item costs at the table's columns (None: not measured)."""
        stored = [None if v is None else br.sample(v) for v in values]
        self.scale[key]["rows"].append(
            {"label": label, "values": stored, "flatness": br.flatness(stored)}
        )


def line(record: br.Record) -> str:
    """One record on one line: figure, baseline, ratio, target and whether it holds."""
    name = record["name"]
    if record["status"] != "ran":
        return f"{name}: not run: {record['reason']}"
    unit = record["unit"]
    spec = record["target"]
    verdict = "no target (a peer)"
    if spec is not None:
        verdict = f"target {spec['text']}: {'holds' if record['holds'] else 'DOES NOT HOLD'}"
    return (
        f"{name}: {br.quantity(record['figure'], unit)} vs {record['baseline_label']} "
        f"{br.quantity(record['baseline'], unit)} = {br.number(record['ratio'])}x; {verdict}"
    )


def progress(message: str) -> None:
    """What is being measured now (stderr, so stdout stays the results)."""
    print(f"  .. {message}", file=sys.stderr, flush=True)


# -- per callback: rIC, its timeout, set_timeout, the baseline, asyncio and trio -----------


@dataclass(frozen=True)
class Series:
    """A per-callback workload swept over the sizes."""

    label: str
    run: Callable[[int], wl.PerCallback]
    #: None if it can run here, else why not.
    missing: Callable[[], str | None] = lambda: None


SERIES: dict[str, Series] = {
    "baseline": Series("dict+deque+call", wl.baseline),
    "ric": Series("rIC", wl.ric),
    "ric_timeout": Series("rIC {timeout: 1000}", wl.ric_timeout),
    "set_timeout": Series("set_timeout", wl.set_timeout),
    "call_soon": Series("asyncio call_soon", wl.asyncio_call_soon),
    "call_later": Series("asyncio call_later", wl.asyncio_call_later),
    "trio_soon": Series("trio run_sync_soon", wl.trio_run_sync_soon, wl.trio_available),
}


def sweep(
    config: Config, names: Sequence[str], sizes: Sequence[int]
) -> dict[tuple[str, int], list[wl.PerCallback]]:
    """Every series at every size; within a repeat the series take turns (order rotated)."""
    samples: dict[tuple[str, int], list[wl.PerCallback]] = {}
    for n in sizes:
        repeats = config.repeats[n]
        progress(f"{spaced(n)} callbacks: {repeats} repeats of {', '.join(names)}")
        for r in range(repeats):
            turn = list(names[r % len(names) :]) + list(names[: r % len(names)])
            for name in turn:
                samples.setdefault((name, n), []).append(SERIES[name].run(n))
    return samples


def _totals(samples: Sequence[wl.PerCallback]) -> list[float]:
    return [post + run for post, run in samples]


def _min_part(samples: Sequence[wl.PerCallback] | None, index: int | None) -> float | None:
    if not samples:
        return None
    if index is None:
        return min(_totals(samples))
    return min(s[index] for s in samples)


def callbacks(run: Run) -> None:
    """rIC per callback against the dict+deque+call baseline, asyncio and trio, and its scale.

    Each callback is requested on a quiet loop and ``loop.run()`` invokes them all in the
    first idle period. The baseline does what any FIFO of cancellable callbacks must (a
    handle, a dict entry, a deque slot, one call with a deadline) and nothing else. asyncio
    ``call_soon`` is the same pattern in the standard library's loop; ``call_later`` with
    distinct delays the same for timers, on a virtual clock. Ratios are read where the
    issue states them; the scale table shows every part at every size.
    """
    config = run.config
    missing = {name: s.missing() for name, s in SERIES.items()}
    names = [name for name in SERIES if missing[name] is None]
    # Load every peer before timing anything: freezegun's start (each loop.run() here) walks
    # every loaded module, so all samples must see the same modules.
    if "trio_soon" in names:
        import trio.lowlevel  # noqa: F401, PLC0415 - loaded for the reason above
    samples = sweep(config, names, config.sizes)
    freeze_ms = wl.freezegun_start_stop_ms()

    def parts(*series: str, n: int) -> dict[str, list[float]]:
        return {name: _totals(samples[name, n]) for name in series}

    for n, short in ((1_000, "1k"), (100_000, "100k"), (MILLION, "1m")):
        name = f"ric_vs_baseline_{short}"
        measure = f"rIC request + invoke per callback, {spaced(n)} callbacks"
        goal = br.target("ratio", "<=", 10, f"≤ 10{br.X}")
        if n not in config.sizes:
            run.add(br.not_run(name, measure, QUICK_SKIPS, goal))
            continue
        run.add(
            br.ran(
                name,
                measure,
                "µs",
                parts=parts("ric", "baseline", n=n),
                figure_from="ric",
                baseline_from="baseline",
                baseline_label="dict+deque+call",
                target=goal,
                details={
                    "of_which": {"freezegun start + stop ≈": br.sample(freeze_ms * 1e3 / n)},
                    "freezegun_start_stop_ms": br.sample(freeze_ms),
                },
            )
        )
    n = config.peer_n
    at = f"{spaced(n)} callbacks"
    run.add(
        br.ran(
            "ric_vs_call_soon",
            f"rIC request + invoke vs asyncio call_soon, {at}",
            "µs",
            parts=parts("ric", "call_soon", n=n),
            figure_from="ric",
            baseline_from="call_soon",
            baseline_label="asyncio call_soon",
            target=br.target("ratio", "<", 1, f"< 1{br.X} (faster)"),
        )
    )
    run.add(
        br.ran(
            "ric_timeout_vs_plain",
            f"rIC with {{timeout: 1000}} vs without, {at}",
            "µs",
            parts=parts("ric_timeout", "ric", n=n),
            figure_from="ric_timeout",
            baseline_from="ric",
            baseline_label="rIC",
            target=br.target("ratio", "<=", 1.5, f"≤ 1.5{br.X}"),
        )
    )
    run.add(
        br.ran(
            "set_timeout_vs_call_later",
            f"set_timeout, distinct delays, post + fire vs asyncio call_later, {spaced(n)} timers",
            "µs",
            parts=parts("set_timeout", "call_later", n=n),
            figure_from="set_timeout",
            baseline_from="call_later",
            baseline_label="asyncio call_later",
            target=br.target("ratio", "<=", 1, f"≤ 1{br.X}"),
        )
    )
    trio_measure = f"rIC request + invoke vs trio run_sync_soon, {at}"
    if missing["trio_soon"] is not None:
        run.add(br.not_run("ric_vs_trio_run_sync_soon", trio_measure, missing["trio_soon"]))
    else:
        run.add(
            br.ran(
                "ric_vs_trio_run_sync_soon",
                trio_measure,
                "µs",
                parts=parts("ric", "trio_soon", n=n),
                figure_from="ric",
                baseline_from="trio_soon",
                baseline_label="trio run_sync_soon",
            )
        )

    _callbacks_table(run)
    rows = [
        ("dict+deque+call baseline", "baseline", None),
        ("rIC: post", "ric", 0),
        ("rIC: run", "ric", 1),
        ("rIC: post + run", "ric", None),
        ("rIC {timeout: 1000}: post", "ric_timeout", 0),
        ("rIC {timeout: 1000}: run", "ric_timeout", 1),
        ("rIC {timeout: 1000}: post + run", "ric_timeout", None),
        ("set_timeout, distinct delays: post", "set_timeout", 0),
        ("set_timeout, distinct delays: run", "set_timeout", 1),
        ("set_timeout, distinct delays: post + run", "set_timeout", None),
        ("asyncio call_soon: post + run", "call_soon", None),
        ("asyncio call_later, distinct delays: post + run", "call_later", None),
        ("trio run_sync_soon: post + run", "trio_soon", None),
    ]
    for label, series, index in rows:
        run.scale_row(
            "callbacks", label, [_min_part(samples.get((series, c)), index) for c in SCALE_SIZES]
        )


SCALE_SIZES = (1_000, 100_000, MILLION)


def _callbacks_table(run: Run) -> None:
    if "callbacks" in run.scale:
        return
    run.scale_table(
        "callbacks",
        "µs per item",
        "Scale: µs per item (CPU, minimum of the repeats) as the work grows from 1 000 to 1 000 000 "
        "items; a part is flat when largest / smallest stays near 1. *post* is the request or "
        "timer call, *run* the `loop.run()` that invokes them all; a cancel is timed with n "
        "callbacks pending.",
        SCALE_SIZES,
        [spaced(c) for c in SCALE_SIZES],
    )


def trio_timers(run: Run) -> None:
    """set_timeout against trio tasks sleeping on ``MockClock``, the same distinct delays.

    trio's test clock is the closest peer of a virtual-time timer in Python; a task per
    timer is what trio asks of its users, so this is a peer, not a target.
    """
    config = run.config
    n = config.trio_timers_n
    measure = f"set_timeout, distinct delays, vs trio sleep on MockClock, {spaced(n)} timers"
    reason = wl.trio_available()
    if reason is not None:
        run.add(br.not_run("set_timeout_vs_trio_mock_clock", measure, reason))
        return
    progress(f"{spaced(n)} timers: set_timeout and trio MockClock")
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(config.trio_timers_repeats):
        ours.append(sum(wl.set_timeout(n)))
        theirs.append(sum(wl.trio_mock_clock_sleep(n)))
    run.add(
        br.ran(
            "set_timeout_vs_trio_mock_clock",
            measure,
            "µs",
            parts={"set_timeout": ours, "trio_mock_clock": theirs},
            figure_from="set_timeout",
            baseline_from="trio_mock_clock",
            baseline_label="trio MockClock sleep",
        )
    )


# -- windows -----------------------------------------------------------------------------------


def windows(run: Run) -> None:
    """Per callback with 1 000 windows against 1 window, the same number of callbacks."""
    config = run.config
    total = config.windows_total
    samples: dict[int, list[float]] = {w: [] for w in config.windows}
    progress(
        f"1 to 1 000 windows, {spaced(total)} callbacks each time, {config.windows_repeats} repeats"
    )
    for _ in range(config.windows_repeats):
        for count in config.windows:
            samples[count].append(wl.windows(count, total))
    run.add(
        br.ran(
            "windows_1000_vs_1",
            f"rIC per callback, 1 000 windows vs 1 (one reposting callback each, {spaced(total)} callbacks)",
            "µs",
            parts={"1000 windows": samples[1_000], "1 window": samples[1]},
            figure_from="1000 windows",
            baseline_from="1 window",
            baseline_label="1 window",
            target=br.target("ratio", "<=", 1.5, f"≤ 1.5{br.X}"),
        )
    )
    run.scale_table(
        "windows",
        "µs per callback",
        f"Scale: µs per callback (CPU, minimum of the repeats) with 1 to 1 000 same-loop windows, "
        f"one self-reposting callback each, {spaced(total)} callbacks in all.",
        config.windows,
        [f"{spaced(w)} window{'s' if w > 1 else ''}" for w in config.windows],
    )
    run.scale_row(
        "windows",
        "rIC, one reposting callback per window",
        [min(samples[w]) for w in config.windows],
    )


# -- cancel ------------------------------------------------------------------------------------


def cancel(run: Run) -> None:
    """cancel_idle_callback with many pending against few, next to a plain dict.pop's growth.

    The figure is how much dearer a cancel is with the most callbacks pending than with
    1 000; the baseline is the same growth for ``dict.pop`` on the same random keys, which
    no handle lookup can beat (a million-entry dict misses the caches).
    """
    config = run.config
    ours: dict[int, list[float]] = {}
    plain: dict[int, list[float]] = {}
    for n in config.cancel_sizes:
        k = min(config.cancel_k, n // 2)
        progress(
            f"cancel_idle_callback, {spaced(n)} pending, {config.cancel_repeats} x {spaced(k)} cancels"
        )
        ours[n], plain[n] = wl.cancel_samples(n, k, config.cancel_repeats)
    big, small = max(config.cancel_sizes), min(config.cancel_sizes)
    parts = {
        f"cancel@{big}": ours[big],
        f"cancel@{small}": ours[small],
        f"dict.pop@{big}": plain[big],
        f"dict.pop@{small}": plain[small],
    }
    run.add(
        br.ran(
            "cancel_growth",
            f"cancel_idle_callback, {spaced(big)} vs {spaced(small)} pending (growth: cost at {spaced(big)} / cost at {spaced(small)})",
            br.X,
            parts=parts,
            figure_from=[f"cancel@{big}", f"cancel@{small}"],
            baseline_from=[f"dict.pop@{big}", f"dict.pop@{small}"],
            baseline_label="dict.pop's growth",
            target=br.target("ratio", "<=", 1.5, f"≤ 1.5{br.X} of dict.pop's"),
            details={"µs": {key: min(values) for key, values in parts.items()}},
        )
    )
    run.add(
        br.ran(
            "cancel_vs_dict_pop",
            f"cancel_idle_callback vs a plain dict.pop, {spaced(big)} pending",
            "µs",
            parts={"cancel": ours[big], "dict.pop": plain[big]},
            figure_from="cancel",
            baseline_from="dict.pop",
            baseline_label="dict.pop",
        )
    )
    _callbacks_table(run)
    for label, values in (("cancel_idle_callback", ours), ("plain dict.pop, same keys", plain)):
        run.scale_row(
            "callbacks", label, [min(values[c]) if c in values else None for c in SCALE_SIZES]
        )


# -- memory ------------------------------------------------------------------------------------


def memory(run: Run) -> None:
    """Bytes (tracemalloc) and GC-tracked objects per pending item, against a floor.

    The structures are built first and only the posting of ``n`` items is traced; each
    item's callback is one shared function, so the figure is the scheduler's own cost.
    """
    config = run.config
    n = config.memory_n
    cases: list[
        tuple[str, str, Callable[[], wl.Poster], Callable[[], wl.Poster], str, br.Record, int]
    ] = [
        (
            "ric_memory",
            f"memory per pending idle callback, {spaced(n)} pending",
            wl.ric_poster(),
            wl.baseline_poster(),
            "dict+deque",
            br.target("figure", "<=", 150, "≤ 150 B"),
            n,
        ),
        (
            "ric_timeout_memory",
            f"memory per pending idle callback with {{timeout: 1000}}, {spaced(n)} pending",
            wl.ric_poster(wl.TIMEOUT_OPTIONS),
            wl.baseline_poster(with_heap=True),
            "dict+deque+heap entry",
            br.target("figure", "<=", 200, "≤ 200 B"),
            n,
        ),
        (
            "set_timeout_memory",
            f"memory per pending set_timeout, distinct delays, {spaced(config.timer_memory_n)} pending",
            wl.set_timeout_poster,
            wl.call_later_poster,
            "asyncio call_later",
            br.target("figure", "<=", 300, "≤ 300 B"),
            config.timer_memory_n,
        ),
    ]
    for name, measure, ours, floor, label, goal, count in cases:
        progress(f"{name}: {spaced(count)} pending, traced")
        ours_bytes, ours_objects = wl.pending_memory(ours, count)
        floor_bytes, floor_objects = wl.pending_memory(floor, count)
        run.add(
            br.ran(
                name,
                measure,
                "B",
                parts={"ours": [ours_bytes], "baseline": [floor_bytes]},
                figure_from="ours",
                baseline_from="baseline",
                baseline_label=label,
                target=goal,
                details={
                    "gc_objects": br.sample(ours_objects),
                    "baseline_gc_objects": br.sample(floor_objects),
                },
            )
        )


# -- whole processes: the CLI and pytest -------------------------------------------------------

#: Run in a child: the CLI's ``main`` or ``pytest.main`` with a few functions wrapped in CPU
#: timers (outermost calls only, per phase), then one line ``PHASES {json}``. The clock is
#: kept in a tuple: freezegun, active while rows run, swaps module attributes only.
PHASES_DRIVER = r"""
import json, sys, time
clock = (time.process_time,)
began = clock[0]()
mode, argv = sys.argv[1], sys.argv[2:]
if mode == "cli":
    from idlespec.conformance import cli as entry
else:
    import pytest as entry
    import idlespec.conformance.pytest_plugin
    # Imported here before pytest starts (to time the imports apart), so pytest cannot
    # assertion-rewrite the plugin's package and says so: not a problem of the measured run.
    argv = ["-W", "ignore::pytest.PytestAssertRewriteWarning", *argv]
imported = clock[0]()
# Not freezegun itself: importing it here would bill its 0.1 s to a run that never starts it.
from idlespec.conformance import reports, rows, runner
from idlespec.reference import freeze

phases = {}

def track(phase, owner, attr):
    original = getattr(owner, attr)
    state = phases.setdefault(phase, {"calls": 0, "s": 0.0, "depth": 0})
    def timed(*args, **kwargs):
        if state["depth"]:
            return original(*args, **kwargs)
        state["depth"] += 1
        start = clock[0]()
        try:
            return original(*args, **kwargs)
        finally:
            state["s"] += clock[0]() - start
            state["calls"] += 1
            state["depth"] -= 1
    if isinstance(owner, type):
        setattr(owner, attr, timed)
        return
    for module in list(sys.modules.values()):
        for name, value in list(vars(module).items()):
            if value is original:
                setattr(module, name, timed)

track("tables", rows, "load_rows")
track("tables", rows, "load_table")
track("candidate set-up", runner.CandidateRun, "__enter__")
track("candidate set-up", runner.CandidateRun, "__exit__")
track("rows", runner.CandidateRun, "run")
track("reports", reports, "write_reports")
track("reports", reports.RawWriter, "write")
track("reports", reports.RawWriter, "close")
# The freeze's start, freezegun's import included when it is the first.
track("freezegun starts", freeze.GlobalClockFollower, "__enter__")
status = entry.main(argv)
ended = clock[0]()
print("PHASES " + json.dumps({
    "status": int(status),
    "imports": imported - began,
    "total": ended - began,
    "phases": {k: {"calls": v["calls"], "s": v["s"]} for k, v in phases.items()},
}))
"""


def _wall(argv: Sequence[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run ``argv``: its wall seconds, its CPU seconds (user + system), what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPROFILE"))}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done


def phases(mode: str, argv: Sequence[str], cwd: Path, repeats: int) -> dict[str, Any]:
    """The phases of ``idlespec`` (``mode`` "cli") or ``pytest`` with ``argv``, in a child.

    CPU seconds, from the fastest of ``repeats`` runs (so the phases add up to its total): seconds per
    phase, the rest (what no phase covers), and ``calls``, how often each phase was entered
    (outermost calls: how many times the tables were loaded, freezegun started).
    """
    runs = []
    for _ in range(repeats):
        _, _, done = _wall([sys.executable, "-c", PHASES_DRIVER, mode, *argv], cwd)
        found = re.findall(r"^PHASES (\{.*\})$", done.stdout, re.M)
        if not found:
            raise RuntimeError(f"the phase driver printed no phases: {done.stderr.strip()[-300:]}")
        runs.append(json.loads(found[-1]))
    best = min(runs, key=lambda r: r["total"])
    seconds = {"imports": best["imports"]}
    seconds.update((p, v["s"]) for p, v in best["phases"].items() if p != "freezegun starts")
    seconds["rest"] = max(0.0, best["total"] - sum(seconds.values()))
    # Inside the candidate set-up (CLI) or the rows (pytest): shown apart, not added.
    seconds["freezegun starts"] = best["phases"]["freezegun starts"]["s"]
    calls = {p: v["calls"] for p, v in best["phases"].items()}
    return {"s": seconds, "calls": calls, "total": best["total"]}


PYTHON_PASS = (sys.executable, "-c", "pass")


def _process(
    run: Run,
    *,
    name: str,
    measure: str,
    goal: br.Record,
    argv: Sequence[str],
    driver: tuple[str, Sequence[str]],
    cwd: Path,
) -> None:
    """A whole process's wall against ``python -c pass``, interleaved, with its phases.

    The figure is wall time, as the issue states its targets; the process's CPU time (which
    other processes on a shared machine do not inflate) and the CPU breakdown by phase are
    shown beside it.
    """
    walls: list[float] = []
    cpus: list[float] = []
    floors: list[float] = []
    floor_cpus: list[float] = []
    progress(f"{name}: {run.config.process_repeats} repeats, then its phases")
    for _ in range(run.config.process_repeats):
        floor_wall, floor_cpu, _ = _wall(PYTHON_PASS, cwd)
        floors.append(floor_wall)
        floor_cpus.append(floor_cpu)
        wall, cpu, done = _wall(argv, cwd)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip()[-300:]
            run.add(br.not_run(name, measure, f"exit status {done.returncode}: {tail}", goal))
            return
        walls.append(wall)
        cpus.append(cpu)
    found = phases(driver[0], driver[1], cwd, repeats=2)
    seconds = found["s"]
    breakdown = {"interpreter start": min(floor_cpus)}
    for phase in ("imports", "tables", "candidate set-up", "rows", "reports", "rest"):
        breakdown[phase] = seconds.get(phase, 0.0)
    run.add(
        br.ran(
            name,
            measure,
            "s",
            parts={
                "process": walls,
                "python -c pass": floors,
                "process cpu": cpus,
                "python -c pass cpu": floor_cpus,
            },
            figure_from="process",
            baseline_from="python -c pass",
            baseline_label="`python -c pass`",
            target=goal,
            details={
                "cpu_s": br.sample(min(cpus)),
                "breakdown": {k: br.sample(v) for k, v in breakdown.items()},
                "calls": found["calls"],
                "phases_total_s": br.sample(found["total"]),
                "freezegun_starts": found["calls"].get("freezegun starts"),
                "freezegun_start_s": br.sample(seconds["freezegun starts"]),
            },
        )
    )


def cli(run: Run) -> None:
    """``idlespec run -c reference`` as a user runs it: a whole process, wall time.

    Interleaved with ``python -c pass``, the floor any command pays. The breakdown comes
    from the same command in a child with its phases timed: imports, loading and
    validating the tables (every call), opening and closing the candidate (the clock
    freeze), running the rows, writing the reports (each row's raw line as it comes, then
    the summaries), and the rest.
    """
    with tempfile.TemporaryDirectory(prefix="idlespec-bench-") as tmp:
        args = ["run", "-c", "reference", "--out", str(Path(tmp) / "out"), "--progress", "never"]
        _process(
            run,
            name="cli_run_reference",
            measure="full CLI run, `idlespec run -c reference`, wall",
            goal=br.target("figure", "<=", 0.35, "≤ 0.35 s, rows the largest part", "rows"),
            argv=[sys.executable, "-m", "idlespec", *args],
            driver=("cli", args),
            cwd=Path(tmp),
        )


def pytest_run(run: Run) -> None:
    """``pytest --candidate reference`` (every row as a test), a whole process, wall time.

    From the repository root, as ``tox -e conformance-reference`` runs it; the breakdown is
    :func:`cli`'s, from ``pytest.main`` in a child (imports: pytest and the plugin).
    """
    args = ["-p", "no:cacheprovider", "-q", "--candidate", "reference"]
    _process(
        run,
        name="pytest_candidate_reference",
        measure="`pytest --candidate reference`, wall",
        goal=br.target("figure", "<=", 1.0, "≤ 1 s"),
        argv=[sys.executable, "-m", "pytest", *args],
        driver=("pytest", args),
        cwd=ROOT,
    )


# -- the JavaScript side: the Node bridge ----------------------------------------------------

ECHO_JS = r"""
'use strict';
// The floor of a bridge round trip: JSON Lines echoed over the same pipes, read and written
// the way bridge.js reads and writes them (synchronous fs calls), with no protocol.
const fs = require('fs');
const chunk = Buffer.alloc(1 << 16);
const pause = new Int32Array(new SharedArrayBuffer(4));
let buffer = Buffer.alloc(0);
for (;;) {
  const newline = buffer.indexOf(10);
  if (newline >= 0) {
    const message = JSON.parse(buffer.subarray(0, newline).toString('utf8'));
    buffer = buffer.subarray(newline + 1);
    const data = Buffer.from(JSON.stringify({ t: 'ret', id: message.id, v: null }) + '\n');
    let offset = 0;
    while (offset < data.length) {
      try { offset += fs.writeSync(1, data, offset, data.length - offset); }
      catch (e) { if (e.code !== 'EAGAIN') throw e; Atomics.wait(pause, 0, 0, 1); }
    }
    continue;
  }
  let n;
  try { n = fs.readSync(0, chunk, 0, chunk.length, null); }
  catch (e) { if (e.code === 'EAGAIN') { Atomics.wait(pause, 0, 0, 1); continue; } if (e.code === 'EOF') n = 0; else throw e; }
  if (n === 0) process.exit(0);
  buffer = Buffer.concat([buffer, chunk.subarray(0, n)]);
}
"""


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _echo_batch(proc: subprocess.Popen[bytes], count: int) -> float:
    assert proc.stdin is not None and proc.stdout is not None
    times = []
    for i in range(count):
        start = time.perf_counter()
        proc.stdin.write(
            json.dumps(
                {"t": "call", "id": i, "now": 0.0, "op": "hello", "a": {}}, separators=(",", ":")
            ).encode()
            + b"\n"
        )
        proc.stdin.flush()
        json.loads(proc.stdout.readline())
        times.append(time.perf_counter() - start)
    return _median(times) * 1e6


def js(run: Run) -> None:
    """The Node bridge: a round trip, a nested one, and each JS candidate's whole suite.

    A round trip (``hello``) is compared with a bare JSON Lines echo over the same pipes; a
    ``requestIdleCallback`` through ``js-settimeout-shim`` (Python -> JS -> Python
    ``setTimeout`` -> back) with a plain round trip. A candidate's suite time is compared
    with its Python twin's for idlespec's own shims (what the bridge adds) and with the
    reference's for the npm packages. None of these has a target.
    """
    from idlespec.conformance.candidates import JS_CANDIDATE_NAMES  # noqa: PLC0415
    from idlespec.conformance.node.bridge import find_node  # noqa: PLC0415
    from idlespec.conformance.node.candidates import node_modules  # noqa: PLC0415

    config = run.config
    names = JS_CANDIDATE_NAMES[:2] if config.quick else JS_CANDIDATE_NAMES
    node = find_node()
    reason = None if node is not None else "Node.js not found (node on PATH, or IDLESPEC_NODE)"
    round_trip = "Node bridge round trip (`hello`), median"
    nested = (
        "Node bridge: requestIdleCallback through js-settimeout-shim (a nested host call), median"
    )
    if node is None:
        run.add(br.not_run("bridge_round_trip", round_trip, str(reason)))
        run.add(br.not_run("bridge_nested_call", nested, str(reason)))
        for name in names:
            run.add(br.not_run(f"js_suite:{name}", f"whole suite, {name}", str(reason)))
        return
    _bridge_round_trips(run, node, round_trip, nested)
    modules = node_modules()
    for name in names:
        measure = f"whole suite, {name}, wall"
        if name.startswith("npm:"):
            package = name[len("npm:") :].rsplit("@", 1)[0]
            if not (modules / package).is_dir():
                run.add(
                    br.not_run(
                        f"js_suite:{name}", measure, f"{modules / package} missing (run `npm ci`)"
                    )
                )
                continue
        _js_suite(run, name, measure)


def _bridge_round_trips(run: Run, node: str, round_trip: str, nested: str) -> None:
    from idlespec.conformance.api import HostWindow  # noqa: PLC0415
    from idlespec.conformance.candidates import resolve_candidate  # noqa: PLC0415
    from idlespec.conformance.node.bridge import Bridge  # noqa: PLC0415
    from idlespec.conformance.node.candidates import JsUserlandCandidate  # noqa: PLC0415
    from idlespec.conformance.runner import CandidateRun  # noqa: PLC0415
    from idlespec.reference import EventLoop  # noqa: PLC0415

    config = run.config
    progress(f"bridge round trips: {config.bridge_batches} batches of {config.bridge_batch}")
    bridge = Bridge(node, lambda realm, fn, args: None, lambda: 0.0)
    echo = subprocess.Popen([node, "-e", ECHO_JS], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    plain: list[float] = []
    floor: list[float] = []
    try:
        for _ in range(config.bridge_batches):
            times = []
            for _ in range(config.bridge_batch):
                start = time.perf_counter()
                bridge.call("hello")
                times.append(time.perf_counter() - start)
            plain.append(_median(times) * 1e6)
            floor.append(_echo_batch(echo, config.bridge_batch))
    finally:
        bridge.stop()
        assert echo.stdin is not None
        echo.stdin.close()
        echo.wait(timeout=5)
        if echo.stdout is not None:
            echo.stdout.close()
    run.add(
        br.ran(
            "bridge_round_trip",
            round_trip,
            "µs",
            parts={"bridge": plain, "echo": floor},
            figure_from="bridge",
            baseline_from="echo",
            baseline_label="bare JSON Lines echo",
        )
    )
    candidate = resolve_candidate("js-settimeout-shim")
    assert isinstance(candidate, JsUserlandCandidate)
    calls: list[float] = []
    loop = EventLoop(freeze_global_clocks=False)
    with CandidateRun(candidate):
        binding = candidate.install(HostWindow(loop.window))
        for _ in range(config.bridge_batches):
            times = []
            for _ in range(config.bridge_batch):
                start = time.perf_counter()
                binding.request_idle_callback(lambda deadline: None)
                times.append(time.perf_counter() - start)
            calls.append(_median(times) * 1e6)
    run.add(
        br.ran(
            "bridge_nested_call",
            nested,
            "µs",
            parts={"nested": calls, "round trip": plain},
            figure_from="nested",
            baseline_from="round trip",
            baseline_label="plain round trip",
        )
    )


TWINS = {"js-settimeout-shim": "settimeout-shim", "js-polyfill": "polyfill"}


def _js_suite(run: Run, name: str, measure: str) -> None:
    from idlespec.conformance.candidates import resolve_candidate  # noqa: PLC0415
    from idlespec.conformance.rows import load_rows  # noqa: PLC0415
    from idlespec.conformance.runner import run_rows  # noqa: PLC0415

    rows = load_rows()
    baseline = TWINS.get(name, "reference")
    progress(f"whole suite: {name} against {baseline}, {run.config.js_suite_repeats} repeats")
    ours: list[float] = []
    theirs: list[float] = []
    ran_rows = errors = 0
    for _ in range(run.config.js_suite_repeats):
        start = time.perf_counter()
        run_rows(rows, resolve_candidate(baseline))
        theirs.append(time.perf_counter() - start)
        start = time.perf_counter()
        results = run_rows(rows, resolve_candidate(name))
        ours.append(time.perf_counter() - start)
        ran_rows = sum(1 for r in results if str(r.raw_verdict) != "UNSUPPORTED")
        errors = sum(1 for r in results if str(r.raw_verdict) in ("ERROR", "TIMEOUT"))
    run.add(
        br.ran(
            f"js_suite:{name}",
            measure,
            "s",
            parts={"candidate": ours, baseline: theirs},
            figure_from="candidate",
            baseline_from=baseline,
            baseline_label=baseline,
            details={"rows": len(rows), "rows_run": ran_rows, "errors_or_timeouts": errors},
        )
    )


# -- the registry ------------------------------------------------------------------------------

Group = Callable[[Run], None]

GROUPS: dict[str, Group] = {
    "callbacks": callbacks,
    "trio-timers": trio_timers,
    "windows": windows,
    "cancel": cancel,
    "memory": memory,
    "cli": cli,
    "pytest": pytest_run,
    "js": js,
}


def js_record_names() -> list[str]:
    """The JS records of a full run."""
    from idlespec.conformance.candidates import JS_CANDIDATE_NAMES  # noqa: PLC0415

    return [
        "bridge_round_trip",
        "bridge_nested_call",
        *(f"js_suite:{n}" for n in JS_CANDIDATE_NAMES),
    ]


RECORDS: dict[str, list[str]] = {
    "callbacks": [
        "ric_vs_baseline_1k",
        "ric_vs_baseline_100k",
        "ric_vs_baseline_1m",
        "ric_vs_call_soon",
        "ric_timeout_vs_plain",
        "set_timeout_vs_call_later",
        "ric_vs_trio_run_sync_soon",
    ],
    "trio-timers": ["set_timeout_vs_trio_mock_clock"],
    "windows": ["windows_1000_vs_1"],
    "cancel": ["cancel_growth", "cancel_vs_dict_pop"],
    "memory": ["ric_memory", "ric_timeout_memory", "set_timeout_memory"],
    "cli": ["cli_run_reference"],
    "pytest": ["pytest_candidate_reference"],
}


def expected_records() -> list[str]:
    """Every record a full run writes, in order."""
    return [name for group in GROUPS for name in RECORDS.get(group, [])] + js_record_names()


def select(only: Sequence[str]) -> list[str]:
    """Group names for ``--only`` (group or record names; unknown names raise ValueError)."""
    if not only:
        return list(GROUPS)
    chosen: list[str] = []
    for word in only:
        group = word if word in GROUPS else None
        if group is None:
            group = next((g for g, names in RECORDS.items() if word in names), None)
        if group is None and (word.startswith(("js_suite:", "bridge_"))):
            group = "js"
        if group is None:
            raise ValueError(f"no benchmark {word!r}; groups: {', '.join(GROUPS)}")
        if group not in chosen:
            chosen.append(group)
    return [g for g in GROUPS if g in chosen]
