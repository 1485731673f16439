"""The property-based generator: invariants hold on the reference, catch every broken
candidate, and shrink into a row the loader accepts."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from broken_candidates import BROKEN

from idlespec.conformance.candidates import ReferenceCandidate, resolve_candidate
from idlespec.conformance.cli import main
from idlespec.conformance.fuzz import Post, Scenario, fuzz, row_toml, violations
from idlespec.conformance.rows import load_table
from idlespec.conformance.runner import run_one
from idlespec.conformance.trace import Call, Trace
from idlespec.conformance.verdicts import Verdict

EXPECTED = {
    "broken-lifo": "fifo",
    "broken-cap60": "deadline",
    "broken-cancel-pending-only": "cancel",
    "broken-ignores-timeout": "prompt",
    "broken-never-timed-out": "prompt",
    "broken-stops-after-exception": "liveness",
}


def test_the_reference_keeps_every_invariant() -> None:
    assert fuzz(ReferenceCandidate(), examples=300).violation is None


# The zoo's first six break an invariant the fuzzer checks; the others break requirements
# its invariants do not state (WebIDL, handles, microtasks, reporting): rows catch them.
@pytest.mark.parametrize(
    "candidate", [c for c in BROKEN if c.name in EXPECTED], ids=lambda c: c.name
)
def test_each_broken_candidate_is_caught_and_shrunk_into_a_row(candidate, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = fuzz(candidate, examples=300)
    assert result.violation is not None and result.violation.invariant == EXPECTED[candidate.name]
    assert result.row is not None
    table = tmp_path / f"{result.row.area}.toml"
    table.write_text(result.row_toml, encoding="utf-8")
    (row,) = load_table(table)
    assert run_one(row, candidate).verdict is Verdict.FAIL
    assert run_one(row, ReferenceCandidate()).verdict is Verdict.PASS
    assert len(row.steps) <= 6  # shrunk (from up to 6 posts, a chain and 2 timers)


def test_cli_fuzz(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert main(["fuzz", "-c", "reference", "--examples", "20"], stdout=out) == 0
    assert re.fullmatch(
        r"no invariant broken in 20 scenarios \([0-9.]+ s of real time, [0-9]+ scenarios/s\)\n",
        out.getvalue(),
    )
    out = io.StringIO()
    assert main(["fuzz", "-c", "settimeout-shim", "--examples", "100"], stdout=out) == 1
    assert "# invariant 'busy' broken" in out.getvalue() and "[[row]]" in out.getvalue()
    assert resolve_candidate("settimeout-shim").name == "settimeout-shim"


def test_invariants_on_hand_made_traces() -> None:
    posts = (
        Post("p0", 10, 0, False, None),
        Post("p1", None, 0, False, None),
        Post("p2", None, 0, False, None),
    )
    scenario = Scenario(posts, 200.0, (), ((5.0, "p1"),))
    trace = Trace(
        calls=[
            Call("chain", "chain", "main", 0, 1),
            Call("task", "cancel-p1", "main", 5, 1),
            Call("idle", "p1", "main", 6, 1, did_timeout=False, remaining=60.0, argc=1),
            Call("idle", "p2", "main", 7, 1, did_timeout=False, remaining=10.0, argc=1),
            Call("idle", "p0", "main", 2, 1, did_timeout=True, remaining=3.0, argc=1),
            Call("idle", "p0", "main", 300, 2, did_timeout=False, remaining=None, argc=1),
            Call("chain-end", "chain-end", "main", 200, 2),
        ],
        quiescent=True,
    )
    found = {v.invariant for v in violations(scenario, trace)}
    assert found == {"once", "cancel", "timeout", "deadline", "busy", "liveness"}


def test_row_toml_quotes_odd_keys() -> None:
    scenario = Scenario((Post("p0", None, 5, True, "c0"),), None, (10,), ())
    row = scenario.row({"remaining": {"p0.s": 1.5}, "did_timeout": {"p0": False}})
    text = row_toml(row)
    assert '"p0.s" = 1.5' in text and "did_timeout = { p0 = false }" in text
    assert '{ post = "p0", body = [{ busy = 5 }, { post = "c0" }, { raise = "from p0" }] }' in text


def test_a_crashing_candidate_and_a_wrong_invariant(monkeypatch: pytest.MonkeyPatch) -> None:
    from idlespec.conformance import fuzz as fuzz_module

    class Crashes:
        name, version, kind = "crashes", "0", "native"

        def install(self, window: object) -> object:
            raise RuntimeError("boom")

    result = fuzz(Crashes(), examples=5)
    assert result.violation is not None and "the run ended in ERROR" in result.violation.message
    monkeypatch.setattr(fuzz_module, "passes_on_reference", lambda row: False)
    with pytest.raises(RuntimeError, match="the invariant is wrong"):
        fuzz(Crashes(), examples=5)


def test_timeouts_that_expire_late_in_a_chain_are_not_held_to_prompt() -> None:
    # p0's timeout expires 50 ms before the chain ends: less than the 100 ms padding bound,
    # so an idle run after the chain is allowed.
    scenario = Scenario((Post("p0", 50, 0, False, None),), 100.0, (), ())
    trace = Trace(
        calls=[
            Call("chain", "chain", "main", 0, 1),
            Call("chain-end", "chain-end", "main", 100, 2),
            Call("idle", "p0", "main", 100, 1, did_timeout=False, remaining=50.0, argc=1),
        ],
        quiescent=True,
    )
    assert violations(scenario, trace) == []
    # A run that did not go quiet is not held to liveness: p1 may still be waiting.
    posts = (*scenario.posts, Post("p1", None, 0, False, None))
    trace.quiescent = False
    assert violations(Scenario(posts, 100.0, (), ()), trace) == []
