"""The workload report: what running background work through each candidate costs a page.

A seeded workload like MDN's guide example (100 to 200 tasks of 75 to 150 small units of
work each; a few tasks fail their first attempt half-way and are retried) runs through an
:class:`~idlespec.taskqueue.IdleTaskQueue` on every built-in candidate that a page can host,
on a page with a 60 Hz animation loop and periodic input (:mod:`.animated_page`, which
defines jank and input delay), in virtual time. Self-hosted candidates are listed with the
reason they cannot run it. Per candidate it measures the time to finish, the janked
vsyncs, the worst and median input delay, the units done per idle period, and the tasks
that never ran or ran twice (a task has run when its handler completed).

    python -m idlespec.taskqueue.workload --out reports/workload

writes ``workload.json`` (the data; the same bytes on every run), ``workload.md`` (the
table and what to conclude, written from the numbers) and ``workload.svg`` (work done over
time, one line per candidate, with the JSON's digest in its metadata). It prints the real
time each candidate took.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from idlespec.conformance.api import Candidate
from idlespec.conformance.candidates import ReferenceCandidate
from idlespec.conformance.runner import watchdog
from idlespec.reference import wall_clock

from .animated_page import AnimatedPage, PageConfig, input_arrivals
from .backoff import Backoff
from .hosts import HostedCandidate, builtin_hosting
from .queue import IdleTaskQueue
from .records import Slice

#: Where the committed report lives, relative to the repository root.
REPORT_DIR = Path("reports") / "workload"
#: Real seconds one candidate's run may take before it counts as hung (the slowest built-in
#: takes about one): the conformance runner's watchdog stops it.
WATCHDOG_S = 60.0


class TransientFailure(Exception):
    """What a failing task raises on its first attempt."""


@dataclass(frozen=True)
class Workload:
    """The workload and the page it runs on (every number is virtual ms or a count).

    Attributes:
        seed: seeds the tasks, their failures and the input arrivals.
        tasks: the least and most tasks.
        units: the least and most units of work per task.
        unit_ms: what one unit costs.
        fail_share: the share of tasks whose first attempt fails half-way.
        timeout_ms: the queue's idle request timeout.
        backoff_base_ms: the queue's first retry delay.
        cap_ms: a candidate that has not finished by then is stopped there.
        settle_ms: how long the page runs on after the queue finished, so that every
            frame and input up to the finish is recorded.
        baseline_ms: how long the page alone (no idle work) runs for the baseline.
        page: the page's own work.
    """

    seed: int = 13
    tasks: tuple[int, int] = (100, 200)
    units: tuple[int, int] = (75, 150)
    unit_ms: float = 0.04
    fail_share: float = 0.05
    timeout_ms: float = 1000.0
    backoff_base_ms: float = 100.0
    cap_ms: float = 20_000.0
    settle_ms: float = 50.0
    baseline_ms: float = 2000.0
    page: PageConfig = field(default_factory=PageConfig)

    def to_json(self) -> dict[str, Any]:
        """The parameters, as the report records them."""
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    """The seeded draw of a workload: each task's units, the failing tasks, the inputs."""

    units: tuple[int, ...]
    failing: frozenset[int]
    arrivals: tuple[float, ...]


def _between(value: float, low: int, high: int) -> int:
    """An integer from ``low`` to ``high`` inclusive, from a uniform ``value`` in [0, 1).

    Computed here rather than by ``random.randint``, whose algorithm is not promised to
    stay the same across Python versions.
    """
    return low + int(value * (high - low + 1))


def plan(workload: Workload) -> Plan:
    """The workload's tasks, failures and input arrivals (the same for every candidate)."""
    rng = random.Random(workload.seed)
    count = _between(rng.random(), *workload.tasks)
    units = tuple(_between(rng.random(), *workload.units) for _ in range(count))
    failing = frozenset(i for i in range(count) if rng.random() < workload.fail_share)
    arrivals = input_arrivals(workload.page, workload.cap_ms, workload.seed + 1)
    return Plan(units, failing, tuple(arrivals))


def _ms(value: float) -> float:
    """A time as the report writes it: µs precision."""
    return round(value, 3)


@dataclass
class _Run:
    """What one candidate's run records as it goes."""

    completions: Counter[int] = field(default_factory=Counter)
    first_attempts: set[int] = field(default_factory=set)
    progress: list[tuple[float, int]] = field(default_factory=list)  # (time, units) per task
    units_run: int = 0
    units_at_last_slice: int = 0
    slice_units: list[int] = field(default_factory=list)
    longest_slice_ms: float = 0.0


def run_candidate(
    candidate: Candidate, workload: Workload | None = None, drawn: Plan | None = None
) -> dict[str, Any]:
    """Run the workload on ``candidate``; its row of the report (see the module docstring).

    Raises:
        Unhostable: the candidate is self-hosted.
        CandidateUnavailable: it cannot run here (no Node, a missing npm package).
    """
    with HostedCandidate(candidate) as hosted:
        return run_hosted(hosted, workload, drawn)


def run_hosted(
    hosted: HostedCandidate, workload: Workload | None = None, drawn: Plan | None = None
) -> dict[str, Any]:
    """:func:`run_candidate` on a candidate that is open already (on a fresh page of it)."""
    workload = workload if workload is not None else Workload()
    drawn = drawn if drawn is not None else plan(workload)
    candidate = hosted.candidate
    with watchdog(WATCHDOG_S), hosted.page() as page:
        loop, run = page.loop, _Run()
        animated = AnimatedPage(page, workload.page)

        def unit_task(data: dict[str, Any]) -> int:
            task: int = data["task"]
            units: int = data["units"]
            failing = data["fail"] and task not in run.first_attempts
            run.first_attempts.add(task)
            for unit in range(units):
                loop.busy(workload.unit_ms)
                run.units_run += 1
                if failing and unit + 1 == units // 2:
                    raise TransientFailure(f"task {task} failed half-way (first attempt)")
            run.completions[task] += 1
            run.progress.append((loop.now, units))
            return units

        def on_slice(done: Slice) -> None:
            # Every slice starts a task: the queue requests only with tasks ready.
            run.slice_units.append(run.units_run - run.units_at_last_slice)
            run.units_at_last_slice = run.units_run
            run.longest_slice_ms = max(run.longest_slice_ms, done.end_ms - done.start_ms)

        queue = IdleTaskQueue(
            page.binding,
            page.host,
            timeout=workload.timeout_ms,
            backoff=Backoff(base=workload.backoff_base_ms),
            handlers={"unit-task": unit_task},
            on_slice=on_slice,
        )

        def script() -> None:
            animated.start_animation()
            for task, units in enumerate(drawn.units):
                queue.enqueue(
                    "unit-task", {"task": task, "units": units, "fail": task in drawn.failing}
                )

        page.host.queue_task(script)
        seen_done = animated.drive(list(drawn.arrivals), lambda: queue.finished)
        finished = max(t for t, _ in run.progress) if seen_done is not None else None
        end = finished if finished is not None else loop.now
        loop.run(until=loop.now + workload.settle_ms)
        vsyncs, janked = animated.janked_vsyncs(end)
        delays = animated.input_delays(end)
        stats = queue.stats()
    cumulative, points = 0, []
    for at, units in sorted(run.progress):
        cumulative += units
        points.append([_ms(at), cumulative])
    count = len(drawn.units)
    return {
        "candidate": candidate.name,
        "version": str(candidate.version),
        "kind": candidate.kind,
        "language": "Python" if hosted.in_process else "JavaScript",
        "finished_ms": None if finished is None else _ms(finished),
        "vsyncs": vsyncs,
        "janked": janked,
        "inputs": len(delays),
        "input_delay_worst_ms": _ms(max(delays, default=0.0)),
        "input_delay_median_ms": _ms(statistics.median(delays) if delays else 0.0),
        "idle_callbacks": stats.idle_callbacks,
        "rescued": stats.rescued,
        "units_per_idle_period": _ms(statistics.fmean(run.slice_units) if run.slice_units else 0.0),
        "longest_slice_ms": _ms(run.longest_slice_ms),
        "tasks": count,
        "never_ran": sum(1 for task in range(count) if run.completions[task] == 0),
        "ran_twice": sum(1 for n in run.completions.values() if n > 1),
        "retried": stats.retried,
        "dead": stats.dead,
        "progress": points,
    }


def run_baseline(workload: Workload | None = None, drawn: Plan | None = None) -> dict[str, Any]:
    """The page alone, on the reference, for ``baseline_ms``: no idle work at all."""
    workload = workload if workload is not None else Workload()
    drawn = drawn if drawn is not None else plan(workload)
    with HostedCandidate(ReferenceCandidate()) as hosted, hosted.page() as page:
        animated = AnimatedPage(page, workload.page)
        page.host.queue_task(animated.start_animation)
        end = workload.baseline_ms
        animated.drive([a for a in drawn.arrivals if a <= end], lambda: False)
        page.loop.run(until=end + workload.settle_ms)
        vsyncs, janked = animated.janked_vsyncs(end)
        delays = animated.input_delays(end)
    return {
        "duration_ms": _ms(end),
        "vsyncs": vsyncs,
        "janked": janked,
        "inputs": len(delays),
        "input_delay_worst_ms": _ms(max(delays)),
        "input_delay_median_ms": _ms(statistics.median(delays)),
    }


def measure(
    names: Sequence[str] | None = None,
    workload: Workload | None = None,
    on_candidate: Callable[[str, float], object] = lambda name, seconds: None,
) -> dict[str, Any]:
    """The report's data: the candidates' rows, the baseline, the excluded candidates.

    It runs every hostable built-in candidate (or those in ``names``).

    ``on_candidate(name, seconds)`` is told the real time each candidate took.
    """
    workload = workload if workload is not None else Workload()
    drawn = plan(workload)
    hostable, excluded = builtin_hosting()
    rows = []
    for name in names if names is not None else list(hostable):
        start = wall_clock()
        rows.append(run_candidate(hostable[name](), workload, drawn))
        on_candidate(name, wall_clock() - start)
    return {
        "workload": workload.to_json(),
        "plan": {
            "tasks": len(drawn.units),
            "units": sum(drawn.units),
            "work_ms": _ms(sum(drawn.units) * workload.unit_ms),
            "failing_first_attempt": len(drawn.failing),
        },
        "baseline": run_baseline(workload, drawn),
        "candidates": rows,
        "excluded": excluded,
    }


def encode(data: dict[str, Any]) -> bytes:
    """The report's data as ``workload.json`` holds it (the same bytes for the same data)."""
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode()


def digest(encoded: bytes) -> str:
    """The SHA-256 of ``workload.json``'s bytes, as the plot's metadata records it."""
    return hashlib.sha256(encoded).hexdigest()


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` so that a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def write_report(data: dict[str, Any], out: Path) -> None:
    """Write ``workload.json``, ``workload.md`` and ``workload.svg`` into ``out``."""
    from .plot import draw  # noqa: PLC0415 - matplotlib loads only to draw
    from .report import markdown  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    encoded = encode(data)
    write_atomically(out / "workload.json", encoded)
    write_atomically(out / "workload.md", markdown(data).encode())
    write_atomically(out / "workload.svg", draw(data, digest(encoded)))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m idlespec.taskqueue.workload``: measure, write the report, print timings."""
    parser = argparse.ArgumentParser(
        prog="python -m idlespec.taskqueue.workload",
        description="What background work through each rIC candidate costs a page.",
    )
    parser.add_argument("--out", type=Path, default=REPORT_DIR, help="the report's folder")
    parser.add_argument(
        "-c",
        "--candidate",
        action="append",
        dest="candidates",
        help="only this candidate (repeatable; the committed report has them all)",
    )
    args = parser.parse_args(argv)
    hostable, _excluded = builtin_hosting()
    unknown = [name for name in args.candidates or () if name not in hostable]
    if unknown:
        parser.error(f"not a hostable built-in candidate: {', '.join(unknown)}")
    start = wall_clock()

    def tell(name: str, seconds: float) -> None:
        print(f"{name}: {seconds:.2f} s", flush=True)

    data = measure(args.candidates, on_candidate=tell)
    write_report(data, args.out)
    print(f"wrote {args.out}/workload.{{json,md,svg}} in {wall_clock() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
