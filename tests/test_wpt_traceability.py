"""The WPT traceability table is generated from the rows and is current."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from idlespec.conformance.cli import main
from idlespec.conformance.rows import TableError, load_rows, load_table
from idlespec.conformance.wpt import COVERAGE_PATH, load_assertions, status


def test_the_committed_table_is_the_generated_one() -> None:
    out = io.StringIO()
    assert main(["list", "wpt"], stdout=out) == 0
    assert COVERAGE_PATH.read_text(encoding="utf-8") == out.getvalue(), (
        "conformance/wpt/coverage.md is stale: idlespec list wpt > conformance/wpt/coverage.md"
    )


def test_every_named_assertion_exists_and_every_file_is_counted() -> None:
    assertions = load_assertions()
    rows = load_rows()
    named = {a for row in rows for a in (*row.wpt, *row.wpt_adapted)}
    assert named <= set(assertions)
    for assertion in assertions.values():
        state, _ = status(assertion, rows)
        if state == "N":
            assert assertion.inexpressible or assertion.note, (
                f"{assertion.id}: no row checks it, and the catalogue does not say why"
            )


def test_a_ref_row_alone_does_not_count_as_covered() -> None:
    assertion = next(iter(load_assertions().values()))
    ref_rows = [row for row in load_rows() if row.level == "ref"][:1]
    fake = [dataclasses.replace(ref_rows[0], wpt=(assertion.id,))]
    state, _ = status(assertion, fake)
    assert state in ("R", "H")


def test_an_unknown_assertion_is_a_table_error(tmp_path: Path) -> None:
    table = tmp_path / "fifo.toml"
    table.write_text(
        '[[row]]\nid = "fifo-x"\ndescription = "A row naming a WPT assertion that is not there."\n'
        'spec = "#invoke-idle-callbacks-algorithm"\nlevel = "must"\narea = "fifo"\n'
        'tags = ["fifo"]\ncovers = ["R-06"]\nwpt = ["basic.html#999"]\n'
        'steps = [{ post = "a" }]\n[row.expect]\ninvoked_once = ["a"]\n'
    )
    with pytest.raises(TableError) as caught:
        load_table(table)
    assert "fifo-x" in str(caught.value) and "unknown WPT assertion 'basic.html#999'" in str(
        caught.value
    )
