"""Shared helpers for the reference's tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from idlespec.reference import EventLoop, IdleDeadline

#: The plugin tests drive pytest in a subprocess; only this suite needs it, not a
#: ``pytest --candidate`` run (loading it there cost about a quarter of that run).
pytest_plugins = ("pytester",)


class Recorder:
    """Collects what callbacks saw: (label, virtual time, time_remaining, did_timeout)."""

    def __init__(self, loop: EventLoop) -> None:
        self.loop = loop
        self.calls: list[tuple[str, float, float, bool]] = []
        self.deadlines: dict[str, IdleDeadline] = {}

    def idle(
        self, label: str, body: Callable[[IdleDeadline], Any] | None = None
    ) -> Callable[[IdleDeadline], None]:
        def callback(deadline: IdleDeadline) -> None:
            self.deadlines[label] = deadline
            self.calls.append(
                (label, self.loop.now, deadline.time_remaining(), deadline.did_timeout)
            )
            if body is not None:
                body(deadline)

        return callback

    @property
    def order(self) -> list[str]:
        return [label for label, *_ in self.calls]

    def call(self, label: str) -> tuple[str, float, float, bool]:
        (found,) = [c for c in self.calls if c[0] == label]
        return found


@pytest.fixture
def loop() -> EventLoop:
    return EventLoop()


@pytest.fixture
def rec(loop: EventLoop) -> Recorder:
    return Recorder(loop)


def busy_chain(loop: EventLoop, until: float, step: float = 1.0) -> None:
    """Keep the loop busy with back-to-back tasks of ``step`` ms until virtual ``until``."""

    def task() -> None:
        loop.busy(step)
        if loop.now < until:
            loop.queue_task(task)

    loop.queue_task(task)


@pytest.fixture(autouse=True)
def _no_hypothesis_gc_callback() -> Any:
    """Hypothesis leaves a garbage-collector callback behind after find(): a watchdog signal
    that lands in it is swallowed. Each test starts and ends without it."""
    import gc

    def strip() -> None:
        gc.callbacks[:] = [
            cb for cb in gc.callbacks if "hypothesis" not in getattr(cb, "__module__", "")
        ]

    strip()
    yield
    strip()
