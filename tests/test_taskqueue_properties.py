"""The queue's invariants over random workloads, failure patterns, pages and bindings.

Hypothesis draws the tasks (cost, how many attempts fail, a parent, an idempotency key, an
acknowledgement that comes in time or too late, when each is enqueued), the page (idle,
animated, busy) and the binding (the reference, the Python shims, or a flawed one). For
every draw: nothing is lost, nothing runs twice, every task ends as its failure pattern
says, chains never start before their parent succeeded, retries wait out their backoff,
and tasks that never fail keep their FIFO order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from idlespec.conformance.api import Host, HostWindow
from idlespec.reference import EventLoop, Window
from idlespec.shims.polyfill import candidate as polyfill
from idlespec.shims.settimeout import candidate as settimeout_shim
from idlespec.taskqueue import Ack, Backoff, IdleTaskQueue, State

BACKOFF = Backoff(base=20, factor=2, cap=200, max_attempts=3)
VISIBILITY_MS = 40.0


@dataclass(frozen=True)
class Spec:
    cost: float
    failures: int  # attempts that fail before one succeeds
    parent: int | None  # an earlier task's position
    key: str | None
    ack_ms: float | None  # the handler answers an Ack this late (None: returns a result)
    at: float  # when it is enqueued


specs = st.builds(
    Spec,
    cost=st.sampled_from([0.0, 0.5, 3.0, 9.0]),
    failures=st.integers(0, 3),
    parent=st.none() | st.integers(0, 30),
    key=st.none() | st.sampled_from(["a", "b"]),
    ack_ms=st.none() | st.sampled_from([5.0, 60.0, 75.0]),
    at=st.sampled_from([0.0, 0.0, 0.0, 25.0, 140.0]),
)


class _Flawed:
    """A binding over a reference window that calls back synchronously, twice, or not at all
    every other time, or hands over a deadline that cannot be read."""

    def __init__(self, window: Window, flaw: str) -> None:
        self.window, self.flaw, self.requests = window, flaw, 0

    def request_idle_callback(self, callback: Callable[..., Any], options: Any = None) -> Any:
        self.requests += 1
        if self.flaw == "synchronous":
            callback(object())
            return None
        if self.flaw == "drops" and self.requests % 2:
            return None
        if self.flaw == "twice":
            return self.window.request_idle_callback(lambda d: (callback(d), callback(d)), options)
        return self.window.set_timeout(lambda: callback(object()), 1)

    def cancel_idle_callback(self, handle: Any) -> None:
        self.window.cancel_idle_callback(handle)


def install(loop: EventLoop, binding_name: str) -> tuple[Any, Host]:
    window = loop.window
    if binding_name == "reference":
        return window, HostWindow(window)
    if binding_name == "settimeout-shim":
        return settimeout_shim.install(HostWindow(window)), HostWindow(window)
    if binding_name == "polyfill":
        binding = polyfill.install(HostWindow(window))
        return binding, binding.page
    return _Flawed(window, binding_name), HostWindow(window)


class World:
    """One draw's page, binding and queue, and what the handlers saw."""

    def __init__(self, binding_name: str) -> None:
        self.loop = EventLoop(freeze_global_clocks=False)
        binding, self.host = install(self.loop, binding_name)
        self.queue = IdleTaskQueue(
            binding, self.host, timeout=100, backoff=BACKOFF, visibility_timeout_ms=VISIBILITY_MS
        )
        self.starts: dict[int, list[float]] = {}  # task id -> when each attempt started
        self.successes: Counter[int] = Counter()
        self.enqueued: list[int] = []  # the ids enqueue returned, in the order it was called
        self.created: dict[int, Spec] = {}  # task id -> the spec whose enqueue created it
        self.parent_of: dict[int, int | None] = {}  # task id -> the task it comes after

    def handler_for(self, spec: Spec, box: list[int]) -> Callable[..., Any]:
        def handler(data: Any, parent_result: Any = None) -> Any:
            task_id = box[0]
            self.starts.setdefault(task_id, []).append(self.loop.now)
            self.loop.busy(spec.cost)
            if len(self.starts[task_id]) <= spec.failures:
                raise RuntimeError("planned failure")
            if spec.ack_ms is None:
                self.successes[task_id] += 1
                return task_id
            ack = Ack()

            def answer() -> None:
                if ack.done(task_id):
                    self.successes[task_id] += 1

            self.host.set_timeout(answer, spec.ack_ms)
            return ack

        return handler

    def enqueue(self, spec: Spec) -> None:
        box: list[int] = []
        after = None
        if spec.parent is not None and self.enqueued:
            after = self.enqueued[spec.parent % len(self.enqueued)]
        task_id = self.queue.enqueue(self.handler_for(spec, box), None, key=spec.key, after=after)
        box.append(task_id)
        if task_id not in self.created:
            self.created[task_id] = spec
            self.parent_of[task_id] = after
        self.enqueued.append(task_id)

    def enqueuer(self, batch: list[Spec]) -> Callable[[], None]:
        """A page timer's callback that enqueues ``batch``."""

        def enqueue_all() -> None:
            for spec in batch:
                self.enqueue(spec)

        return enqueue_all

    def load(self, page: str) -> None:
        """The page's own work: none, 40 frames of 8 ms, or 300 ms of 4 ms tasks."""
        loop, host = self.loop, self.host
        if page == "animated":
            frames = [0]

            def frame(timestamp: float) -> None:
                loop.busy(8.0)
                frames[0] += 1
                if frames[0] < 40:
                    host.request_animation_frame(frame)

            host.request_animation_frame(frame)
        elif page == "busy":

            def chain() -> None:
                loop.busy(4.0)
                if loop.now < 300:
                    loop.queue_task(chain)

            loop.queue_task(chain)


def check_task(world: World, task_id: int, spec: Spec) -> None:
    """One task ended as its spec says, once, after its parent, with its backoff."""
    q, starts = world.queue, world.starts
    info = q.task(task_id)
    attempts = starts.get(task_id, [])
    assert len(attempts) == info.attempts <= BACKOFF.max_attempts
    # The outcome the failure pattern decides: done iff an attempt succeeds in time.
    succeeds = spec.failures < BACKOFF.max_attempts and (
        spec.ack_ms is None or spec.ack_ms < VISIBILITY_MS
    )
    if info.state is State.DONE:
        assert world.successes[task_id] == 1
        assert succeeds
    else:
        assert info.state is State.DEAD
        assert world.successes[task_id] == 0
        # A task that would have succeeded died only with its parent.
        assert not succeeds or "ParentFailed" in info.errors[-1].error
    # Retries wait out their backoff (attempt k + 1 starts after failure k + delay k).
    for k, error in enumerate(info.errors[: len(attempts) - 1]):
        assert attempts[k + 1] >= error.at_ms + BACKOFF.delay(k + 1) - 1e-6
    # Chains: a child starts only after its parent is done; a dead parent's never runs.
    parent_id = world.parent_of[task_id]
    if parent_id is not None:
        parent = q.task(parent_id)
        if parent.state is State.DONE and attempts:
            assert attempts[0] >= max(starts[parent_id]) + world.created[parent_id].cost - 1e-6
        if parent.state is State.DEAD:
            assert info.state is State.DEAD
            assert not attempts


@settings(max_examples=120, deadline=None)
@given(
    tasks=st.lists(specs, min_size=1, max_size=20),
    page=st.sampled_from(["idle", "animated", "busy"]),
    binding_name=st.sampled_from(
        ["reference", "settimeout-shim", "polyfill", "synchronous", "drops", "twice", "unreadable"]
    ),
)
def test_the_queues_invariants_hold_for_any_workload(
    tasks: list[Spec], page: str, binding_name: str
) -> None:
    world = World(binding_name)
    world.load(page)
    for at in sorted({spec.at for spec in tasks}):
        world.host.set_timeout(world.enqueuer([s for s in tasks if s.at == at]), at)
    world.loop.run(until=20_000)

    # Nothing lost: every task finished; nothing done twice.
    assert world.queue.finished
    assert all(count == 1 for count in world.successes.values())
    for task_id, spec in world.created.items():
        check_task(world, task_id, spec)
    # FIFO: tasks that never fail, wait for no parent and answer at once start in order.
    plain = [
        task_id
        for task_id, spec in world.created.items()
        if spec.failures == 0 and spec.ack_ms is None and world.parent_of[task_id] is None
    ]
    assert all(task_id in world.starts for task_id in plain)
    first_starts = [world.starts[task_id][0] for task_id in plain]
    assert first_starts == sorted(first_starts)
