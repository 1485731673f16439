"""The row loader: valid tables load; every kind of bad table names file, row and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from idlespec.conformance.rows import (
    AREAS,
    TableError,
    load_rows,
    load_table,
    table_files,
)

GOOD = """
[[row]]
id = "fifo-example"
description = "Two callbacks run in posting order."
spec = "#invoke-idle-callbacks-algorithm step 3.1"
level = "must"
area = "fifo"
tags = ["ordering"]
covers = ["R-12"]
steps = [{ post = "a", body = [{ sample = "s" }] }, { post = "b" }, { cancel = "b", id = "c1" }]
later = [{ at = 5, steps = [{ timer = "t", delay = 1 }] }]
[row.expect]
order = ["a"]
remaining = { "a.s" = 50 }
sync_error = { c1 = "none" }
"""


def write(tmp_path: Path, text: str, name: str = "fifo.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_table_loads(tmp_path: Path) -> None:
    (row,) = load_table(write(tmp_path, GOOD))
    assert row.id == "fifo-example"
    assert row.anchor == "#invoke-idle-callbacks-algorithm"
    assert row.actions == {"post", "sample", "cancel", "timer"}
    assert [s.get("post") for s in row.steps if "post" in s] == ["a", "b"]
    exported = row.to_json()
    assert exported["later"][0]["at"] == 5
    assert exported["tolerance"] == 0.001


@pytest.mark.parametrize(
    ("old", "new", "row", "field", "message"),
    [
        ('level = "must"', 'level = "may"', "fifo-example", "level", "'may' is not one of"),
        ('id = "fifo-example"', 'id = "Fifo Example"', "Fifo Example", "id", "does not match"),
        ('tags = ["ordering"]\n', "", "fifo-example", "", "'tags' is a required property"),
        (
            '{ post = "b" }',
            '{ post = "b", timer = "x" }',
            "fifo-example",
            "steps[1]",
            "exactly one action",
        ),
        (
            '{ post = "b" }',
            '{ post = "b", delay = 3 }',
            "fifo-example",
            "steps[1]",
            "not a valid 'post' step",
        ),
        ('area = "fifo"', 'area = "idl"', "fifo-example", "area", "does not match the table"),
        (
            "#invoke-idle-callbacks-algorithm step",
            "#no-such-anchor step",
            "fifo-example",
            "spec",
            "unknown anchor",
        ),
        ('covers = ["R-12"]', 'covers = ["R-99"]', "fifo-example", "covers", "unknown requirement"),
        ('order = ["a"]', 'order = ["zz"]', "fifo-example", "expect.order", "names no label"),
        (
            '"a.s" = 50',
            '"a.s" = 50 }\ntime = { "a.s" = 1',
            "fifo-example",
            "expect.time",
            "only fits remaining",
        ),
        (
            '{ cancel = "b", id = "c1" }',
            '{ cancel = "t" }',
            "fifo-example",
            "steps[2]",
            "no post step",
        ),
        (
            '{ post = "b" }',
            '{ post = "b", window = "w9" }',
            "fifo-example",
            "steps[1].window",
            "never opened",
        ),
        ('{ post = "b" }', '{ sample = "x" }', "fifo-example", "steps[1]", "belongs in the body"),
        (
            '{ sample = "s" }',
            '{ repost = "b", times = 2 }',
            "fifo-example",
            "steps[0].body[0]",
            "inside the body of 'a'",
        ),
        ('{ post = "b" }', '{ timer = "a" }', "fifo-example", "steps[1]", "already a 'post' label"),
        ('id = "c1"', 'id = "a"', "fifo-example", "steps[2].id", "already a label"),
    ],
)
def test_bad_rows_are_named(
    tmp_path: Path, old: str, new: str, row: str, field: str, message: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(TableError) as caught:
        load_table(path)
    error = caught.value
    assert (error.file, error.row, error.field) == (str(path), row, field)
    assert message in str(error)
    assert str(error).startswith(f"{path}: row {row!r}: ")


def test_not_toml_and_unknown_area(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="not valid TOML"):
        load_table(write(tmp_path, "[[row]\n"))
    with pytest.raises(TableError, match="unknown area 'misc'"):
        load_table(write(tmp_path, GOOD, "misc.toml"))
    error = TableError(tmp_path / "x.toml", None, "", "boom")
    assert str(error) == f"{tmp_path / 'x.toml'}: (table): boom"


def test_schema_error_without_id_names_the_row_by_position(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('id = "fifo-example"\n', ""))
    with pytest.raises(TableError) as caught:
        load_table(path)
    assert caught.value.row == "#1"


def test_duplicate_ids_across_tables(tmp_path: Path) -> None:
    first = write(tmp_path, GOOD)
    second = write(tmp_path, GOOD.replace('area = "fifo"', 'area = "idl"'), "idl.toml")
    with pytest.raises(TableError, match="duplicate id") as caught:
        load_rows([first, second])
    assert caught.value.file == str(second)


def test_shipped_tables_load_and_are_ordered_by_area() -> None:
    files = table_files()
    assert files, "no tables shipped"
    rows = load_rows()
    assert len({r.id for r in rows}) == len(rows)
    assert [f.stem for f in files] == sorted((f.stem for f in files), key=AREAS.index)


def test_return_outside_a_body_and_grouped_sequence_labels(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="'return' belongs in the body"):
        load_table(write(tmp_path, GOOD.replace('{ post = "b" }', "{ return = 1 }")))
    with pytest.raises(TableError, match="'zz' names no label"):
        load_table(write(tmp_path, GOOD.replace('order = ["a"]', 'sequence = [["a"], ["zz"]]')))


def test_retained_samples_name_an_idle_label(tmp_path: Path) -> None:
    ok = GOOD.replace(
        '{ timer = "t", delay = 1 }',
        '{ timer = "t", delay = 1, body = [{ sample = "late", of = "a" }] }',
    )
    assert load_table(write(tmp_path, ok))
    with pytest.raises(TableError, match="'t' is not an idle callback"):
        load_table(write(tmp_path, ok.replace('of = "a"', 'of = "t"')))
    with pytest.raises(TableError, match="'sample' with 'of' belongs in the body"):
        load_table(write(tmp_path, GOOD.replace('{ post = "b" }', '{ sample = "x", of = "a" }')))


def test_deeply_nested_bodies_load(tmp_path: Path) -> None:
    """Each body is validated once: 40 nested bodies load (the old anyOf schema validated a
    body once per step alternative, so ten levels took seconds and twenty never finished)."""
    body = '{ raf = "f0" }'
    for depth in range(1, 41):
        body = f'{{ raf = "f{depth}", body = [{body}] }}'
    table = tmp_path / "fifo.toml"
    table.write_text(
        '[[row]]\nid = "fifo-deep"\ndescription = "Forty animation frames, each requesting the next."\n'
        'spec = "#invoke-idle-callbacks-algorithm"\nlevel = "must"\narea = "fifo"\n'
        f'tags = ["fifo"]\ncovers = ["R-06"]\nsteps = [{body}, {{ post = "a" }}]\n'
        '[row.expect]\ninvoked_once = ["a"]\n'
    )
    (row,) = load_table(table)
    assert row.actions == {"raf", "post"}
