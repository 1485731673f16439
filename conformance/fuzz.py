"""Random scenarios, invariants every conforming implementation holds, and shrunk rows.

``idlespec fuzz -c NAME`` draws scenarios (callbacks posted with and without timeouts,
callbacks that work for a while, throw or post more, timers, a busy task chain, cancels at
later times), runs each against the candidate, and checks invariants that hold for *any*
conforming user agent, whatever its policy:

* ``once``: no callback runs twice (R-17, R-41);
* ``cancel``: a callback never runs after it was cancelled (R-20, R-21);
* ``timeout``: a run with ``didTimeout`` true comes no earlier than posted time + timeout,
  with ``timeRemaining()`` 0 (R-14, R-42);
* ``deadline``: an idle run sees ``0 <= timeRemaining() <= 50`` (R-23, R-50);
* ``fifo``: callbacks posted without a timeout run in posting order (R-12, R-34);
* ``busy``: no idle run while the task chain keeps the loop busy (R-53);
* ``prompt``: a callback whose timeout expires while the chain keeps the loop busy for
  100 ms more runs by its timeout, with ``didTimeout`` true: its timeout task is queued
  while the loop is still busy, so no idle period can come first (R-14, R-53; the suite's
  padding assumption, ``conformance/cases/README.md``). When it runs is not bounded: other
  timed-out callbacks may work first;
* ``liveness``: when the run ends quiet, every callback neither cancelled nor failed has
  run exactly once (R-12, R-41).

hypothesis shrinks the first violation to a minimal scenario, which comes back as a
ready-to-paste row whose expectation states the violated invariant, checked to pass on
the reference. hypothesis is an optional dependency: ``pip install idlespec[fuzz]``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .candidates import Candidate, ReferenceCandidate
from .errors import MissingExtra
from .expect import check
from .rows import Row
from .runner import CandidateRun, run_one
from .scenario import DEFAULT_STEP_BUDGET
from .trace import Trace
from .verdicts import Verdict

_CAP_MS = 50.0
_PADDING_MS = 100.0  # the suite's stated bound on timeout padding
_TOLERANCE = 0.001


@dataclass(frozen=True)
class Post:
    """One top-level idle callback."""

    label: str
    timeout: int | None
    busy: float
    throws: bool
    child: str | None  # a callback it posts from its body (no timeout)


@dataclass(frozen=True)
class Scenario:
    """A random scenario: posts at time 0, an optional chain, timers, later cancels."""

    posts: tuple[Post, ...]
    chain_until: float | None
    timers: tuple[float, ...]
    cancels: tuple[tuple[float, str], ...]  # (virtual time, label)

    def steps(self) -> list[dict[str, Any]]:
        """The row steps of the script."""
        steps: list[dict[str, Any]] = []
        if self.chain_until is not None:
            steps.append({"chain": "chain", "until": self.chain_until, "every": 7})
        for post in self.posts:
            body: list[dict[str, Any]] = []
            if post.busy:
                body.append({"busy": post.busy})
            if post.child is not None:
                body.append({"post": post.child})
            if post.throws:
                body.append({"raise": f"from {post.label}"})
            step: dict[str, Any] = {"post": post.label}
            if post.timeout is not None:
                step["options"] = {"timeout": post.timeout}
            if body:
                step["body"] = body
            steps.append(step)
        steps.extend({"timer": f"t{i}", "delay": delay} for i, delay in enumerate(self.timers))
        return steps

    def later(self) -> list[dict[str, Any]]:
        """The cancels, each in a recorded task at its time."""
        return [
            {"at": at, "steps": [{"task": f"cancel-{label}", "body": [{"cancel": label}]}]}
            for at, label in self.cancels
        ]

    def row(self, expect: Mapping[str, Any] | None = None, **fields: Any) -> Row:
        """The scenario as a row (for running, or for printing once a violation shrank)."""
        steps, later = self.steps(), self.later()
        digest = hashlib.sha256(json.dumps([steps, later]).encode()).hexdigest()[:8]
        actions = {"post", "busy", "raise", "timer", "task", "cancel", "chain"}
        return Row(
            id=fields.get("id", f"fuzz-{digest}"),
            description=fields.get("description", "A scenario drawn by idlespec fuzz."),
            spec=fields.get("spec", "#invoke-idle-callbacks-algorithm"),
            level="must",
            area=fields.get("area", "fifo"),
            tags=("fuzz",),
            covers=tuple(fields.get("covers", ("R-12",))),
            steps=tuple(steps),
            expect=expect or {"reported_count": 0},
            file="fuzz",
            later=tuple(later),
            budget_ms=5_000.0,
            actions=frozenset(actions),
        )


@dataclass
class Violation:
    """A broken invariant: its name and the row predicate that states it."""

    invariant: str
    message: str
    expect: dict[str, Any] = field(default_factory=dict)


# Which table, anchor and requirements a shrunk row of each invariant belongs to.
_ROW_FIELDS: dict[str, dict[str, Any]] = {
    "once": {
        "area": "idle-periods",
        "spec": "#invoke-idle-callback-timeout-algorithm step 2",
        "covers": ("R-17", "R-41"),
    },
    "cancel": {
        "area": "cancellation",
        "spec": "#the-cancelidlecallback-method step 3",
        "covers": ("R-20", "R-21"),
    },
    "timeout": {
        "area": "timeouts",
        "spec": "#the-requestidlecallback-method step 6.1",
        "covers": ("R-14", "R-42"),
    },
    "deadline": {
        "area": "deadlines",
        "spec": "html#event-loop-processing-model step 5.2.1",
        "covers": ("R-23", "R-50"),
    },
    "fifo": {
        "area": "fifo",
        "spec": "#invoke-idle-callbacks-algorithm step 3.1",
        "covers": ("R-12", "R-34"),
    },
    "busy": {
        "area": "event-loop",
        "spec": "html#event-loop-processing-model step 5",
        "covers": ("R-53",),
    },
    "prompt": {
        "area": "timeouts",
        "spec": "#the-requestidlecallback-method step 6.4",
        "covers": ("R-14", "R-53"),
    },
    "liveness": {
        "area": "idle-periods",
        "spec": "#start-an-idle-period-algorithm steps 2-5",
        "covers": ("R-12", "R-41"),
    },
}


def violations(scenario: Scenario, trace: Trace) -> list[Violation]:
    """Every invariant the trace breaks.

    Each invariant is stated as the row predicates it requires of this scenario, and judged
    by :func:`~.expect.check`, the code that judges every row: a violation is a failed
    predicate, and the predicate is the shrunk row's expectation.
    """
    found: list[Violation] = []
    for invariant, expect in _invariants(scenario, trace):
        problems = check(expect, trace, _TOLERANCE)
        if problems:
            found.append(Violation(invariant, problems[-1], expect))
    return found


def _invariants(scenario: Scenario, trace: Trace) -> list[tuple[str, dict[str, Any]]]:
    """(invariant, the predicates it requires here), for every invariant that applies."""
    stated: list[tuple[str, dict[str, Any]]] = []
    idle = [c for c in trace.calls if c.kind == "idle"]
    posted = {p.label: p for p in scenario.posts}
    ran = sorted({c.label for c in idle})
    # once (R-17, R-41): every callback that ran, ran once.
    stated += [("once", {"count": {label: 1}}) for label in ran]
    # cancel (R-20, R-21): a cancelled callback ran before its cancel, or never.
    cancels = [c.label.removeprefix("cancel-") for c in trace.calls if c.kind == "task"]
    for label in cancels:
        stated.append(
            (
                "cancel",
                {"any_of": [{"not_invoked": [label]}, {"sequence": [label, f"cancel-{label}"]}]},
            )
        )
    for call in idle:
        key = f"{call.label}@{call.n}"
        post = posted.get(call.label)
        timeout = post.timeout if post is not None and post.timeout is not None else None
        # timeout (R-14, R-42): a timed-out run comes at posted time (0) + timeout or later,
        # with timeRemaining() 0; a callback without a timeout never times out.
        timed_out: dict[str, Any] = (
            {"time_min": {key: timeout}, "remaining": {key: 0}}
            if timeout is not None
            else {"did_timeout": {key: False}}
        )
        stated.append(("timeout", {"any_of": [{"did_timeout": {key: False}}, timed_out]}))
        # deadline (R-23, R-50): an idle run sees 0 <= timeRemaining() <= 50.
        idle_run = {"remaining_max": {key: _CAP_MS}, "remaining_min": {key: 0}}
        stated.append(("deadline", {"any_of": [{"did_timeout": {key: True}}, idle_run]}))
    # fifo (R-12, R-34): untimed, uncancelled callbacks that ran idly did so in posting order.
    untimed = [p.label for p in scenario.posts if p.timeout is None and p.label not in cancels]
    ran_idly = {c.label for c in idle if c.label in untimed and c.did_timeout is False}
    in_order = [label for label in untimed if label in ran_idly]
    if len(in_order) > 1:
        stated.append(("fifo", {"sequence": in_order}))
    chain_end = next((c.t for c in trace.calls if c.kind == "chain-end"), None)
    if chain_end is not None:
        # busy (R-53): no untimed callback runs idly before the chain ends.
        for label in untimed:
            if label in ran:
                stated.append(
                    (
                        "busy",
                        {
                            "any_of": [
                                {"did_timeout": {label: True}},
                                {"time_min": {label: chain_end}},
                            ]
                        },
                    )
                )
        # prompt (R-14, R-53): a timeout that expires 100 ms or more before the chain ends
        # runs its callback timed out (never running at all is liveness's to judge).
        for post in scenario.posts:
            if (
                post.timeout is not None
                and post.label not in cancels
                and chain_end >= post.timeout + _PADDING_MS
                and post.label in ran
            ):
                stated.append(("prompt", {"did_timeout": {f"{post.label}@1": True}}))
    if trace.quiescent:
        # liveness (R-12, R-41): a quiet run has run every callback neither cancelled nor
        # posted by a callback that threw, exactly once.
        expected = [p.label for p in scenario.posts if p.label not in cancels]
        expected += [p.child for p in scenario.posts if p.child and p.label in ran and not p.throws]
        if expected:
            stated.append(("liveness", {"invoked_once": expected}))
    return stated


def _index(trace: Trace, label: str) -> int:
    return next(i for i, c in enumerate(trace.calls) if c.label == label)


def strategy() -> Any:
    """The hypothesis strategy for scenarios."""
    from hypothesis import strategies as st  # noqa: PLC0415 - an optional dependency

    @st.composite
    def scenarios(draw: Callable[[Any], Any]) -> Scenario:
        count = draw(st.integers(1, 6))
        posts = []
        for i in range(count):
            child = f"c{i}" if draw(st.booleans()) else None
            posts.append(
                Post(
                    label=f"p{i}",
                    timeout=draw(st.one_of(st.none(), st.integers(1, 300))),
                    busy=draw(st.sampled_from([0, 0, 5, 20, 60])),
                    throws=draw(st.booleans()),
                    child=child,
                )
            )
        chain = draw(st.one_of(st.none(), st.sampled_from([20.0, 100.0, 350.0])))
        timers = tuple(draw(st.lists(st.sampled_from([0, 10, 30, 120]), max_size=2)))
        labels = [p.label for p in posts]
        cancels = tuple(
            draw(
                st.lists(
                    st.tuples(st.sampled_from([0.0, 15.0, 60.0, 200.0]), st.sampled_from(labels)),
                    max_size=2,
                    unique_by=lambda c: c[1],
                )
            )
        )
        return Scenario(tuple(posts), chain, timers, cancels)

    return scenarios()


@dataclass
class FuzzResult:
    """What a fuzz run found: nothing, or the shrunk scenario and its row text."""

    examples: int
    violation: Violation | None = None
    row: Row | None = None
    row_toml: str = ""


def fuzz(candidate: Candidate, examples: int = 200) -> FuzzResult:
    """Search for a scenario where ``candidate`` breaks an invariant; shrink it to a row.

    The search is derandomized: the same candidate and ``examples`` give the same result.
    """
    try:
        from hypothesis import HealthCheck, Phase, find, settings  # noqa: PLC0415 - optional
        from hypothesis.errors import NoSuchExample  # noqa: PLC0415
    except ImportError:
        raise MissingExtra("idlespec fuzz needs hypothesis: pip install 'idlespec[fuzz]'") from None

    tried = [0]
    # One run for the whole search: the candidate opens (and its clocks freeze) once.
    # A fixed step budget: scaling it would run the reference on every random scenario too,
    # doubling the search's cost.
    run = CandidateRun(candidate, watchdog_s=5.0, step_budget=DEFAULT_STEP_BUDGET).__enter__()

    def breaks(scenario: Scenario) -> bool:
        tried[0] += 1
        return bool(_violations_of(run, scenario))

    config = settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    try:
        minimal = find(strategy(), breaks, settings=config)
        first = _violations_of(run, minimal)[0]
    except NoSuchExample:
        return FuzzResult(tried[0])
    finally:
        run.__exit__(None, None, None)
    row = minimal.row(
        first.expect,
        description=f"Found by idlespec fuzz: {first.message} (invariant {first.invariant}).",
        **_ROW_FIELDS[first.invariant],
    )
    row = Row(**{**row.__dict__, "id": f"{row.area}-fuzz-{row.id.removeprefix('fuzz-')}"})
    if not passes_on_reference(row):
        raise RuntimeError(
            f"the reference fails the shrunk row too: the invariant is wrong\n{row_toml(row)}"
        )
    return FuzzResult(tried[0], first, row, row_toml(row))


def _violations_of(run: CandidateRun, scenario: Scenario) -> list[Violation]:
    result = run.run(scenario.row())
    if result.outcome.trace is None:
        return [
            Violation(
                "liveness",
                f"the run ended in {result.verdict}: {result.outcome.error or result.outcome.timeout}",
                {"reported_count": 0},
            )
        ]
    return violations(scenario, Trace.from_json(result.outcome.trace))


def passes_on_reference(row: Row) -> bool:
    """Whether the reference meets a shrunk row (it must, or the invariant is wrong)."""
    return run_one(row, ReferenceCandidate()).verdict is Verdict.PASS


def row_toml(row: Row) -> str:
    """A row as TOML text, ready for a table."""
    out = [
        "[[row]]",
        f"id = {json.dumps(row.id)}",
        f"description = {json.dumps(row.description)}",
        f"spec = {json.dumps(row.spec)}",
        f'level = "{row.level}"',
        f"area = {json.dumps(row.area)}",
        f"tags = {json.dumps(list(row.tags))}",
        f"covers = {json.dumps(list(row.covers))}",
        f"budget_ms = {row.budget_ms:g}",
        "steps = [",
        *(f"  {_inline(step)}," for step in row.steps),
        "]",
    ]
    if row.later:
        out += ["later = [", *(f"  {_inline(block)}," for block in row.later), "]"]
    out.append("[row.expect]")
    out += [f"{key} = {_inline(value)}" for key, value in row.expect.items()]
    return "\n".join(out) + "\n"


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)


def _key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() else json.dumps(key)
