"""``idlespec run --refresh`` reruns only the rows whose definition changed.

Engine runs take many minutes, so a changed row must not cost a whole rerun; but a result is
only kept if it was made under the row as it reads today, by the same candidate version.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from idlespec.conformance.cli import main
from idlespec.conformance.rows import CASES_DIR, load_rows

RUN = ["run", "-c", "reference", "--area", "fifo", "--progress", "never"]


def _results(out: Path) -> tuple[dict[str, object], list[dict[str, object]]]:
    lines = [
        json.loads(line) for line in (out / "raw" / "reference.jsonl").read_text().splitlines()
    ]
    return lines[0], [r for r in lines if r["type"] == "result"]


def _copy_cases(tmp_path: Path) -> Path:
    cases = tmp_path / "cases"
    shutil.copytree(CASES_DIR, cases)
    return cases


def test_every_result_names_the_revision_of_its_row(tmp_path: Path) -> None:
    assert main([*RUN, "--out", str(tmp_path)], stdout=io.StringIO()) == 0
    revisions = {row.id: row.revision for row in load_rows()}
    _, results = _results(tmp_path)
    assert results and all(r["row_revision"] == revisions[r["row"]] for r in results)


def test_only_a_changed_row_runs_again(tmp_path: Path) -> None:
    cases = _copy_cases(tmp_path)
    out = tmp_path / "out"
    assert main([*RUN, "--cases", str(cases), "--out", str(out)], stdout=io.StringIO()) == 0
    _, before = _results(out)
    table = cases / "fifo.toml"
    changed = before[0]["row"]
    text = table.read_text()
    marker = f'id = "{changed}"\n'
    assert marker in text
    table.write_text(text.replace(marker, marker + "tolerance = 0.002\n", 1))
    err = io.StringIO()
    summary = io.StringIO()
    status = main([*RUN, "--cases", str(cases), "--out", str(out), "--refresh"], summary, err)
    assert status == 0
    assert f"{len(before) - 1} of {len(before)} rows unchanged" in err.getvalue()
    header, after = _results(out)
    assert header["carried"]["rows"] == len(before) - 1
    assert header["carried"]["from_suite_revision"] != header["suite_revision"]
    assert [r["row"] for r in after] == [r["row"] for r in before[1:]] + [changed]
    assert after[-1]["row_revision"] != before[0]["row_revision"]
    assert (
        "carried over from earlier runs (the first under suite revision"
        in (out / "summary.md").read_text()
    )


def test_rewording_a_row_keeps_its_revision(tmp_path: Path) -> None:
    cases = _copy_cases(tmp_path)
    before = {row.id: row.revision for row in load_rows([cases / "fifo.toml"])}
    table = cases / "fifo.toml"
    table.write_text(table.read_text().replace('description = "', 'description = "Reworded. '))
    after = {row.id: row for row in load_rows([table])}
    assert all(after[i].description.startswith("Reworded. ") for i in before)
    assert {i: row.revision for i, row in after.items()} == before


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("version", "0.0.0-older", "version 0.0.0-older: rerunning every row of reference"),
        # A polyfill in a browser keeps the browser's version: its own is in the provenance.
        ("provenance", "an older build", "made from 'an older build'"),
    ],
)
def test_another_candidate_build_reruns_everything(
    tmp_path: Path, field: str, value: str, said: str
) -> None:
    assert main([*RUN, "--out", str(tmp_path)], stdout=io.StringIO()) == 0
    raw = tmp_path / "raw" / "reference.jsonl"
    lines = raw.read_text().splitlines()
    header = json.loads(lines[0])
    header["candidate"][field] = value
    raw.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    err = io.StringIO()
    assert main([*RUN, "--out", str(tmp_path), "--refresh"], io.StringIO(), err) == 0
    assert said in err.getvalue()
    assert "carried" not in _results(tmp_path)[0]


def test_refresh_and_resume_do_not_combine(tmp_path: Path) -> None:
    err = io.StringIO()
    argv = [*RUN, "--out", str(tmp_path), "--refresh", "--resume"]
    assert main(argv, io.StringIO(), err) == 2
    assert "cannot be combined" in err.getvalue()
