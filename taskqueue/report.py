"""``workload.md``: the workload report's table and what a reader should conclude.

Everything here is a function of the report's data (``workload.json``): the conclusion is
written from the measured numbers, so it changes when they do.
"""

from __future__ import annotations

from typing import Any

_COMMAND = "python -m idlespec.taskqueue.workload --out reports/workload"


def _ms(value: float | None) -> str:
    return "did not finish" if value is None else f"{value:g}"


def _share(janked: int, vsyncs: int) -> str:
    return f"{janked}/{vsyncs} ({100 * janked / vsyncs:.0f} %)" if vsyncs else "0/0"


def _of(janked: int, vsyncs: int) -> str:
    return f"{janked} of {vsyncs} vsyncs" + (f" ({100 * janked / vsyncs:.0f} %)" if vsyncs else "")


def _names(rows: list[dict[str, Any]]) -> str:
    return ", ".join(f"`{row['candidate']}`" for row in rows)


def table(data: dict[str, Any]) -> list[str]:
    """The table: one row per candidate, the page alone first."""
    base = data["baseline"]
    lines = [
        "| candidate | runs as | finished (ms) | janked vsyncs | input delay worst / median (ms) "
        "| units per idle period | longest slice (ms) | idle callbacks | rescued | never ran "
        "| ran twice |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| *page alone, no idle work ({base['duration_ms']:g} ms)* | | | "
        f"{_share(base['janked'], base['vsyncs'])} | {base['input_delay_worst_ms']:g} / "
        f"{base['input_delay_median_ms']:g} | | | | | | |",
    ]
    for row in data["candidates"]:
        lines.append(
            f"| `{row['candidate']}` {row['version']} | {row['language']}, {row['kind']} "
            f"| {_ms(row['finished_ms'])} | {_share(row['janked'], row['vsyncs'])} "
            f"| {row['input_delay_worst_ms']:g} / {row['input_delay_median_ms']:g} "
            f"| {row['units_per_idle_period']:g} | {row['longest_slice_ms']:g} "
            f"| {row['idle_callbacks']} | {row['rescued']} | {row['never_ran']} "
            f"| {row['ran_twice']} |"
        )
    return lines


def conclusion(data: dict[str, Any]) -> list[str]:
    """What the numbers show, as bullet points (each sentence computed from them)."""
    rows: list[dict[str, Any]] = data["candidates"]
    base = data["baseline"]
    said = []

    broken = [r for r in rows if r["never_ran"] or r["ran_twice"] or r["finished_ms"] is None]
    if broken:
        detail = "; ".join(
            f"`{r['candidate']}`: {r['never_ran']} never ran, {r['ran_twice']} ran twice"
            for r in broken
        )
        said.append(f"**Tasks lost or doubled** on {len(broken)} candidate(s): {detail}.")
    else:
        retried = sorted({r["retried"] for r in rows})
        said.append(
            f"**Nothing lost, nothing doubled.** On every candidate each of the "
            f"{data['plan']['tasks']} tasks ran exactly once to completion, including the "
            f"{data['plan']['failing_first_attempt']} whose first attempt failed (retried "
            f"after backoff: {', '.join(map(str, retried))} retries per run)."
        )

    smooth = [r for r in rows if r["janked"] == 0]
    janky = sorted((r for r in rows if r["janked"]), key=lambda r: -r["janked"] / r["vsyncs"])
    if smooth:
        said.append(
            f"**No janked frame** on {_names(smooth)} (the page alone: "
            f"{_of(base['janked'], base['vsyncs'])} janked)."
        )
    if janky:
        worst = "; ".join(
            f"`{r['candidate']}` {_of(r['janked'], r['vsyncs'])}, slices up to "
            f"{r['longest_slice_ms']:g} ms"
            for r in janky
        )
        said.append(f"**Janked frames**: {worst}.")
    single = [r for r in rows if r["idle_callbacks"] + r["rescued"] == r["tasks"] + r["retried"]]
    if single:
        said.append(
            f"**One attempt per idle callback** on {_names(single)}: as many slices as "
            "attempts, so no deadline there ever allowed a second task after the one a slice "
            "always starts."
        )

    finishers = sorted(
        (r for r in rows if r["finished_ms"] is not None), key=lambda r: r["finished_ms"]
    )
    smooth_finishers = [r for r in finishers if r["janked"] == 0]
    if smooth_finishers and finishers[0]["janked"]:
        calm, first = smooth_finishers[0], finishers[0]
        said.append(
            f"**Finishing sooner costs frames.** The fastest without jank, "
            f"`{calm['candidate']}`, finished in {calm['finished_ms']:g} ms; every candidate "
            f"that finished sooner janked (the fastest, `{first['candidate']}`, finished "
            f"{100 * (1 - first['finished_ms'] / calm['finished_ms']):.0f} % sooner and janked "
            f"{_of(first['janked'], first['vsyncs'])})."
        )
    if finishers:
        slowest = finishers[-1]
        said.append(
            f"**Slowest**: `{slowest['candidate']}` took {slowest['finished_ms']:g} ms, "
            f"{slowest['finished_ms'] / finishers[0]['finished_ms']:.1f} times the fastest, "
            f"running {slowest['units_per_idle_period']:g} units per idle period "
            f"(`{finishers[0]['candidate']}`: {finishers[0]['units_per_idle_period']:g})."
        )

    worst_input = max(rows, key=lambda r: r["input_delay_worst_ms"])
    line = (
        f"**Input delay**: the page alone delays an input by at most "
        f"{base['input_delay_worst_ms']:g} ms"
    )
    if smooth:
        smooth_worst = max(r["input_delay_worst_ms"] for r in smooth)
        line += f"; the candidates without jank by at most {smooth_worst:g} ms"
    said.append(
        f"{line}; the worst is `{worst_input['candidate']}`, "
        f"{worst_input['input_delay_worst_ms']:g} ms."
    )

    rescued = [r for r in rows if r["rescued"]]
    if rescued:
        said.append(
            "**The queue's rescue timer ran slices** (no idle callback came in time) on "
            + ", ".join(f"`{r['candidate']}` ({r['rescued']})" for r in rescued)
            + "."
        )
    else:
        said.append(
            "The queue's rescue timer never had to run a slice: every candidate called back."
        )
    if smooth_finishers:
        calm = smooth_finishers[0]
        others = ", ".join(
            f"`{r['candidate']}` {r['finished_ms'] / calm['finished_ms']:.2f}x"
            for r in smooth_finishers[1:]
        )
        said.append(
            f"**What to conclude**: only {_names(smooth_finishers)} ran this work without costing "
            f"the page a frame; of them `{calm['candidate']}` finished first"
            + (f" (the others took, relative to it: {others})" if others else "")
            + ". Whatever finished sooner did it with the page's frames and input."
        )
    return [f"- {sentence}" for sentence in said]


def markdown(data: dict[str, Any]) -> str:
    """The whole of ``workload.md``."""
    workload, drawn = data["workload"], data["plan"]
    page = workload["page"]
    lines = [
        "# What background work through each rIC implementation costs a page",
        "",
        f"Regenerate with `{_COMMAND}` (virtual time: the same bytes on every run). The data "
        "is [`workload.json`](workload.json); the code is `idlespec.taskqueue.workload`.",
        "",
        f"**The workload** (seed {workload['seed']}): {drawn['tasks']} tasks of "
        f"{workload['units'][0]} to {workload['units'][1]} units ({drawn['units']} units, "
        f"{workload['unit_ms']:g} ms each: {drawn['work_ms']:g} ms of work), queued at once "
        f"on an `IdleTaskQueue` (timeout {workload['timeout_ms']:g} ms, retries after "
        f"{workload['backoff_base_ms']:g} ms doubling); {drawn['failing_first_attempt']} tasks "
        "fail their first attempt half-way. **The page**: a "
        f"{page['refresh_rate']:g} Hz animation loop whose frames take "
        f"{page['frame_work_ms']:g} ms, and one input event in every "
        f"{page['input_every_ms']:g} ms (at a seeded point; {page['input_work_ms']:g} ms of "
        "work each, on the user-interaction task source).",
        "",
        "**Janked vsync**: a vsync whose frame was dropped, or whose animation frame callback "
        "ended after the next vsync (counted up to the time the candidate finished). **Input "
        "delay**: from an input's arrival to the start of its task. **Units per idle period**: "
        "units run per slice of the queue (an idle callback that ran tasks). **Rescued**: "
        "slices the queue ran from its own timer because no idle callback came within twice "
        "the timeout. **Never ran / ran twice**: tasks that never completed, or completed "
        "more than once.",
        "",
        *table(data),
        "",
        "![Work done over time, one line per candidate](workload.svg)",
        "",
        "## What the numbers show",
        "",
        *conclusion(data),
    ]
    if data["excluded"]:
        lines += ["", "## Not run", ""]
        lines += [f"- `{name}`: {why}." for name, why in data["excluded"].items()]
    return "\n".join(lines) + "\n"
