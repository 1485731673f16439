"""``workload.svg``: work done over time, one line per candidate (matplotlib, Agg).

The SVG is deterministic for a given matplotlib (no date, a fixed hash salt for its ids),
and carries the SHA-256 of the ``workload.json`` it was drawn from in its metadata
(``dc:identifier``), so a test can check the committed plot against the committed data
without comparing bytes across matplotlib versions. Each candidate's line is the SVG group
``series-<candidate as a file name>``.
"""

from __future__ import annotations

import io
from typing import Any

from idlespec.conformance.api import file_stem

#: The id of the SVG group that holds a candidate's line.
SERIES_PREFIX = "series-"


def series_id(candidate: str) -> str:
    """The SVG id of ``candidate``'s line."""
    return SERIES_PREFIX + file_stem(candidate)


def draw(data: dict[str, Any], digest: str) -> bytes:
    """The plot of ``data`` as SVG bytes, with ``digest`` in its metadata."""
    import matplotlib  # noqa: PLC0415 - only drawing needs it (the `plot` extra)
    from matplotlib.figure import Figure  # noqa: PLC0415

    rows = data["candidates"]
    colors = [matplotlib.colormaps["tab20"](i / 20) for i in range(20)]
    styles = {"Python": "-", "JavaScript": "--"}
    with matplotlib.rc_context({"svg.hashsalt": "idlespec-workload", "svg.fonttype": "none"}):
        figure = Figure(figsize=(10, 6))
        axes = figure.subplots()
        for index, row in enumerate(rows):
            points = row["progress"]
            axes.step(
                [p[0] for p in points],
                [p[1] for p in points],
                where="post",
                color=colors[index % len(colors)],
                linestyle=styles.get(row["language"], "-"),
                linewidth=1.5,
                label=f"{row['candidate']} ({row['language']})",
                gid=series_id(row["candidate"]),
            )
        # A log axis: the slowest candidate takes ten times as long as the others.
        axes.set_xscale("log")
        axes.set_xlabel("virtual time since the tasks were queued (ms, log scale)")
        axes.set_ylabel("units of work done (completed tasks)")
        axes.set_title("Work done over time on a 60 Hz page, through each rIC implementation")
        axes.grid(True, which="both", linewidth=0.3)
        axes.legend(fontsize="small", loc="upper left")
        # Fixed margins rather than tight_layout, which measures every label (slow).
        figure.subplots_adjust(left=0.08, right=0.98, bottom=0.09, top=0.94)
        out = io.BytesIO()
        figure.savefig(
            out,
            format="svg",
            metadata={
                "Date": None,
                "Title": "idlespec workload report: work done over time",
                "Identifier": f"sha256:{digest}",
            },
        )
    return out.getvalue()
