"""The committed mutation results are current, complete and honest (mutation/, tox -e mutation).

The run itself takes many minutes, so it is not part of the tests: these check that its
committed results were made from today's reference, that every survivor is explained, and
that every mutant the equivalent list names is still one cosmic-ray generates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

MUTATION = Path(__file__).resolve().parents[1] / "mutation"
sys.path.insert(0, str(MUTATION))

import mutants  # noqa: E402


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(mutants.RESULTS.read_text(encoding="utf-8"))
    return loaded


def test_the_results_were_made_from_todays_reference(results: dict[str, Any]) -> None:
    assert results["modules"] == mutants.mutated_modules()
    assert results["sources"] == mutants.sources_digest(mutants.mutated_modules()), (
        "reference/ changed since the mutation run: run `tox -e mutation` and commit "
        "mutation/results.json"
    )


def test_every_survivor_is_listed_as_equivalent_and_nothing_else_is(
    results: dict[str, Any],
) -> None:
    listed = {mutants.entry_key(entry) for entry in mutants.equivalent_entries()}
    survivors = {
        (record["module"], record["operator"], record["before"], record["after"])
        for record in results["survivors"]
    }
    assert results["unexplained_survivors"] == 0
    assert all(record["equivalent"] for record in results["survivors"])
    assert survivors == listed
    assert results["listed_but_killed"] == []
    assert results["listed_but_not_generated"] == []
    assert results["errors"] == 0


def test_the_counts_add_up(results: dict[str, Any]) -> None:
    outcomes = [record["outcome"] for record in results["mutants"]]
    assert len(outcomes) == results["generated"]
    assert outcomes.count("skipped") == results["skipped_annotations"]
    assert outcomes.count("killed") == results["killed"]
    assert outcomes.count("survived") == results["equivalent"] + results["unexplained_survivors"]
    non_equivalent = results["killed"] + results["unexplained_survivors"] + results["errors"]
    assert results["score"] == round(results["killed"] / non_equivalent, 4)
    # Every killed mutant says which row (or which failure of the reference) killed it.
    assert all(
        record["by"].startswith(("killed by ", "killed: ", "timeout"))
        for record in results["mutants"]
        if record["outcome"] == "killed"
    )


def test_every_listed_equivalent_is_a_mutant_the_tool_generates(results: dict[str, Any]) -> None:
    # Every listed mutant survived in the committed run (the test above), and the run was
    # made from today's reference. What is left to show is that cosmic-ray, as installed,
    # still generates each one: an occurrence of its operator at the recorded place, on the
    # recorded line. Rebuilding a mutant's text parses the whole module, so the full text is
    # checked for a tenth of them; the place and line for all.
    for index, record in enumerate(results["survivors"]):
        places = mutants.positions(record["module"], record["operator"])
        assert record["occurrence"] < len(places), record
        line, _ = places[record["occurrence"]]
        assert line == record["line"] or record["before"].startswith("\n"), record
        if index % 10 == 0:
            mutant = mutants.describe(record["module"], record["operator"], record["occurrence"])
            assert (mutant.before, mutant.after) == (record["before"], record["after"]), record
    for entry in mutants.equivalent_entries():
        reason = entry["reason"]
        assert reason.strip() and "\n" not in reason, entry


def test_skipped_mutants_are_all_inside_annotations(results: dict[str, Any]) -> None:
    # The one kind the run skips: a spot check that the skip is not hiding live code.
    skipped = [r for r in results["mutants"] if r["outcome"] == "skipped"]
    assert skipped
    for record in skipped[:: max(1, len(skipped) // 25)]:
        position = mutants.positions(record["module"], record["operator"])[record["occurrence"]]
        assert mutants.in_annotation(record["module"], position), record


def test_find_tells_a_generated_mutant_from_one_that_is_not() -> None:
    mutant = mutants.describe("reference/clock.py", "core/NumberReplacer", 0)
    entry = {
        "module": mutant.module,
        "operator": mutant.operator,
        "before": mutant.before,
        "after": mutant.after,
    }
    assert mutants.find(entry) == mutant
    assert mutants.find({**entry, "after": mutant.after + " + 1"}) is None
