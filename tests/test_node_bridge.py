"""The Node bridge: JS candidates judged on the Python host, and what happens when they misbehave."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from engines import require_node

from idlespec.conformance.api import CandidateUnavailable
from idlespec.conformance.candidates import CandidateError, resolve_candidate
from idlespec.conformance.node import bridge as bridge_module
from idlespec.conformance.node.bridge import Bridge, BridgeError, JSError, find_node
from idlespec.conformance.node.candidates import JS_CANDIDATES
from idlespec.conformance.rows import Row, load_rows, rows_by_id
from idlespec.conformance.runner import CandidateRun, run_rows
from idlespec.conformance.verdicts import Verdict
from idlespec.reference import wall_clock

pytestmark = pytest.mark.engines

SCHEMA = Path(bridge_module.__file__).with_name("protocol.schema.json")


@pytest.fixture(autouse=True)
def node() -> None:
    require_node()


ROWS = load_rows()
INDEX = rows_by_id(ROWS)


def _one_post(options: Any, row_id: str = "fifo-bridge-test") -> Row:
    """A row that posts ``a`` with ``options`` and expects it to run."""
    base = INDEX["idl-handle-first-call-returns-one"]
    return replace(
        base,
        id=row_id,
        steps=({"post": "a", "options": options},),
        expect={"invoked": ["a"]},
        actions=frozenset({"post"}),
    )


def _normalised(trace: dict[str, Any] | None) -> dict[str, Any] | None:
    """A trace without the wording of TypeErrors (each engine words them its own way)."""
    if trace is None:
        return None
    reported = [dict(r, message="") if r["type"] == "TypeError" else r for r in trace["reported"]]
    return {**trace, "reported": reported}


@pytest.mark.parametrize(
    ("python", "js"), [("settimeout-shim", "js-settimeout-shim"), ("polyfill", "js-polyfill")]
)
def test_the_js_twins_give_the_python_traces_on_every_row(python: str, js: str) -> None:
    """The check that the bridge adds nothing: same code, two languages, same traces.

    Binding rows are left out: only the JS twin has a JS binding to check (the Python one is
    UNSUPPORTED there; tests/test_binding_rows.py judges the JS ones).
    """
    rows = [row for row in ROWS if "binding" not in row.actions]
    ours = {r.row.id: r for r in run_rows(rows, resolve_candidate(python))}
    theirs = {r.row.id: r for r in run_rows(rows, resolve_candidate(js))}
    assert len(ours) == len(theirs) == len(rows)
    differ = [
        row_id
        for row_id, result in ours.items()
        if _normalised(result.outcome.trace) != _normalised(theirs[row_id].outcome.trace)
        or result.raw_verdict is not theirs[row_id].raw_verdict
    ]
    assert differ == []
    assert {r.outcome.trace is None for r in theirs.values()} == {False}


def test_the_bridge_adds_something_the_comparison_would_see(tmp_path: Path) -> None:
    """The twin comparison can fail: a JS fallback with a 49 ms cap differs on many rows."""
    source = (Path(bridge_module.__file__).parent / "shims" / "settimeout.js").read_text()
    mutant = tmp_path / "mutant.js"
    mutant.write_text(source.replace("50 - (performance", "49 - (performance"))
    rows = [r for r in ROWS if r.area == "deadlines"]
    ours = run_rows(rows, resolve_candidate("settimeout-shim"))
    theirs = run_rows(rows, resolve_candidate(f"js:{mutant}"))
    assert sum(a.outcome.trace != b.outcome.trace for a, b in zip(ours, theirs, strict=True)) > 5


def test_every_message_follows_the_published_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    seen: list[dict[str, Any]] = []
    send, receive = Bridge._send, Bridge._receive

    def tap_send(self: Bridge, message: dict[str, Any]) -> None:
        seen.append(dict(message))
        send(self, message)

    def tap_receive(self: Bridge) -> dict[str, Any]:
        message = receive(self)
        seen.append(message)
        return message

    monkeypatch.setattr(Bridge, "_send", tap_send)
    monkeypatch.setattr(Bridge, "_receive", tap_receive)
    wanted = ("deadlines", "idl", "exceptions", "windows")
    # A row whose loop stays busy for 2**32 ms makes a polyfill split its timeout into
    # tens of thousands of timers: the same few messages, validated for most of a minute.
    long = {"idl-timeout-zero-values-are-not-4294967295"}
    rows = [r for r in ROWS if r.area in wanted and r.id not in long][::3]
    for name in (
        "js-polyfill",
        "npm:polyfill-library@4.8.0",
        "npm:idlize@0.1.1",
        "npm:lolex@6.0.0",
    ):
        run_rows(rows, resolve_candidate(name))
    ops = {m.get("op") for m in seen}
    assert {"hello", "realm.open", "realm.call", "fn.call", "host", "py.call", "ref.call"} <= ops
    assert {"realm.prepare", "selfhosted.run", "ref.get"} <= ops
    errors = [f"{m}: {e.message}" for m in seen for e in validator.iter_errors(m)]
    assert errors == []
    assert {m["t"] for m in seen} == {"call", "ret", "err"}


def test_nested_calls_reenter_both_ways() -> None:
    """A timer posts an idle callback that sets a timer that posts again: four levels deep."""
    row = INDEX["fifo-post-from-callback-waits-for-later-period"]
    (result,) = run_rows([row], resolve_candidate("js-polyfill"))
    assert result.raw_verdict is Verdict.PASS, result.outcome.mismatches


# Hostile candidates --------------------------------------------------------------------

# A classic fallback that turns hostile when posted with {timeout: N}. It reaches Node's own
# process through a host object (the realm is no security boundary, and says so).
HOSTILE = """
var P = console.log.constructor('return process')();
window.requestIdleCallback = function (cb, options) {
  var t = options && options.timeout;
  if (t === 1) { P.stdout.write('this is not JSON\\n'); }
  if (t === 2) { P.exit(3); }
  if (t === 3) { for (;;) {} }
  if (t === 4) { throw new RangeError('hostile ' + t); }
  if (t === 5) { P.kill(P.pid, 'SIGKILL'); }
  if (t === 6) { var hoard = []; for (;;) hoard.push(new Array(1e6).fill(t)); }
  return setTimeout(function () { cb({ didTimeout: false, timeRemaining: function () { return 1; } }); }, 1);
};
window.cancelIdleCallback = function (id) { clearTimeout(id); };
"""


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "hostile.js"
    path.write_text(HOSTILE, encoding="utf-8")
    yield f"js:{path}"


@pytest.mark.parametrize(
    ("trigger", "verdict", "message"),
    [
        (1, Verdict.ERROR, "Node printed garbage on stdout: b'this is not JSON"),
        (2, Verdict.ERROR, "the Node process exited with status 3"),
        (3, Verdict.TIMEOUT, "no answer after 1 s of real time"),
        (5, Verdict.ERROR, "exited with status -9"),
    ],
)
def test_a_broken_bridge_is_that_rows_verdict_and_the_run_goes_on(
    hostile: str, trigger: int, verdict: Verdict, message: str
) -> None:
    rows = [_one_post(None, "fifo-before"), _one_post({"timeout": trigger}, "fifo-hostile")]
    rows.append(_one_post(None, "fifo-after"))
    candidate = resolve_candidate(hostile)
    with CandidateRun(candidate, watchdog_s=1.0) as run:
        results = [run.run(row) for row in rows]
    before, broken, after = results
    assert before.raw_verdict is Verdict.PASS
    assert broken.raw_verdict is verdict
    assert message in (broken.outcome.error or broken.outcome.timeout or "")
    assert after.raw_verdict is Verdict.PASS, "the process was restarted for the next row"


def test_a_candidate_that_allocates_without_bound_crashes_its_process_not_the_machine(
    hostile: str,
) -> None:
    rows = [_one_post({"timeout": 6}, "fifo-hoard"), _one_post(None, "fifo-after")]
    start = wall_clock()
    with CandidateRun(resolve_candidate(hostile), watchdog_s=20.0) as run:
        hoard, after = [run.run(row) for row in rows]
    assert hoard.raw_verdict is Verdict.ERROR
    assert "heap out of memory" in (hoard.outcome.error or "")
    assert after.raw_verdict is Verdict.PASS
    assert wall_clock() - start < 20


def test_a_full_run_of_a_js_candidate_that_hangs_on_every_call_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "hangs.js"
    path.write_text("window.requestIdleCallback = function () { for (;;) {} };", encoding="utf-8")
    start = wall_clock()
    results = run_rows(ROWS, resolve_candidate(f"js:{path}"), watchdog_s=1.0)
    assert wall_clock() - start < 60
    verdicts = [r.raw_verdict for r in results]
    assert len(verdicts) == len(ROWS) and Verdict.PASS not in verdicts[:3]
    assert verdicts.count(Verdict.TIMEOUT) == 3  # then every other row: ERROR with the reason
    assert "not run: the candidate hung on 3 rows in a row" in (results[-1].outcome.error or "")


def test_a_js_exception_is_a_js_error_not_a_broken_bridge(hostile: str) -> None:
    candidate = resolve_candidate(hostile)
    with CandidateRun(candidate) as run:
        row = replace(_one_post({"timeout": 4}), expect={"sync_error": {"a": "RangeError"}})
        result = run.run(row)
        bridge = candidate.bridge  # type: ignore[union-attr]
        assert not bridge.broken
    assert result.raw_verdict is Verdict.PASS, result.outcome


def test_a_candidate_that_cannot_load_is_an_error_on_each_row(tmp_path: Path) -> None:
    path = tmp_path / "broken.js"
    path.write_text("window.requestIdleCallback = function ( {", encoding="utf-8")
    results = run_rows(ROWS[:2], resolve_candidate(f"js:{path}"))
    assert [r.raw_verdict for r in results] == [Verdict.ERROR, Verdict.ERROR]
    assert f"LoadError: loading {path} threw SyntaxError: Unexpected end of input" in (
        results[0].outcome.error or ""
    )


def test_without_node_every_js_row_is_unsupported_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IDLESPEC_NODE", "/nonexistent/node")
    results = run_rows(ROWS[:3], resolve_candidate("npm:ric@1.3.0"))
    assert {r.raw_verdict for r in results} == {Verdict.UNSUPPORTED}
    assert results[0].outcome.unsupported == "Node.js is not installed (no `node` on PATH)"
    candidate = resolve_candidate("js-polyfill")
    with pytest.raises(CandidateUnavailable):
        candidate.open()  # type: ignore[union-attr]


def test_without_the_packages_every_row_is_unsupported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IDLESPEC_NODE_MODULES", str(tmp_path))
    results = run_rows(ROWS[:2], resolve_candidate("npm:idlize@0.1.1"))
    assert {r.raw_verdict for r in results} == {Verdict.UNSUPPORTED}
    assert "npm package idlize@0.1.1 is not installed" in (results[0].outcome.unsupported or "")


# Loading -------------------------------------------------------------------------------

FALLBACK_BODY = """
  function (cb) {
    return setTimeout(function () { cb({ didTimeout: false, timeRemaining: function () { return 7; } }); }, 1);
  }
"""


@pytest.mark.parametrize(
    ("file", "text"),
    [
        ("page.js", f"window.requestIdleCallback = {FALLBACK_BODY};"),
        ("module.cjs", f"exports.requestIdleCallback = {FALLBACK_BODY};"),
        ("bundle.js", f"module.exports = {{ requestIdleCallback: {FALLBACK_BODY} }};"),
        ("module.mjs", f"export const requestIdleCallback = {FALLBACK_BODY};"),
    ],
)
def test_your_own_file_as_script_commonjs_or_module(tmp_path: Path, file: str, text: str) -> None:
    (tmp_path / file).write_text(text, encoding="utf-8")
    row = replace(_one_post(None), expect={"remaining": {"a": 7}, "handles": {"a": 1}})
    (result,) = run_rows([row], resolve_candidate(f"js:{tmp_path / file}"))
    assert result.raw_verdict is Verdict.PASS, result.outcome


def test_a_missing_js_file_is_a_candidate_error(tmp_path: Path) -> None:
    with pytest.raises(CandidateError, match="no such file"):
        resolve_candidate(f"js:{tmp_path / 'nope.js'}")


def test_every_js_candidate_is_described_and_pinned() -> None:
    package = json.loads((Path(bridge_module.__file__).parents[2] / "package.json").read_text())
    for name, (_, source, description) in JS_CANDIDATES.items():
        assert description
        if source.package is not None:
            assert package["dependencies"][source.package] == source.version, name
            assert name == f"npm:{source.package}@{source.version}"


def test_provenance_carries_the_tarball_integrity() -> None:
    candidate = resolve_candidate("npm:ric@1.3.0")
    with CandidateRun(candidate):
        assert "sha512-" in candidate.provenance  # type: ignore[union-attr]


def test_values_cross_the_bridge_both_ways() -> None:
    bridge = Bridge(find_node() or "node", lambda realm, fn, args: None, lambda: 0.0)
    try:
        for value in (1, 2.5, -0.0, float("inf"), float("-inf"), "x", True, None):
            assert bridge.decode(bridge.encode(value), None) == value
        assert str(bridge.decode(bridge.encode(float("nan")), None)) == "nan"
        spec = {"files": ["x.mjs"], "format": "esm", "request": ["global"], "cancel": ["global"]}
        with pytest.raises(JSError, match="no ES-module realm was prepared"):
            bridge.call("realm.open", realm=1, spec={**spec, "window": True})
        assert not bridge.broken
        with pytest.raises(BridgeError, match=r"exited with status 70.*unknown op no\.such\.op"):
            bridge.call("no.such.op")  # a protocol error ends the process
        assert bridge.broken
    finally:
        bridge.stop()
