"""A guided tour of the reference: a few spec behaviours, each run and observed.

Every "observed" value is read from a run of the reference; nothing is printed from a table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from idlespec.reference import EventLoop, IdleDeadline


@dataclass(frozen=True)
class Scenario:
    """One demonstrated behaviour: what the spec says and a run that shows it."""

    title: str
    spec: str
    says: str
    run: Callable[[], str]


def _fmt(value: float) -> str:
    return f"{value:g}"


def _busy_until(loop: EventLoop, until: float) -> None:
    def task() -> None:
        loop.busy(10)
        if loop.now < until:
            loop.queue_task(task)

    loop.queue_task(task)


def _first_callback() -> str:
    loop = EventLoop()
    seen: list[str] = []
    loop.window.request_idle_callback(
        lambda d: seen.append(f"at {_fmt(loop.now)} ms, timeRemaining {_fmt(d.time_remaining())}")
    )
    loop.run()
    return seen[0]


def _timer_cap() -> str:
    loop = EventLoop()
    seen: list[str] = []
    loop.window.set_timeout(lambda: None, 20)
    loop.window.request_idle_callback(lambda d: seen.append(_fmt(d.time_remaining())))
    loop.run()
    return f"timeRemaining {seen[0]}"


def _live_deadline() -> str:
    loop = EventLoop()
    seen: list[str] = []

    def body(deadline: IdleDeadline) -> None:
        seen.append(_fmt(deadline.time_remaining()))
        loop.window.set_timeout(lambda: None, 10)
        seen.append(_fmt(deadline.time_remaining()))

    loop.window.request_idle_callback(body)
    loop.run()
    return " -> ".join(seen)


def _later_period() -> str:
    loop = EventLoop()
    seen: list[str] = []
    w = loop.window

    def record(label: str) -> Callable[[IdleDeadline], None]:
        return lambda d: seen.append(f"{label}@{_fmt(loop.now)}")

    def a(deadline: IdleDeadline) -> None:
        record("A")(deadline)
        w.request_idle_callback(record("C"))

    w.request_idle_callback(a)
    w.request_idle_callback(record("B"))
    loop.run()
    return ", ".join(seen)


def _timeout_when_busy() -> str:
    loop = EventLoop()
    seen: list[str] = []
    _busy_until(loop, 300)
    loop.window.request_idle_callback(
        lambda d: seen.append(
            f"at {_fmt(loop.now)} ms, didTimeout {d.did_timeout}, "
            f"timeRemaining {_fmt(d.time_remaining())}"
        ),
        {"timeout": 100},
    )
    loop.run()
    return seen[0]


def _expiry_order() -> str:
    loop = EventLoop()
    seen: list[str] = []
    w = loop.window
    _busy_until(loop, 300)

    def post(label: str, timeout: int) -> Callable[[], object]:
        return lambda: w.request_idle_callback(
            lambda d: seen.append(f"{label}@{_fmt(loop.now)}"), {"timeout": timeout}
        )

    post("A", 100)()
    w.set_timeout(post("B", 60), 30)
    post("C", 50)()
    loop.run()
    return ", ".join(seen)


def _exception() -> str:
    loop = EventLoop()
    seen: list[str] = []

    def fail(deadline: IdleDeadline) -> None:
        raise ValueError("boom")

    loop.window.request_idle_callback(fail)
    loop.window.request_idle_callback(lambda d: seen.append("B ran"))
    loop.run()
    errors = ", ".join(repr(e) for e in loop.window.reported_errors)
    return f"reported [{errors}]; {seen[0]}"


SCENARIOS = [
    Scenario(
        "first callback on a quiet loop",
        "HTML #event-loop-processing-model 5.2.1",
        "timeRemaining() is 50",
        _first_callback,
    ),
    Scenario(
        "a pending 20 ms timer",
        "HTML 5.2.3.2",
        "the deadline is the timer's expiry: 20",
        _timer_cap,
    ),
    Scenario(
        "setTimeout(10) inside the callback",
        "rIC #the-idledeadline-interface step 2",
        "timeRemaining() drops to 10 at once",
        _live_deadline,
    ),
    Scenario(
        "A posts C; B was posted before",
        "rIC #start-an-idle-period-algorithm steps 2-5",
        "A, B now; C in a later period",
        _later_period,
    ),
    Scenario(
        "timeout 100 while tasks run until 300",
        "rIC #invoke-idle-callback-timeout-algorithm",
        "runs at 100, didTimeout true, timeRemaining 0",
        _timeout_when_busy,
    ),
    Scenario(
        "timeouts 100 (at 0), 60 (at 30), 50 (at 0)",
        "rIC #the-requestidlecallback-method step 6.2",
        "expiry order: C@50, B@90, A@100",
        _expiry_order,
    ),
    Scenario(
        "A throws",
        "rIC #invoke-idle-callbacks-algorithm step 3.3",
        "the exception is reported; B still runs",
        _exception,
    ),
]


def run_demo(write: Callable[[str], object] = print) -> int:
    """Run every scenario on the reference and write what the spec says and what ran."""
    for scenario in SCENARIOS:
        write(f"* {scenario.title}  [{scenario.spec}]")
        write(f"    spec says: {scenario.says}")
        write(f"    observed:  {scenario.run()}")
    return 0
