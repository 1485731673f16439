"""The queue's metrics in the Prometheus text exposition format (version 0.0.4).

One ``# HELP`` and one ``# TYPE`` line per metric family, then its samples; counters end in
``_total``; the latency histogram has cumulative ``_bucket`` samples up to ``le="+Inf"``,
then ``_sum`` and ``_count``. Times are the host's (virtual) milliseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .records import LATENCY_BUCKETS_MS

if TYPE_CHECKING:
    from .queue import IdleTaskQueue


def _number(value: float | None) -> str:
    """A sample value: integers without a point, floats in full, nothing known as NaN."""
    if value is None:
        return "NaN"
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return repr(value)


def exposition(queue: IdleTaskQueue, prefix: str = "idle_task_queue") -> str:
    """Every metric of ``queue``, as a Prometheus scrape would read it."""
    stats = queue.stats()
    counters = queue.counters
    lines: list[str] = []

    def family(
        name: str, kind: str, help_text: str, samples: list[tuple[str, float | None]]
    ) -> None:
        lines.append(f"# HELP {prefix}_{name} {help_text}")
        lines.append(f"# TYPE {prefix}_{name} {kind}")
        lines.extend(f"{prefix}_{name}{labels} {_number(value)}" for labels, value in samples)

    family(
        "tasks_enqueued_total",
        "counter",
        "Tasks enqueued (a batch and each of its items count).",
        [("", stats.total)],
    )
    family("tasks_done_total", "counter", "Tasks that succeeded.", [("", stats.done)])
    family(
        "tasks_dead_total",
        "counter",
        "Tasks that will not run again (dead letters).",
        [("", stats.dead)],
    )
    family(
        "attempts_failed_total",
        "counter",
        "Attempts that raised, failed or were not acknowledged in time.",
        [("", stats.failed)],
    )
    family(
        "retries_total",
        "counter",
        "Failed attempts that were given another one.",
        [("", stats.retried)],
    )
    family(
        "idle_callbacks_total",
        "counter",
        "Idle callbacks the queue ran tasks in.",
        [("", stats.idle_callbacks)],
    )
    family(
        "rescued_slices_total",
        "counter",
        "Slices run from the queue's own timer (no idle callback came).",
        [("", stats.rescued)],
    )
    family(
        "late_acks_total",
        "counter",
        "Acknowledgements ignored: too late, or a second answer.",
        [("", stats.late_acks)],
    )
    family(
        "tasks",
        "gauge",
        "Tasks by state now.",
        [
            ('{state="pending"}', stats.pending),
            ('{state="in_flight"}', stats.in_flight),
            ('{state="ready"}', stats.queue_length),
        ],
    )
    family(
        "success_ratio",
        "gauge",
        "Done / (done + dead); NaN before any task finished.",
        [("", stats.success_rate)],
    )
    buckets = [
        (f'{{le="{_number(bound)}"}}', float(count))
        for bound, count in zip(LATENCY_BUCKETS_MS, counters.latency_buckets, strict=True)
    ]
    family(
        "task_latency_milliseconds",
        "histogram",
        "Time from enqueue to done, ms.",
        [],
    )
    name = f"{prefix}_task_latency_milliseconds"
    lines.extend(f"{name}_bucket{labels} {_number(value)}" for labels, value in buckets)
    lines.append(f'{name}_bucket{{le="+Inf"}} {counters.done}')
    lines.append(f"{name}_sum {_number(counters.latency_sum_ms)}")
    lines.append(f"{name}_count {counters.done}")
    return "\n".join(lines) + "\n"
