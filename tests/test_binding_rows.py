"""Binding rows: the checks JS hosts answer, their predicate, and who cannot answer them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from idlespec.conformance.candidates import ReferenceCandidate, resolve_candidate
from idlespec.conformance.expect import check
from idlespec.conformance.rows import BINDING_CHECKS, CASES_DIR, TableError, load_rows, load_table
from idlespec.conformance.runner import run_rows
from idlespec.conformance.trace import Trace
from idlespec.conformance.verdicts import Verdict

CHECKS_JS = CASES_DIR.parent / "browsers" / "page" / "binding_checks.js"
BINDING_ROWS = [row for row in load_rows() if row.area == "binding"]


def _node() -> str:
    from idlespec.conformance.node.bridge import find_node

    node = find_node()
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is not installed: .ci/run must install it")
        pytest.skip("node is not installed")
    return str(node)


@pytest.mark.engines
def test_the_js_checks_are_the_ones_python_names() -> None:
    script = f"console.log(JSON.stringify(require({json.dumps(str(CHECKS_JS))}).names))"
    names = json.loads(subprocess.check_output([_node(), "-e", script], text=True))
    assert names == list(BINDING_CHECKS)


def test_every_check_is_used_by_a_row() -> None:
    used = {step for row in BINDING_ROWS for step in _checks(row.steps)}
    assert used == set(BINDING_CHECKS)


def _checks(steps: object) -> list[str]:
    found: list[str] = []
    for step in steps:  # type: ignore[attr-defined]
        if "binding" in step:
            found.append(step["binding"])
        found += _checks(step.get("body", ()))
    return found


@pytest.mark.parametrize(
    ("observed", "problem"),
    [
        ({"requestIdleCallback-length": 1}, None),
        ({"requestIdleCallback-length": 1.0}, None),
        ({"requestIdleCallback-length": 2}, "expected requestIdleCallback-length 1, observed 2"),
        ({"requestIdleCallback-length": True}, "observed True"),
        ({"requestIdleCallback-length": "1"}, "observed '1'"),
        ({}, "requestIdleCallback-length was never checked"),
    ],
)
def test_the_predicate_compares_js_values_exactly(
    observed: dict[str, object], problem: str | None
) -> None:
    problems = check({"binding": {"requestIdleCallback-length": 1}}, Trace(binding=observed), 0.001)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


def test_true_is_not_one() -> None:
    trace = Trace(binding={"deadline-instanceof-IdleDeadline": 1})
    assert check({"binding": {"deadline-instanceof-IdleDeadline": True}}, trace, 0.001)


def test_python_candidates_cannot_answer_binding_rows() -> None:
    results = run_rows(BINDING_ROWS, ReferenceCandidate(), {})
    assert {r.verdict for r in results} == {Verdict.UNSUPPORTED}
    assert all("need a JS realm" in str(r.outcome.unsupported) for r in results)


@pytest.mark.parametrize(
    ("steps", "expect", "message"),
    [
        ('[{ binding = "typeof-rIC" }]', "", "unknown check 'typeof-rIC'"),
        (
            '[{ binding = "deadline-class-string" }]',
            "",
            "'deadline-class-string' belongs in the body of an idle callback",
        ),
        (
            '[{ binding = "IdleDeadline-typeof" }]',
            'binding = { "IdleDeadline-call" = "throws TypeError" }',
            "no binding step of this row checks 'IdleDeadline-call'",
        ),
    ],
)
def test_the_loader_names_a_bad_binding_step(
    tmp_path: Path, steps: str, expect: str, message: str
) -> None:
    table = tmp_path / "binding.toml"
    table.write_text(
        '[[row]]\nid = "binding-x"\ndescription = "A binding row with a mistake in it."\n'
        'spec = "#window_extensions"\nlevel = "must"\narea = "binding"\ntags = ["binding"]\n'
        f'covers = ["R-01"]\nsteps = {steps}\n[row.expect]\n'
        + (expect or 'binding = { "IdleDeadline-typeof" = "function" }')
        + "\n"
    )
    with pytest.raises(TableError) as caught:
        load_table(table)
    assert message in str(caught.value)
    assert "binding-x" in str(caught.value)


@pytest.mark.engines
def test_a_js_binding_is_judged_on_its_shape() -> None:
    """The classic fallback has no IdleDeadline; the project's polyfill builds one."""
    _node()
    by_row = {}
    for name in ("js-settimeout-shim", "js-polyfill"):
        for result in run_rows(BINDING_ROWS, resolve_candidate(name), {}):
            by_row[(name, result.row.id)] = result
    classic = by_row[("js-settimeout-shim", "binding-idle-deadline-interface-object")]
    assert classic.verdict is Verdict.FAIL
    assert "IdleDeadline-typeof 'function', observed 'undefined'" in classic.outcome.mismatches[0]
    polyfill = [r for (name, _), r in by_row.items() if name == "js-polyfill"]
    assert [r.row.id for r in polyfill if r.verdict is not Verdict.PASS] == []
