"""The userland polyfill: its behaviour through the public API, and the whole suite on it."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from idlespec.conformance.candidates import HostWindow, resolve_candidate
from idlespec.conformance.rows import load_rows
from idlespec.conformance.runner import run_rows
from idlespec.conformance.verdicts import Verdict, load_known_failures
from idlespec.reference import UNDEFINED, EventLoop, Policy, Window
from idlespec.shims.polyfill import Polyfill, candidate

Body = Callable[[Any], object]


class Page:
    """One window of a loop with the polyfill installed, and a log of what callbacks saw."""

    def __init__(self, loop: EventLoop | None = None, window: Window | None = None) -> None:
        self.loop = loop if loop is not None else EventLoop()
        self.window = window if window is not None else self.loop.window
        self.ric: Polyfill = candidate.install(HostWindow(self.window))
        self.host = self.ric.page  # the page's timers and frames, as the polyfill wraps them
        self.log: list[tuple[str, float, float, bool]] = []
        self.deadlines: dict[str, Any] = {}

    def post(self, label: str, body: Body | None = None, options: object = None) -> int:
        """requestIdleCallback with a callback that logs (label, now, remaining, didTimeout)."""

        def callback(deadline: Any) -> None:
            self.deadlines[label] = deadline
            self.log.append((label, self.loop.now, deadline.time_remaining(), deadline.did_timeout))
            if body is not None:
                body(deadline)

        return self.ric.request_idle_callback(callback, options)

    def chain(self, until: float, every: float) -> None:
        """Back-to-back tasks (not timers: the polyfill cannot see them), each busy ``every``."""

        def link() -> None:
            self.loop.busy(every)
            if self.loop.now < until:
                self.window.queue_task(link)

        self.window.queue_task(link)

    @property
    def order(self) -> list[str]:
        return [label for label, *_ in self.log]

    def seen(self, label: str) -> tuple[float, float, bool]:
        (entry,) = [
            (at, left, timed_out) for name, at, left, timed_out in self.log if name == label
        ]
        return entry


def do(*actions: Callable[[], object]) -> Callable[..., None]:
    """A callback (or idle callback body) that performs ``actions`` in order."""

    def run(*_: object) -> None:
        for action in actions:
            action()

    return run


def script(page: Page, steps: Callable[[], object]) -> None:
    """Run ``steps`` as the page's script (a task at time 0), then the loop until quiet."""
    page.window.queue_task(steps)
    page.loop.run()


# Handles and WebIDL -------------------------------------------------------------------


def test_handles_count_from_one_and_a_failed_call_consumes_none() -> None:
    page = Page()
    assert page.post("a") == 1
    with pytest.raises(TypeError):
        page.ric.request_idle_callback(5)
    with pytest.raises(TypeError):
        page.ric.request_idle_callback(UNDEFINED)
    with pytest.raises(TypeError):
        page.post("x", options=50)  # options must be an object
    with pytest.raises(TypeError):
        page.post("x", options={"timeout": object()})  # ToNumber throws, like a Symbol
    assert page.post("b", options=UNDEFINED) == 2
    page.ric.cancel_idle_callback(2)
    assert page.post("c", options={}) == 3  # not reused after a cancel
    page.loop.run()
    assert page.order == ["a", "c"]


def test_callback_is_converted_before_options() -> None:
    class Throwing(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise RuntimeError("getter threw")

    page = Page()
    with pytest.raises(TypeError):
        page.ric.request_idle_callback(5, Throwing(timeout=1))
    with pytest.raises(RuntimeError):
        page.post("x", options=Throwing(timeout=1))
    assert page.post("a") == 1


def test_handle_overflow_raises_without_consuming() -> None:
    page = Page()
    page.ric._handle = 2**32 - 1  # as if 2**32 - 1 calls had been made
    with pytest.raises(OverflowError):
        page.post("a")
    assert page.ric._handle == 2**32 - 1


def test_cancel_converts_the_handle_like_an_unsigned_long() -> None:
    page = Page()
    page.post("a")
    page.post("b")
    page.post("c")
    page.ric.cancel_idle_callback("1")
    page.ric.cancel_idle_callback(2 + 2**32)
    page.ric.cancel_idle_callback(math.nan)  # 0: no such handle
    page.ric.cancel_idle_callback(99)
    with pytest.raises(TypeError):
        page.ric.cancel_idle_callback(object())
    page.loop.run()
    assert page.order == ["c"]


def test_windows_count_and_cancel_independently() -> None:
    main = Page()
    other = Page(main.loop, main.loop.open_window())
    assert [main.post("a"), other.post("x"), main.post("b"), other.post("y")] == [1, 1, 2, 2]
    other.ric.cancel_idle_callback(1)
    main.loop.run()
    assert main.order == ["a", "b"]
    assert other.order == ["y"]


# Order and idle periods ---------------------------------------------------------------


def test_fifo_and_a_post_from_a_callback_waits_for_a_later_period() -> None:
    page = Page()
    page.post("a", lambda d: page.post("c"))
    page.post("b")
    page.loop.run()
    assert page.order == ["a", "b", "c"]
    assert page.seen("a") == (0.0, 50.0, False)
    assert page.seen("c") == (50.0, 50.0, False)  # after the first period's deadline


def test_each_callback_is_a_task_of_its_own() -> None:
    page = Page()
    events: list[str] = []
    page.post("a", lambda d: page.host.queue_microtask(lambda: events.append("micro-a")))
    page.post("b", lambda d: events.append("b"))
    page.loop.run()
    assert events == ["micro-a", "b"]


def test_a_microtask_that_cancels_the_rest_ends_the_period() -> None:
    page = Page()
    page.post("a", lambda d: page.host.queue_microtask(lambda: page.ric.cancel_idle_callback(2)))
    page.post("b")
    page.loop.run()
    assert page.order == ["a"]


def test_leftovers_run_before_newer_callbacks() -> None:
    page = Page()
    page.post("a", do(lambda: page.post("c"), lambda: page.loop.busy(60)))
    page.post("b")
    page.loop.run()
    assert page.order == ["a", "b", "c"]
    assert page.seen("b") == (60.0, 50.0, False)  # a fresh period once the loop is idle


def test_deadline_counts_from_the_start_of_the_period() -> None:
    page = Page()

    def steps() -> None:
        page.post("a", lambda d: page.loop.busy(12.5))
        page.post("b")
        page.loop.busy(30)  # the script itself keeps the loop busy

    script(page, steps)
    assert page.seen("a") == (30.0, 50.0, False)
    assert page.seen("b") == (42.5, 37.5, False)
    page.loop.run(until=100)
    assert page.deadlines["a"].time_remaining() == 0.0  # a retained deadline, later


def test_a_busy_chain_of_tasks_holds_idle_callbacks_back() -> None:
    page = Page()

    def steps() -> None:
        page.post("a")
        page.chain(until=300, every=1)  # 1 ms tasks: probes must not be clamped to 4 ms

    script(page, steps)
    at, remaining, timed_out = page.seen("a")
    assert at >= 300
    assert remaining == 50.0
    assert not timed_out


def test_another_windows_busy_chain_holds_this_window_back() -> None:
    main = Page()
    other = Page(main.loop, main.loop.open_window())
    other.chain(until=200, every=10)
    main.post("a")
    main.loop.run()
    assert main.seen("a")[0] >= 200


def test_tasks_with_their_microtasks_run_before_the_period() -> None:
    page = Page()
    events: list[str] = []

    def task() -> None:
        events.append("task")
        page.host.queue_microtask(do(lambda: page.loop.busy(30), lambda: events.append("micro")))

    page.post("a", lambda d: events.append("a"))
    page.window.queue_task(task)
    page.loop.run()
    assert events == ["task", "micro", "a"]
    assert page.seen("a")[:2] == (30.0, 50.0)


def test_a_probe_queued_outside_timer_tasks_is_confirmed() -> None:
    # With task sources visited in turn, a timer queued from the script can run before
    # the chain's first task: the polyfill must not take that for an idle loop.
    page = Page(EventLoop(Policy(task_selection="round-robin")))

    def steps() -> None:
        page.post("a")
        page.chain(until=100, every=10)

    script(page, steps)
    assert page.seen("a")[0] >= 100


def test_cancelling_everything_while_probing_stops_the_probes() -> None:
    page = Page()
    page.post("a")
    page.ric.cancel_idle_callback(1)
    page.loop.run()
    assert page.log == []
    assert page.post("b") == 2  # and a later post starts them again
    page.loop.run()
    assert page.order == ["b"]


def test_many_callbacks_keep_fifo_across_periods() -> None:
    page = Page()
    labels = [f"c{i:02}" for i in range(30)]
    for label in labels:
        page.post(label, lambda d: page.loop.busy(3))
    page.loop.run()
    assert page.order == labels
    assert all(0 < remaining <= 50 for _, _, remaining, _ in page.log)


# Deadlines ----------------------------------------------------------------------------


def test_a_pending_timer_caps_the_deadline_until_its_time() -> None:
    page = Page()
    fired: list[float] = []

    def steps() -> None:
        page.host.set_timeout(lambda: fired.append(page.loop.now), 30)
        page.host.set_timeout(lambda: fired.append(page.loop.now), 20)
        page.post("a", lambda d: page.loop.busy(25))
        page.post("b")

    script(page, steps)
    assert page.seen("a") == (0.0, 20.0, False)
    assert page.seen("b") == (25.0, 5.0, False)  # the 20 ms timer fired: the 30 ms one caps
    assert fired == [25.0, 30.0]


def test_a_timer_set_inside_the_callback_lowers_time_remaining_at_once() -> None:
    page = Page()
    samples: list[float] = []

    def body(d: Any) -> None:
        samples.append(d.time_remaining())
        page.host.set_timeout(lambda: None, 10)
        samples.append(d.time_remaining())
        page.loop.busy(15)  # that timer's time has come: it caps no more
        samples.append(d.time_remaining())

    page.post("a", body)
    page.loop.run()
    assert samples == [50.0, 10.0, 35.0]


def test_a_cleared_timer_still_caps_as_in_html() -> None:
    page = Page()

    def steps() -> None:
        page.host.clear_timeout(page.host.set_timeout(lambda: None, 20))
        page.post("a")

    script(page, steps)
    assert page.seen("a")[:2] == (0.0, 20.0)


def test_a_timer_clamped_by_nesting_caps_at_four_ms() -> None:
    page = Page()
    samples: list[float] = []

    def body(d: Any) -> None:
        page.host.set_timeout(lambda: None, 0)  # nested deep enough: clamped to 4 ms
        samples.append(d.time_remaining())

    for i in range(7):
        page.post(f"c{i}", body if i == 6 else None)  # c6 runs in a deeply nested task
    page.loop.run()
    assert samples == [4.0]


def test_the_timer_wrapper_keeps_the_hosts_checks_and_errors() -> None:
    page = Page()
    with pytest.raises(TypeError):
        page.host.set_timeout(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        page.host.request_animation_frame("f")  # type: ignore[arg-type]

    def boom() -> None:
        raise ValueError("page timer")

    page.host.set_timeout(boom)
    page.post("a")
    page.loop.run()
    assert [str(e) for e in page.window.reported_errors] == ["page timer"]
    assert page.order == ["a"]


def test_a_pending_frame_caps_the_deadline_at_the_next_frame() -> None:
    page = Page()
    samples: list[float] = []

    def body(d: Any) -> None:
        page.loop.busy(5)
        samples.append(d.time_remaining())
        frame = page.host.request_animation_frame(lambda ts: None)
        samples.append(d.time_remaining())
        page.host.cancel_animation_frame(frame)
        samples.append(d.time_remaining())

    page.post("a", body)
    page.loop.run()
    assert samples == pytest.approx([45.0, 1000 / 60 - 5, 45.0])


def test_running_frames_cap_every_period_and_periods_follow_them() -> None:
    page = Page()
    frames: list[float] = []

    def frame(ts: float) -> None:
        frames.append(ts)
        if len(frames) < 4:
            page.host.request_animation_frame(frame)

    def steps() -> None:
        page.host.request_animation_frame(frame)
        page.post("a", lambda d: page.post("a2", lambda d: page.post("a3")))

    script(page, steps)
    assert frames == pytest.approx([1000 / 60 * k for k in (1, 2, 3, 4)])
    for label, start in (("a", 0.0), ("a2", 1000 / 60), ("a3", 2000 / 60)):
        at, remaining, _ = page.seen(label)
        assert at == pytest.approx(start)  # each period starts at the frame that ends the last
        assert remaining == pytest.approx(1000 / 60)


def test_frames_seen_faster_than_sixty_hertz_shorten_the_frame_cap() -> None:
    page = Page(EventLoop(refresh_rate=144))
    ts: list[float] = []

    def steps() -> None:
        page.host.request_animation_frame(ts.append)
        page.host.request_animation_frame(ts.append)  # the same frame: one timestamp

    script(page, steps)
    script(page, lambda: page.host.request_animation_frame(ts.append))
    assert ts == pytest.approx([1000 / 144] * 2 + [2000 / 144])

    def body(d: Any) -> None:
        page.host.request_animation_frame(lambda t: None)
        page.log.append(("sample", page.loop.now, d.time_remaining(), False))

    script(page, lambda: page.post("a", body))
    at = page.seen("a")[0]
    next_frame = (math.floor(at * 144 / 1000 + 1e-9) + 1) * 1000 / 144
    assert page.seen("sample")[1] == pytest.approx(next_frame - at)


def test_the_gate_waits_with_frames_and_a_timer_when_not_on_the_grid() -> None:
    page = Page()

    def steps() -> None:
        page.host.set_timeout(lambda: None, 20)  # caps the first period at 20
        page.post("a", do(lambda: page.post("c"), lambda: page.loop.busy(0.5)))

    script(page, steps)
    assert page.seen("a")[:2] == (0.0, 20.0)
    at, remaining, _ = page.seen("c")
    assert 20 <= at < 21  # a frame to 16.67, then a timer: 20.67
    assert remaining == 50.0


def test_a_period_capped_by_a_timer_gates_the_next_on_that_timer() -> None:
    page = Page()

    def steps() -> None:
        page.host.set_timeout(lambda: None, 20)
        page.post("a", lambda d: page.post("c"))

    script(page, steps)
    assert page.seen("c")[:2] == (20.0, 50.0)


# Timeouts -----------------------------------------------------------------------------


def test_a_timeout_runs_the_callback_under_a_busy_loop() -> None:
    page = Page()

    def body(d: Any) -> None:
        page.loop.busy(20)
        page.log.append(("later", page.loop.now, d.time_remaining(), d.did_timeout))

    def steps() -> None:
        page.post("a", body, {"timeout": 100})
        page.post("b", options={"timeout": 50})
        page.post("c")
        page.chain(until=300, every=10)

    script(page, steps)
    assert page.order == ["b", "a", "later", "c"]
    assert page.seen("b") == (50.0, 0.0, True)
    assert page.seen("a") == (100.0, 0.0, True)
    assert page.seen("later") == (120.0, 0.0, True)
    assert page.seen("c")[0] >= 300
    assert not page.seen("c")[2]


def test_an_idle_run_makes_the_timeout_a_no_op() -> None:
    page = Page()
    page.post("a", options={"timeout": 100})
    page.loop.run(until=500)
    assert page.log == [("a", 0.0, 50.0, False)]  # not run again at 100


def test_a_timeout_finds_a_callback_left_in_the_runnable_list() -> None:
    page = Page()
    page.post("a", do(lambda: page.loop.busy(60), lambda: page.chain(until=300, every=10)))
    page.post("b", options={"timeout": 100})
    page.loop.run()
    assert page.order == ["a", "b"]
    assert page.seen("b") == (100.0, 0.0, True)


def test_cancel_stops_both_the_idle_and_the_timeout_run() -> None:
    page = Page()

    def body(d: Any) -> None:
        page.ric.cancel_idle_callback(3)  # runnable behind b
        page.chain(until=200, every=10)  # past both timeouts

    page.post("a", options={"timeout": 50})
    page.post("b", body)
    page.post("c", options={"timeout": 100})
    page.ric.cancel_idle_callback(1)  # pending
    page.loop.run()
    assert page.order == ["b"]


def test_a_timeout_longer_than_a_long_waits_in_chunks() -> None:
    page = Page()

    def steps() -> None:
        page.post("a", options={"timeout": -1})  # 4294967295 ms
        page.post("b", options={"timeout": 2**32 - 2})
        page.chain(until=5e9, every=1e9)

    script(page, steps)
    assert page.order == ["b", "a"]
    assert page.seen("b")[0] >= 2**32 - 2
    assert page.seen("a")[0] >= 2**32 - 1
    assert page.seen("a")[2]


def test_a_timeout_in_a_window_not_fully_active_runs_first_on_return() -> None:
    loop = EventLoop()
    page = Page(loop, loop.open_window())
    page.window.fully_active = False
    page.post("a", options={"timeout": 50})
    page.post("b")
    loop.run(until=200)
    assert page.log == []
    page.window.fully_active = True
    loop.run()
    assert page.order == ["a", "b"]
    assert page.seen("a") == (200.0, 0.0, True)
    assert page.seen("b") == (200.0, 50.0, False)


# Exceptions ---------------------------------------------------------------------------


def test_exceptions_are_reported_and_the_others_still_run() -> None:
    page = Page()

    def raise_(message: str) -> Body:
        def body(d: Any) -> None:
            raise ValueError(message)

        return body

    def steps() -> None:
        page.post("a", raise_("idle"))
        page.post("b")
        page.post("t", raise_("timed out"), {"timeout": 10})
        page.chain(until=50, every=10)

    script(page, steps)
    assert [str(e) for e in page.window.reported_errors] == ["timed out", "idle"]
    assert page.order == ["t", "a", "b"]


def test_a_base_exception_is_not_swallowed() -> None:
    page = Page()

    def body(d: Any) -> None:
        raise KeyboardInterrupt

    page.post("a", body)
    with pytest.raises(KeyboardInterrupt):
        page.loop.run()


# The suite ----------------------------------------------------------------------------


def test_every_must_and_should_row_passes_or_is_a_known_impossibility() -> None:
    rows = load_rows()
    known = load_known_failures("polyfill", {row.id: row for row in rows})
    results = run_rows(rows, resolve_candidate("polyfill"))
    # Binding rows need a JS realm: the Python polyfill cannot answer them (its JS twin
    # passes them, tests/test_binding_rows.py).
    assert {r.raw_verdict for r in results if r.row.area == "binding"} == {Verdict.UNSUPPORTED}
    results = [r for r in results if r.row.area != "binding"]
    unexpected = [
        (r.row.id, r.raw_verdict, r.outcome.mismatches[:1])
        for r in results
        if r.row.level != "ref" and r.raw_verdict is not Verdict.PASS and r.row.id not in known
    ]
    stale = [r.row.id for r in results if r.row.id in known and r.raw_verdict is Verdict.PASS]
    assert unexpected == []
    assert stale == []  # a listed row that passes would be XPASS
    assert all(
        r.raw_verdict in (Verdict.PASS, Verdict.INFO) for r in results if r.row.level == "ref"
    )


def test_the_impossible_list_is_documented_row_by_row() -> None:
    import idlespec.shims.polyfill as module

    rows = load_rows()
    known = load_known_failures("polyfill", {row.id: row for row in rows})
    assert known
    doc = module.__doc__ or ""
    section = doc[doc.index("Rows no userland polyfill can pass") :]
    assert all(f"``{row_id}``" in section for row_id in known)


def test_the_polyfill_passes_every_row_the_classic_fallback_passes() -> None:
    rows = [row for row in load_rows() if row.level != "ref"]
    fallback = run_rows(rows, resolve_candidate("settimeout-shim"))
    polyfill = {r.row.id: r.raw_verdict for r in run_rows(rows, resolve_candidate("polyfill"))}
    passed_by_fallback = {r.row.id for r in fallback if r.raw_verdict is Verdict.PASS}
    assert {
        row_id for row_id in passed_by_fallback if polyfill[row_id] is not Verdict.PASS
    } == set()
    assert sum(v is Verdict.PASS for v in polyfill.values()) > len(passed_by_fallback)
