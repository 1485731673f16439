"""Expectations: predicates over a trace (see ``schema.json``, ``$defs/expect``).

:func:`check` returns the list of mismatches, each a sentence saying what was expected and
what was observed; an empty list means the trace meets the row's expectations. ``any_of``
lists acceptable alternatives where the spec allows several outcomes: at least one must
hold, on top of every predicate beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .rows import LABEL_KEY
from .trace import Call, Sample, Trace

#: Live mode (a real engine in real time): the tolerance of each kind of timed predicate, in
#: ms. Stated once, for every engine, and never widened to make one pass. Virtual runs use
#: the row's own ``tolerance`` (0.001 by default).
#:
#: * ``time`` (``time``, ``time_min``, ``time_max``): 5 ms, a third of a 60 Hz frame: timer and
#:   task latency, and the cost of the recording itself, on a loaded two-core machine.
#: * ``remaining`` (``remaining``, ``remaining_min``, ``remaining_max``): 1 ms: the real time
#:   between the idle period's start and the callback's first ``timeRemaining()``.
#: * ``final_time``: 50 ms: when a live run stops is a real timer too.
LIVE_TOLERANCES: Final[Mapping[str, float]] = {"time": 5.0, "remaining": 1.0, "final_time": 50.0}

#: A real engine on a frozen (virtual) clock: no real time passes, but the page still reads
#: a coarsened clock (HR-TIME's coarsening, spec.toml F-08; 5 µs with jitter when cross-origin
#: isolated), so timed predicates allow HR-TIME's coarsest resolution, 0.1 ms.
VIRTUAL_TOLERANCES: Final[Mapping[str, float]] = {"time": 0.1, "remaining": 0.1, "final_time": 0.1}

#: The tolerance kind of each timed predicate.
_KIND: Final = {
    "time": "time",
    "time_min": "time",
    "time_max": "time",
    "remaining": "remaining",
    "remaining_min": "remaining",
    "remaining_max": "remaining",
    "final_time": "final_time",
    "remaining_le": "remaining",
    "period_end_ge": "time",
}


def check(
    expect: Mapping[str, Any],
    trace: Trace,
    tolerance: float,
    live: Mapping[str, float] | None = None,
) -> list[str]:
    """Every way ``trace`` misses ``expect``.

    ``tolerance`` is the row's; ``live`` (:data:`LIVE_TOLERANCES` for a live engine) widens
    each timed predicate to its kind's tolerance where that is larger.
    """
    problems = _check_all(expect, trace, tolerance, live)
    alternatives = expect.get("any_of")
    if alternatives:
        outcomes = [_check_all(alt, trace, tolerance, live) for alt in alternatives]
        if all(outcomes):
            problems.append(
                "none of the acceptable outcomes holds: "
                + " | ".join(f"({i + 1}) " + "; ".join(o) for i, o in enumerate(outcomes))
            )
    return problems


#: Lower-bound predicates and the kind of their tolerance. A positive bound says "later than
#: the start" or "some time left"; within its tolerance of 0 it says nothing (a row's times
#: are never negative; a conforming timeRemaining() is never negative). A bound of 0 keeps
#: its point, catching a negative value, and is judged.
_LOWER_BOUNDS: Final = {"time_min": "time", "remaining_min": "remaining"}


def vacuous(expect: Mapping[str, Any], tolerance: float, kinds: Mapping[str, float]) -> list[str]:
    """The predicates of ``expect`` that cannot fail under these tolerances, and why.

    A run whose tolerances turn ``time_min = {a = 5}`` into ``t >= 0`` (live: 5 ms) proves
    nothing, so a runner reports the row UNSUPPORTED rather than a PASS it cannot lose.
    """
    found = []
    alternatives = [expect, *expect.get("any_of", ())]
    for alternative in alternatives:
        for key, kind in _LOWER_BOUNDS.items():
            tol = max(tolerance, kinds[kind])
            for label, bound in alternative.get(key, {}).items():
                if 0 < bound <= tol:
                    found.append(
                        f"{key} {label!r} {bound:g} is within the {tol:g} ms tolerance of 0"
                    )
    return found


def _check_all(
    expect: Mapping[str, Any], trace: Trace, tolerance: float, live: Mapping[str, float] | None
) -> list[str]:
    problems: list[str] = []
    for key, value in expect.items():
        if key != "any_of":
            tol = tolerance
            if live is not None and key in _KIND:
                tol = max(tolerance, live[_KIND[key]])
            problems.extend(_PREDICATES[key](value, trace, tol))
    return problems


def _calls(trace: Trace, label: str) -> list[Call]:
    return [c for c in trace.calls if c.label == label]


def _sample(trace: Trace, label: str, n: str | None, name: str) -> Sample | None:
    """The first sample ``name`` taken in ``label``'s runs (its n-th run only, if given)."""
    wanted = int(n) if n else None
    return next(
        (s for s in trace.samples if s.label == label and s.name == name and wanted in (None, s.n)),
        None,
    )


def _invocation(trace: Trace, label: str, n: str | None) -> Call | None:
    calls = _calls(trace, label)
    index = int(n) - 1 if n else 0
    return calls[index] if 0 <= index < len(calls) else None


def _runs(trace: Trace, label: str, n: str | None) -> list[Call]:
    """Every run of ``label``, or only its n-th (``a@2``) if ``n`` is given."""
    if not n:
        return _calls(trace, label)
    call = _invocation(trace, label, n)
    return [] if call is None else [call]


def _order(expected: list[str], trace: Trace, _tol: float) -> list[str]:
    observed = [c.label for c in trace.calls if c.kind == "idle"]
    if observed == expected:
        return []
    return [f"order: expected idle callbacks {expected}, observed {observed}"]


def _sequence(expected: list[Any], trace: Trace, _tol: float) -> list[str]:
    if expected and isinstance(expected[0], list):
        return [problem for group in expected for problem in _sequence(group, trace, _tol)]
    firsts: list[int] = []
    for label in expected:
        index = next((i for i, c in enumerate(trace.calls) if c.label == label), None)
        if index is None:
            return [f"sequence: {label!r} never ran (expected first runs in order {expected})"]
        firsts.append(index)
    if firsts == sorted(firsts) and len(set(firsts)) == len(firsts):
        return []
    observed = [c.label for c in trace.calls if c.label in expected]
    return [f"sequence: expected first runs in order {expected}, observed {observed}"]


def _counting(
    test: Callable[[int], bool], what: str
) -> Callable[[list[str], Trace, float], list[str]]:
    def predicate(labels: list[str], trace: Trace, _tol: float) -> list[str]:
        bad = {label: len(_calls(trace, label)) for label in labels}
        bad = {label: n for label, n in bad.items() if not test(n)}
        return [f"{what}: {label!r} ran {n} time(s)" for label, n in bad.items()]

    return predicate


def _count(expected: Mapping[str, int], trace: Trace, _tol: float) -> list[str]:
    return [
        f"count: expected {label!r} to run {n} time(s), it ran {len(_calls(trace, label))}"
        for label, n in expected.items()
        if len(_calls(trace, label)) != n
    ]


def _argc(expected: Mapping[str, int], trace: Trace, _tol: float) -> list[str]:
    problems = []
    for key, want in expected.items():
        match = LABEL_KEY.match(key)
        assert match is not None
        call = _invocation(trace, match["label"], match["n"])
        if call is None or call.argc != want:
            seen = "no run" if call is None else call.argc
            problems.append(f"argc: expected {key!r} to get {want} argument(s), observed {seen}")
    return problems


def _did_timeout(expected: Mapping[str, bool], trace: Trace, _tol: float) -> list[str]:
    problems = []
    for key, want in expected.items():
        match = LABEL_KEY.match(key)
        assert match is not None  # the loader checked the key
        if match["sample"]:
            sample = _sample(trace, match["label"], match["n"], match["sample"])
            if sample is None or sample.did_timeout is not want:
                observed = "no sample" if sample is None else sample.did_timeout
                problems.append(
                    f"did_timeout: expected sample {key!r} to see {want}, observed {observed}"
                )
            continue
        seen = [c.did_timeout for c in _runs(trace, match["label"], match["n"])]
        if not seen or any(v is not want for v in seen):
            problems.append(
                f"did_timeout: expected {key!r} to see {want}, observed {seen or 'no run'}"
            )
    return problems


def _timed(
    compare: Callable[[float, float, float], bool], what: str
) -> Callable[[Mapping[str, float], Trace, float], list[str]]:
    def predicate(expected: Mapping[str, float], trace: Trace, tol: float) -> list[str]:
        problems = []
        for key, want in expected.items():
            match = LABEL_KEY.match(key)
            assert match is not None
            call = _invocation(trace, match["label"], match["n"])
            if call is None:
                problems.append(f"{what}: {key!r} never ran (expected {want:g})")
            elif not compare(call.t, want, tol):
                problems.append(f"{what}: expected {key!r} at {want:g} ms, observed {call.t:g}")
        return problems

    return predicate


def _remaining(
    compare: Callable[[float, float, float], bool], what: str
) -> Callable[[Mapping[str, float], Trace, float], list[str]]:
    def predicate(expected: Mapping[str, float], trace: Trace, tol: float) -> list[str]:
        problems = []
        for key, want in expected.items():
            value = _remaining_value(trace, key)
            if isinstance(value, str):
                problems.append(f"{what}: {value} (expected {want:g})")
            elif not compare(value, want, tol):
                problems.append(f"{what}: expected {key!r} {want:g}, observed {value:g}")
        return problems

    return predicate


def _observation(trace: Trace, key: str) -> tuple[float, float] | str:
    """(time, timeRemaining()) at a run (``a``, ``a@2``) or a sample (``a.s``), or why not."""
    match = LABEL_KEY.match(key)
    assert match is not None
    label, n, sample = match["label"], match["n"], match["sample"]
    found: Call | Sample | None
    if sample:
        found = _sample(trace, label, n, sample)
        if found is None:
            return f"no sample {key!r} was taken"
    else:
        found = _invocation(trace, label, n)
        if found is None:
            return f"{key!r} never ran"
    if found.remaining is None:
        return f"{key!r}: timeRemaining() gave no number"
    return found.t, found.remaining


def _remaining_value(trace: Trace, key: str) -> float | str:
    seen = _observation(trace, key)
    return seen if isinstance(seen, str) else seen[1]


def _period_end(trace: Trace, key: str) -> float | str:
    """When the idle period a run or sample saw ends: its time plus timeRemaining()."""
    seen = _observation(trace, key)
    return seen if isinstance(seen, str) else seen[0] + seen[1]


def _relation(
    value: Callable[[Trace, str], float | str],
    holds: Callable[[float, float, float], bool],
    what: str,
    says: str,
) -> Callable[[Mapping[str, str], Trace, float], list[str]]:
    """A predicate relating two observations: for each ``left = right``, ``holds``."""

    def predicate(expected: Mapping[str, str], trace: Trace, tol: float) -> list[str]:
        problems = []
        for left, right in expected.items():
            a, b = value(trace, left), value(trace, right)
            if isinstance(a, str) or isinstance(b, str):
                problems.append(f"{what}: {a if isinstance(a, str) else b}")
            elif not holds(a, b, tol):
                problems.append(f"{what}: expected {left!r} ({a:g}) {says} {right!r} ({b:g})")
        return problems

    return predicate


def _handles(expected: Mapping[str, int], trace: Trace, _tol: float) -> list[str]:
    problems = []
    for key, want in expected.items():
        match = LABEL_KEY.match(key)
        assert match is not None
        got = trace.handles.get(match["label"]) or []
        index = int(match["n"]) - 1 if match["n"] else 0
        value = got[index] if 0 <= index < len(got) else None
        if value != want or isinstance(value, bool):
            problems.append(f"handles: expected {key!r} to get {want}, observed {value!r}")
    return problems


def _sync_error(expected: Mapping[str, str], trace: Trace, _tol: float) -> list[str]:
    return [
        f"sync_error: expected {label!r} to raise {want}, "
        f"observed {trace.sync_errors.get(label, 'not called')}"
        for label, want in expected.items()
        if trace.sync_errors.get(label) != want
    ]


def _reported(expected: list[str], trace: Trace, _tol: float) -> list[str]:
    observed = [r.message for r in trace.reported]
    return [] if observed == expected else [f"reported: expected {expected}, observed {observed}"]


def _reported_count(expected: int, trace: Trace, _tol: float) -> list[str]:
    n = len(trace.reported)
    return [] if n == expected else [f"reported_count: expected {expected}, observed {n}"]


def _binding(expected: Mapping[str, Any], trace: Trace, _tol: float) -> list[str]:
    problems = []
    for name, value in expected.items():
        if name not in trace.binding:
            problems.append(f"binding: {name} was never checked")
        elif not _same_js_value(trace.binding[name], value):
            problems.append(f"binding: expected {name} {value!r}, observed {trace.binding[name]!r}")
    return problems


def _same_js_value(observed: Any, expected: Any) -> bool:
    # true is not 1 here: a JS boolean and a JS number are different facts (1 and 1.0 are
    # the same number).
    if isinstance(observed, bool) or isinstance(expected, bool):
        return observed is expected
    numbers = (int, float)
    if isinstance(observed, numbers) and isinstance(expected, numbers):
        return observed == expected
    return type(observed) is type(expected) and observed == expected


def _window(expected: Mapping[str, str], trace: Trace, _tol: float) -> list[str]:
    """Each label (or its n-th run) ran in the named window."""
    problems = []
    for key, want in expected.items():
        match = LABEL_KEY.match(key)
        assert match is not None
        seen = [c.window for c in _runs(trace, match["label"], match["n"])]
        if not seen or any(w != want for w in seen):
            problems.append(
                f"window: expected {key!r} to run in {want!r}, observed {seen or 'no run'}"
            )
    return problems


def _reported_windows(expected: list[str], trace: Trace, _tol: float) -> list[str]:
    observed = [r.window for r in trace.reported]
    if observed == expected:
        return []
    return [f"reported_windows: expected reports in {expected}, observed {observed}"]


def _quiescent(expected: bool, trace: Trace, _tol: float) -> list[str]:
    if trace.quiescent is expected:
        return []
    what = "fell quiet" if trace.quiescent else "was still busy when the run stopped"
    return [f"quiescent: expected {expected}, but the loop {what}"]


def _final_time(expected: float, trace: Trace, tol: float) -> list[str]:
    if abs(trace.final_time - expected) <= tol:
        return []
    return [f"final_time: expected {expected:g} ms, observed {trace.final_time:g}"]


def _eq(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol


def _ge(a: float, b: float, tol: float) -> bool:
    return a >= b - tol


def _le(a: float, b: float, tol: float) -> bool:
    return a <= b + tol


_PREDICATES: dict[str, Callable[[Any, Trace, float], list[str]]] = {
    "order": _order,
    "sequence": _sequence,
    "invoked": _counting(lambda n: n >= 1, "invoked"),
    "not_invoked": _counting(lambda n: n == 0, "not_invoked"),
    "invoked_once": _counting(lambda n: n == 1, "invoked_once"),
    "count": _count,
    "did_timeout": _did_timeout,
    "argc": _argc,
    "time": _timed(_eq, "time"),
    "time_min": _timed(_ge, "time_min"),
    "time_max": _timed(_le, "time_max"),
    "remaining": _remaining(_eq, "remaining"),
    "remaining_min": _remaining(_ge, "remaining_min"),
    "remaining_max": _remaining(_le, "remaining_max"),
    "handles": _handles,
    "sync_error": _sync_error,
    "reported": _reported,
    "reported_count": _reported_count,
    "final_time": _final_time,
    "binding": _binding,
    # a deadline never grows: the left's timeRemaining() is at most the right's
    "remaining_le": _relation(_remaining_value, _le, "remaining_le", "to be at most"),
    # a later idle period ends no earlier: the left's time + timeRemaining() against the right's
    "period_end_ge": _relation(_period_end, _ge, "period_end_ge", "to end no earlier than"),
    "window": _window,
    "reported_windows": _reported_windows,
    "quiescent": _quiescent,
}
