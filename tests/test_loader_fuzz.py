"""The table loader, fuzzed: any input gives rows or a TableError naming the file (and the row
and field where it can), never another exception."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idlespec.conformance.rows import TableError, load_rows, load_table, rows_by_id

GOOD = {
    "id": "fifo-fuzzed",
    "description": "A fuzzed row.",
    "spec": "#invoke-idle-callbacks-algorithm step 3",
    "level": "must",
    "area": "fifo",
    "tags": ["ordering"],
    "covers": ["R-12"],
    "steps": [{"post": "a"}, {"post": "b", "body": [{"sample": "s"}]}],
    "expect": {"order": ["a", "b"], "remaining_max": {"b.s": 50}},
}


def toml_value(value: Any) -> str:
    """A TOML inline value (the tables use the same forms)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return (
        "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    )


def table(rows: list[dict[str, Any]]) -> str:
    return "".join(
        "[[row]]\n" + "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in row.items())
        for row in rows
    )


scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70).filter(lambda n: abs(n) < 2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)
FIELDS = [*GOOD, "later", "run_until", "budget_ms", "tolerance", "source", "extra"]


@st.composite
def mutated_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    row = json.loads(json.dumps(GOOD))
    for _ in range(draw(st.integers(1, 3))):
        what = draw(st.sampled_from(["set", "drop", "step", "expect", "nest"]))
        field = draw(st.sampled_from(FIELDS))
        if what == "set":
            row[field] = draw(values)
        elif what == "drop":
            row.pop(field, None)
        elif what == "step":
            action = draw(st.sampled_from(["post", "nope", "cancel", "repost", "sample", "busy"]))
            row["steps"] = [*row.get("steps", []), {action: draw(values)}]
        elif what == "expect":
            key = draw(st.sampled_from(["order", "handles", "time", "nope", "count", "any_of"]))
            row["expect"] = {
                **(row.get("expect") if isinstance(row.get("expect"), dict) else {}),
                key: draw(values),
            }
        else:
            deep: Any = {"post": "z"}
            for _ in range(draw(st.integers(5, 40))):
                deep = {"post": "z", "body": [deep]}
            row["steps"] = [deep]
    rows = [row]
    if draw(st.booleans()):
        rows.append(dict(row))  # a duplicate id
    return rows


def _load(tmp: Path, text: str) -> None:
    path = tmp / "fifo.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_table(path)
    except TableError as error:
        assert str(path) in str(error), error
        assert "\n" not in str(error).strip() or "TOML" in str(error), error


SHIPPED = rows_by_id(load_rows())

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(rows=mutated_rows())
def test_mutated_rows_give_rows_or_a_table_error(
    tmp_path_factory: Any, rows: list[dict[str, Any]]
) -> None:
    _load(tmp_path_factory.mktemp("t"), table(rows))


@FUZZ
@given(
    text=st.text(
        alphabet=st.sampled_from(list("[]{}\"=.,# \nrowidstep123posta-_\\'")), max_size=200
    )
)
def test_malformed_toml_gives_a_table_error(tmp_path_factory: Any, text: str) -> None:
    _load(tmp_path_factory.mktemp("t"), text)


def test_the_good_row_loads(tmp_path: Path) -> None:
    path = tmp_path / "fifo.toml"
    path.write_text(table([GOOD]), encoding="utf-8")
    assert [r.id for r in load_table(path)] == ["fifo-fuzzed"]


@FUZZ
@given(
    table=st.dictionaries(
        st.sampled_from(["known-failures", "extra", "fifo-callbacks-run-in-posting-order"]),
        values,
        max_size=3,
    ),
    junk=st.text(alphabet=st.sampled_from(list('[]{}"=.# \nknown-failures\\')), max_size=80),
)
def test_expectation_files_give_reasons_or_a_table_error(
    tmp_path_factory: Any, table: dict[str, Any], junk: str
) -> None:
    from idlespec.conformance.verdicts import load_known_failures

    rows = SHIPPED
    for text in ("".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in table.items()), junk):
        folder = tmp_path_factory.mktemp("x")
        (folder / "cand.toml").write_text(text, encoding="utf-8")
        try:
            known = load_known_failures("cand", rows, folder)
        except TableError as error:
            assert "cand.toml" in str(error)
        else:
            assert all(isinstance(v, str) and v.strip() for v in known.values())
