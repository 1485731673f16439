"""The workload report: its measures, its text, its plot, its command, and that the committed
report is current (each candidate's row is recomputed in tests/test_taskqueue_candidates.py).

The plot tests need matplotlib (the ``plot`` extra): without it they fail, they do not skip.
"""

from __future__ import annotations

import copy
import json
import runpy
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from idlespec.conformance.api import file_stem
from idlespec.conformance.candidates import ReferenceCandidate
from idlespec.taskqueue.animated_page import (
    AnimatedPage,
    FrameRecord,
    InputRecord,
    PageConfig,
    input_arrivals,
)
from idlespec.taskqueue.hosts import HostedCandidate, builtin_hosting
from idlespec.taskqueue.plot import series_id
from idlespec.taskqueue.report import conclusion, markdown
from idlespec.taskqueue.workload import (
    REPORT_DIR,
    Workload,
    digest,
    encode,
    main,
    plan,
    run_baseline,
    write_atomically,
    write_report,
)

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / REPORT_DIR
SVG = "{http://www.w3.org/2000/svg}"


def committed_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((COMMITTED / "workload.json").read_text(encoding="utf-8"))
    return data


# The committed report is current ---------------------------------------------------------


def test_the_committed_data_has_every_hostable_candidate_and_a_current_baseline() -> None:
    data = committed_data()
    hostable, excluded = builtin_hosting()
    workload = Workload()
    drawn = plan(workload)
    assert [row["candidate"] for row in data["candidates"]] == list(hostable)
    assert data["excluded"] == excluded
    assert data["workload"] == json.loads(json.dumps(workload.to_json()))
    assert data["plan"] == {
        "tasks": len(drawn.units),
        "units": sum(drawn.units),
        "work_ms": round(sum(drawn.units) * workload.unit_ms, 3),
        "failing_first_attempt": len(drawn.failing),
    }
    assert 100 <= data["plan"]["tasks"] <= 200
    assert data["baseline"] == run_baseline()
    assert (COMMITTED / "workload.json").read_bytes() == encode(data)  # canonical bytes


def test_the_page_alone_never_janks_so_every_janked_frame_is_idle_works() -> None:
    baseline = committed_data()["baseline"]
    assert baseline["janked"] == 0
    assert baseline["vsyncs"] == 120
    config = PageConfig()
    assert baseline["input_delay_worst_ms"] <= config.frame_work_ms + config.input_work_ms


def test_the_committed_markdown_is_rendered_from_the_committed_data() -> None:
    text = (COMMITTED / "workload.md").read_text(encoding="utf-8")
    assert text == markdown(committed_data())
    assert "| `reference` 0.1.0 | Python, native |" in text
    assert "`npm:lolex@6.0.0`: self-hosted" in text


def test_the_committed_plot_is_drawn_from_the_committed_data() -> None:
    """Not compared byte for byte (matplotlib versions differ): its metadata names the
    data's digest, and it has one line per candidate."""
    data = committed_data()
    tree = ET.parse(COMMITTED / "workload.svg")
    identifier = tree.find(".//{http://purl.org/dc/elements/1.1/}identifier")
    assert identifier is not None
    assert identifier.text == f"sha256:{digest((COMMITTED / 'workload.json').read_bytes())}"
    groups = {
        g.get("id"): g for g in tree.iter(f"{SVG}g") if (g.get("id") or "").startswith("series-")
    }
    assert list(groups) == [series_id(row["candidate"]) for row in data["candidates"]]
    for row in data["candidates"]:
        (path,) = groups[series_id(row["candidate"])].iter(f"{SVG}path")
        # A step line has two points per completion.
        assert path.get("d", "").count("L") >= len(row["progress"])


# The report command ----------------------------------------------------------------------


def test_the_report_command_writes_the_three_files_and_the_same_bytes_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    monkeypatch.setattr(sys, "argv", ["workload", "--out", str(out), "-c", "reference"])
    # As `python -m` runs it: a fresh module named __main__ (the imported one is put back).
    monkeypatch.delitem(sys.modules, "idlespec.taskqueue.workload")
    with pytest.raises(SystemExit) as stop:
        runpy.run_module("idlespec.taskqueue.workload", run_name="__main__")
    assert stop.value.code == 0
    names = ("workload.json", "workload.md", "workload.svg")
    written = {name: (out / name).read_bytes() for name in names}
    assert sorted(p.name for p in out.iterdir()) == sorted(names)  # no temporary file left
    printed = capsys.readouterr().out
    assert "reference: " in printed
    assert "wrote " in printed
    data = json.loads(written["workload.json"])
    (row,) = data["candidates"]
    assert row == next(r for r in committed_data()["candidates"] if r["candidate"] == "reference")
    assert f"sha256:{digest(written['workload.json'])}".encode() in written["workload.svg"]
    assert f'id="{series_id("reference")}"'.encode() in written["workload.svg"]
    # Writing the same data again gives the same bytes, the plot's included.
    write_report(data, tmp_path / "again")
    assert {name: (tmp_path / "again" / name).read_bytes() for name in names} == written


def test_the_report_command_refuses_a_candidate_it_cannot_host(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["-c", "npm:lolex@6.0.0", "-c", "nope"])
    assert stop.value.code == 2
    assert "not a hostable built-in candidate: npm:lolex@6.0.0, nope" in capsys.readouterr().err


def test_files_are_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "file.json"
    target.write_bytes(b"old")
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["file.json"]


# The page's measures ---------------------------------------------------------------------


def test_inputs_arrive_once_in_each_window_at_seeded_points() -> None:
    config = PageConfig(input_every_ms=100)
    arrivals = input_arrivals(config, 1000, seed=3)
    assert arrivals == input_arrivals(config, 1000, seed=3)
    assert arrivals != input_arrivals(config, 1000, seed=4)
    assert [int(a // 100) for a in arrivals] == list(range(10))
    assert input_arrivals(config, 950, seed=3) == [a for a in arrivals if a <= 950]
    assert input_arrivals(config, arrivals[-1] - 0.001, seed=3) == arrivals[:-1]


def test_a_vsync_is_janked_when_its_frame_is_dropped_or_ends_after_the_next_vsync() -> None:
    interval = 1000 / 60
    with HostedCandidate(ReferenceCandidate()) as hosted, hosted.page() as page:
        animated = AnimatedPage(page, PageConfig())
    animated.frames = [
        FrameRecord(1 * interval, 1 * interval, 1 * interval + 6),  # on time
        FrameRecord(2 * interval, 2 * interval + 9, 3 * interval + 0.5),  # ends too late
        # vsync 3: dropped
        FrameRecord(4 * interval, 4 * interval + 10, 4 * interval + 16),  # late, in budget
    ]
    assert animated.janked_vsyncs(4 * interval) == (4, 2)
    assert animated.janked_vsyncs(4 * interval - 0.1) == (3, 2)
    animated.inputs = [InputRecord(10.0, 12.5), InputRecord(50.0, 50.0), InputRecord(70.0)]
    assert animated.input_delays(60.0) == [2.5, 0.0]


def test_the_page_alone_animates_every_vsync_and_handles_every_input() -> None:
    workload = Workload()
    baseline = run_baseline(workload)
    assert baseline["vsyncs"] == 120
    assert baseline["janked"] == 0
    assert baseline["inputs"] == 20


# The conclusion is written from the numbers ----------------------------------------------


def _row(name: str, **values: Any) -> dict[str, Any]:
    row = {
        "candidate": name,
        "version": "1",
        "kind": "userland",
        "language": "Python",
        "finished_ms": 1000.0,
        "vsyncs": 60,
        "janked": 0,
        "inputs": 10,
        "input_delay_worst_ms": 10.0,
        "input_delay_median_ms": 5.0,
        "idle_callbacks": 50,
        "rescued": 0,
        "units_per_idle_period": 200.0,
        "longest_slice_ms": 15.0,
        "tasks": 100,
        "never_ran": 0,
        "ran_twice": 0,
        "retried": 5,
        "dead": 0,
        "progress": [[10.0, 100]],
    }
    row.update(values)
    return row


def _data(*rows: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(committed_data())
    data["candidates"] = list(rows)
    return data


def test_the_conclusion_follows_the_numbers() -> None:
    smooth = _row("calm", finished_ms=1000.0)
    quick = _row("quick", finished_ms=600.0, janked=30, vsyncs=36, longest_slice_ms=50.0)
    slow = _row("slow", finished_ms=9000.0, units_per_idle_period=20.0)
    text = "\n".join(conclusion(_data(smooth, quick, slow)))
    assert "**Nothing lost, nothing doubled.**" in text
    assert (
        "**No janked frame** on `calm`, `slow` (the page alone: 0 of 120 vsyncs (0 %) janked)."
        in text
    )
    assert "`quick` 30 of 36 vsyncs (83 %), slices up to 50 ms" in text
    assert "the fastest, `quick`, finished 40 % sooner and janked 30 of 36 vsyncs (83 %))" in text
    assert "One attempt per idle callback" not in text
    assert "**Slowest**: `slow` took 9000 ms, 15.0 times the fastest" in text
    assert "(the others took, relative to it: `slow` 9.00x)" in text
    assert "rescue timer never had to run a slice" in text


def test_the_conclusion_says_what_went_wrong() -> None:
    lost = _row("lost", never_ran=3, finished_ms=None, rescued=4)
    doubled = _row("doubled", ran_twice=1, janked=2, input_delay_worst_ms=99.0)
    text = "\n".join(conclusion(_data(lost, doubled)))
    assert (
        "**Tasks lost or doubled** on 2 candidate(s): `lost`: 3 never ran, 0 ran twice; `doubled`: 0 never ran, 1 ran twice."
        in text
    )
    assert "Finishing sooner" not in text  # nothing both smooth and finished to compare
    assert "the worst is `doubled`, 99 ms" in text
    assert (
        "**The queue's rescue timer ran slices** (no idle callback came in time) on `lost` (4)."
        in text
    )
    assert "What to conclude" not in text
    nobody = "\n".join(conclusion(_data(lost)))
    assert "Slowest" not in nobody


def test_the_conclusion_without_a_smooth_candidate_or_a_vsync() -> None:
    only = _row("only", janked=1, vsyncs=1, idle_callbacks=105)
    text = "\n".join(conclusion(_data(only, _row("zero", janked=0, vsyncs=0, finished_ms=None))))
    assert "`only` 1 of 1 vsyncs (100 %)" in text
    assert "**One attempt per idle callback** on `only`: as many slices as attempts" in text
    assert "No janked frame" in text
    assert "What to conclude" not in text
    assert "0/0" in markdown(_data(_row("zero", vsyncs=0)))
    alone = "\n".join(conclusion(_data(_row("fast", janked=5))))
    assert "No janked frame" not in alone
    assert "without jank" not in alone
    single = "\n".join(conclusion(_data(_row("solo"))))
    assert "`solo` finished first." in single


def test_the_markdown_lists_no_exclusions_when_there_are_none() -> None:
    data = _data(_row("a"))
    data["excluded"] = {}
    assert "## Not run" not in markdown(data)
    assert file_stem("a") in markdown(data)
