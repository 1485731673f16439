"""The idle task queue on every built-in candidate a page can host, and the committed
workload report's rows recomputed on each (the JS ones over the Node bridge: marked engines).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from engines import require_node

from idlespec.conformance.api import CandidateBase, Host, HostWindow
from idlespec.conformance.candidates import builtin_candidates, resolve_candidate
from idlespec.reference import Window
from idlespec.reference.freeze import EPOCH
from idlespec.shims.settimeout import SetTimeoutShim
from idlespec.taskqueue import Ack, Backoff, IdleTaskQueue, State
from idlespec.taskqueue.hosts import (
    ABSENT_REASON,
    SELF_HOSTED_REASON,
    HostedCandidate,
    Page,
    Unhostable,
    builtin_hosting,
)
from idlespec.taskqueue.workload import REPORT_DIR, run_hosted

ROOT = Path(__file__).resolve().parents[1]
HOSTABLE, EXCLUDED = builtin_hosting()
IN_PROCESS = {
    name: bool(getattr(factory(), "in_process", True)) for name, factory in HOSTABLE.items()
}


CANDIDATES = [
    pytest.param(name, id=name, marks=() if IN_PROCESS[name] else (pytest.mark.engines,))
    for name in HOSTABLE
]


@pytest.fixture(scope="module", params=CANDIDATES)
def hosted(request: pytest.FixtureRequest) -> Iterator[HostedCandidate]:
    """Each candidate, opened once for this module's tests (a JS one starts Node once)."""
    name: str = request.param
    if not IN_PROCESS[name]:
        require_node()
    with HostedCandidate(HOSTABLE[name]()) as candidate:
        yield candidate


def animate(page: Page, frame_ms: float, frames: int) -> list[tuple[float, float]]:
    """The page's rAF loop (through the page's own host): (vsync, end) of each frame."""
    seen: list[tuple[float, float]] = []

    def frame(timestamp: float) -> None:
        page.loop.busy(frame_ms)
        seen.append((float(timestamp), page.loop.now))
        if len(seen) < frames:
            page.host.request_animation_frame(on_frame)

    on_frame: Callable[[float], None] = frame
    page.host.request_animation_frame(on_frame)
    return seen


# Which candidates, and why not the others ------------------------------------------------


def test_exactly_the_self_hosted_candidates_are_excluded_and_why() -> None:
    assert set(HOSTABLE) | set(EXCLUDED) == set(builtin_candidates())
    excluded = builtin_hosting()[1]
    assert excluded == {
        "npm:@sinonjs/fake-timers@15.5.0": SELF_HOSTED_REASON,
        "npm:lolex@6.0.0": SELF_HOSTED_REASON,
        "npm:jsdom@29.1.1": f"{SELF_HOSTED_REASON}; besides, {ABSENT_REASON}",
        "npm:happy-dom@21.0.4": f"{SELF_HOSTED_REASON}; besides, {ABSENT_REASON}",
    }
    assert {name for name in EXCLUDED if builtin_candidates()[name]().kind == "self-hosted"} == set(
        EXCLUDED
    )
    assert {HOSTABLE[name]().kind for name in HOSTABLE} == {"native", "userland"}
    with pytest.raises(Unhostable, match=r"npm:lolex@6.0.0: self-hosted"):
        HostedCandidate(resolve_candidate("npm:lolex@6.0.0"))


class _Counting(CandidateBase):
    """A userland candidate that counts its lifecycle calls."""

    name = "counting"
    version = "1"
    kind: Literal["userland"] = "userland"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def install(self, host: Host) -> Any:
        self.calls.append("install")
        return SetTimeoutShim().install(host)

    def open(self) -> None:
        self.calls.append("open")

    def reset(self) -> None:
        self.calls.append("reset")

    def close(self) -> None:
        self.calls.append("close")


def test_a_hosted_candidate_is_opened_once_reset_after_each_page_and_closed() -> None:
    candidate = _Counting()
    with HostedCandidate(candidate) as hosted:
        for _ in range(2):
            with hosted.page() as page:
                assert isinstance(page.host, HostWindow)  # the shim has no page host
                assert page.window is page.loop.window
    assert candidate.calls == ["open", "install", "reset", "install", "reset", "close"]


def test_a_page_uses_the_bindings_page_host_and_freezes_clocks_for_python_candidates() -> None:
    with HostedCandidate(resolve_candidate("polyfill")) as hosted, hosted.page() as page:
        assert page.host is page.binding.page  # type: ignore[attr-defined]
        page.loop.run(until=1234.0)
        assert dt.datetime.now(dt.timezone.utc) == EPOCH + dt.timedelta(milliseconds=1234)
    with HostedCandidate(resolve_candidate("reference")) as hosted:
        with hosted.page() as page:
            assert isinstance(page.binding, Window)
        with hosted.page(freeze_global_clocks=False):
            assert dt.datetime.now(dt.timezone.utc).year > 2000


# The queue's promises, on every candidate ------------------------------------------------


def test_the_queue_keeps_its_promises(hosted: HostedCandidate) -> None:
    """A mixed workload on a 60 Hz page: FIFO, retries, a chain, a batch, an acknowledged
    task; every task done exactly once, nothing lost, the chain after its parent."""
    with hosted.page() as page:
        loop = page.loop
        q = IdleTaskQueue(page.binding, page.host, timeout=200, backoff=Backoff(base=20))
        runs: list[tuple[str, float]] = []
        successes: Counter[str] = Counter()
        failures = Counter[str]()

        def work(data: str, parent: Any = None) -> str:
            runs.append((data, loop.now))
            loop.busy(2.0)
            if data.startswith("flaky") and failures[data] < 2:
                failures[data] += 1
                raise RuntimeError("transient")
            successes[data] += 1
            return data if parent is None else f"{data}<-{parent}"

        def later(data: str) -> Ack:
            ack = Ack()
            page.host.set_timeout(lambda: ack.done(data), 30)
            return ack

        frames = animate(page, 4.0, 90)
        plain = [f"t{i}" for i in range(20)]

        def script() -> None:
            for name in plain[:10]:
                q.enqueue(work, name)
            parent = q.enqueue(work, "flaky-parent")
            q.enqueue(work, "child", after=parent)
            q.enqueue_batch(work, ["b1", "flaky-b2", "b3"])
            q.enqueue(later, "acked")
            for name in plain[10:]:
                q.enqueue(work, name)

        page.host.queue_task(script)
        loop.run(until=3000)
        assert q.finished
        stats = q.stats()
        assert (stats.done, stats.dead, stats.pending) == (27, 0, 0)
        assert stats.failed == stats.retried == 4
        assert max(successes.values()) == 1
        assert set(successes) == {*plain, "flaky-parent", "child", "b1", "flaky-b2", "b3"}
        assert [name for name, _ in runs if name in plain] == plain  # FIFO
        child_start = next(t for name, t in runs if name == "child")
        parent_done = max(t for name, t in runs if name == "flaky-parent") + 2.0
        assert child_start >= parent_done
        assert frames  # the page animated meanwhile


def test_fifo_under_tight_deadlines(hosted: HostedCandidate) -> None:
    """Frames of 12 ms leave little idle time: tasks still run once each, in order."""
    with hosted.page() as page:
        q = IdleTaskQueue(page.binding, page.host, timeout=100)
        order: list[int] = []

        def work(index: int) -> None:
            order.append(index)
            page.loop.busy(1.5)

        animate(page, 12.0, 120)
        page.host.queue_task(lambda: [q.enqueue(work, i) for i in range(40)])
        page.loop.run(until=2500)
        assert order == list(range(40))
        assert q.finished


def test_a_reloaded_page_loses_nothing(hosted: HostedCandidate) -> None:
    done: Counter[int] = Counter()
    pages: list[Page] = []

    def work(index: int) -> None:
        pages[-1].loop.busy(1.0)
        done[index] += 1

    with hosted.page() as first:
        pages.append(first)
        q = IdleTaskQueue(first.binding, first.host, handlers={"work": work})
        animate(first, 14.0, 10)  # about 2.7 ms of idle time per frame: a few tasks each
        for i in range(200):
            q.enqueue("work", i, key=f"k{i}")
        first.loop.run(until=100)
        state = json.loads(json.dumps(q.save()))
        q.close()
    assert 0 < sum(done.values()) < 200  # saved in the middle of the work
    with hosted.page() as second:
        pages.append(second)
        restored = IdleTaskQueue(second.binding, second.host, handlers={"work": work})
        restored.restore(state)
        assert restored.enqueue("work", 0, key="k0") == 1  # done before the reload
        second.loop.run(until=10_000)
        assert restored.finished
    assert done == Counter(dict.fromkeys(range(200), 1))
    assert restored.task(200).state is State.DONE


# The committed workload report, row by row ----------------------------------------------


def test_the_committed_report_row_is_current(hosted: HostedCandidate) -> None:
    """Rerunning the workload on the candidate gives its committed row, byte for byte."""
    committed = json.loads((ROOT / REPORT_DIR / "workload.json").read_text(encoding="utf-8"))
    (row,) = [r for r in committed["candidates"] if r["candidate"] == hosted.candidate.name]
    assert json.loads(json.dumps(run_hosted(hosted))) == row
