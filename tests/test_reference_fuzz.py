"""The reference's requestIdleCallback and cancelIdleCallback, fuzzed with arbitrary values:
each call succeeds as WebIDL converts, or raises TypeError and leaves the loop as it was."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from idlespec.reference import UNDEFINED, EventLoop, Window


class Weird:
    """An object with no numeric conversion."""


js_values = st.recursive(
    st.one_of(
        st.none(),
        st.just(UNDEFINED),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=10),
        st.just(lambda *a: None),
        st.builds(Weird),
        st.builds(object),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["timeout", "x"]), inner, max_size=2),
    ),
    max_leaves=10,
)


def state(window: Window) -> tuple[Any, ...]:
    return (
        window.idle_callback_identifier,
        tuple(window.list_of_idle_request_callbacks),
        tuple(window.list_of_runnable_idle_callbacks),
        window.loop.clock.now,
    )


@settings(max_examples=400, deadline=None)
@given(callback=js_values, options=js_values, handle=js_values)
def test_any_value_converts_or_raises_type_error_leaving_the_loop_unchanged(
    callback: Any, options: Any, handle: Any
) -> None:
    loop = EventLoop(freeze_global_clocks=False)
    window = loop.window
    window.request_idle_callback(lambda deadline: None)
    before = state(window)
    try:
        got = window.request_idle_callback(callback, options)
    except TypeError:
        assert state(window) == before
    else:
        assert isinstance(got, int) and got == before[0] + 1
        assert list(window.list_of_idle_request_callbacks)[-1] == got
    before = state(window)
    try:
        window.cancel_idle_callback(handle)
    except TypeError:
        assert state(window) == before
    loop.run(budget=10_000)
