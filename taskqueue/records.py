"""What the queue keeps about its tasks, and what it reports about them."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

#: A task's handler: ``handler(data)``, or ``handler(data, parent_result)`` for a task
#: enqueued with ``after=``. It returns the result, or an :class:`~.acks.Ack`.
Handler = Callable[..., object]


class State(enum.Enum):
    """Where a task is in its life."""

    BLOCKED = "blocked"  # waiting for the task it comes after to succeed
    READY = "ready"  # in the FIFO, waiting for idle time
    WAITING = "waiting"  # failed; waiting out its backoff
    RUNNING = "running"  # its handler is running now
    IN_FLIGHT = "in-flight"  # its handler returned an Ack that has not been answered
    FANNED_OUT = "fanned-out"  # a batch, waiting for its items
    DONE = "done"
    DEAD = "dead"  # used up its attempts (or the task it came after is dead)


#: States that count as pending in :class:`Stats` (not running, not finished).
PENDING = frozenset({State.BLOCKED, State.READY, State.WAITING, State.FANNED_OUT})
#: States of a task that has not finished.
UNFINISHED = PENDING | {State.RUNNING, State.IN_FLIGHT}


@dataclass(frozen=True)
class TaskError:
    """One failed attempt.

    Attributes:
        attempt: which attempt failed (1 for the first).
        at_ms: when, in the host's time.
        error: ``"TypeName: message"``.
        exception: the exception itself (None once saved and restored).
    """

    attempt: int
    at_ms: float
    error: str
    exception: BaseException | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, attempt: int, at_ms: float, exception: BaseException) -> TaskError:
        """The record of ``exception`` ending ``attempt``."""
        return cls(attempt, at_ms, f"{type(exception).__name__}: {exception}", exception)


@dataclass(frozen=True)
class DeadLetter:
    """A task that will not run again, with every error it met.

    Attributes:
        task_id: the task's id.
        handler: the handler's registered name, if it has one.
        data: the task's data.
        key: its idempotency key.
        errors: every failed attempt, in order (a task whose parent died has one error
            naming the parent, at attempt 0).
    """

    task_id: int
    handler: str | None
    data: Any
    key: str | None
    errors: tuple[TaskError, ...]


@dataclass(eq=False)
class Task:
    """One task (or one batch) and everything the queue knows about it."""

    id: int
    handler: Handler | None  # None for a batch: its items have the handler
    data: Any
    key: str | None
    after: int | None
    enqueued_at: float
    state: State
    batch: int | None = None  # the batch this task is an item of
    attempts: int = 0
    errors: list[TaskError] = field(default_factory=list)
    result: Any = None
    parent_result: Any = None
    retry_at: float = 0.0
    items: list[int] = field(default_factory=list)  # a batch's item tasks, in order
    left: int = 0  # a batch's items not done yet

    def arguments(self) -> tuple[Any, ...]:
        """What the handler is called with."""
        return (self.data,) if self.after is None else (self.data, self.parent_result)


@dataclass
class Recurring:
    """A schedule made by :meth:`~.queue.IdleTaskQueue.every`."""

    id: int
    handler: Handler
    data: Any
    interval_ms: float
    next_at: float
    last_task: int = 0  # its latest occurrence (0: none yet)


SliceReason = Literal["idle", "timed-out", "rescue"]


@dataclass(frozen=True)
class Slice:
    """One stretch of tasks run back to back: what an idle callback (or a rescue) did.

    Attributes:
        start_ms, end_ms: the host's time when it began and ended.
        tasks: how many tasks it started.
        reason: ``"idle"`` (an idle callback with time left), ``"timed-out"`` (an idle
            callback whose timeout expired) or ``"rescue"`` (the queue's own timer: the
            candidate had not called back in ``rescue_ms``).
    """

    start_ms: float
    end_ms: float
    tasks: int
    reason: SliceReason


@dataclass(frozen=True)
class Stats:
    """The queue's counts (see :meth:`~.queue.IdleTaskQueue.stats`).

    A batch counts as one task, and each of its items as one more.

    Attributes:
        total: tasks ever enqueued.
        pending: tasks waiting (ready, blocked on a parent, in backoff, or a batch).
        in_flight: tasks running or waiting for their acknowledgement.
        done: tasks that succeeded.
        failed: failed attempts.
        retried: failed attempts that were given another one.
        dead: tasks that will not run again.
        success_rate: done / (done + dead); None before any task finished.
        mean_latency_ms: mean time from enqueue to done; None before any task was done.
        queue_length: tasks ready to run now.
        idle_callbacks: idle callbacks the queue received and ran.
        rescued: slices the queue ran from its own timer (the candidate did not call back).
        late_acks: acknowledgements that came too late to count (ignored).
    """

    total: int
    pending: int
    in_flight: int
    done: int
    failed: int
    retried: int
    dead: int
    success_rate: float | None
    mean_latency_ms: float | None
    queue_length: int
    idle_callbacks: int
    rescued: int
    late_acks: int

    def as_dict(self) -> dict[str, Any]:
        """The counts as a plain dict."""
        return asdict(self)


@dataclass(frozen=True)
class TaskInfo:
    """A snapshot of one task (see :meth:`~.queue.IdleTaskQueue.task`)."""

    id: int
    state: State
    attempts: int
    errors: tuple[TaskError, ...]
    result: Any
    key: str | None
    data: Any


#: Upper bounds of the latency histogram's buckets, ms (the Prometheus ``le`` labels).
LATENCY_BUCKETS_MS = (1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10_000.0, 60_000.0)


@dataclass
class Counters:
    """What the queue counts as it goes (saved and restored with its state)."""

    enqueued: int = 0
    done: int = 0
    dead: int = 0
    failed: int = 0
    retried: int = 0
    idle_callbacks: int = 0
    rescued: int = 0
    late_acks: int = 0
    latency_sum_ms: float = 0.0
    #: Cumulative: bucket i counts the done tasks whose latency was at most bound i.
    latency_buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS_MS))

    def note_latency(self, ms: float) -> None:
        """A task was done ``ms`` after it was enqueued."""
        self.latency_sum_ms += ms
        for index, bound in enumerate(LATENCY_BUCKETS_MS):
            if ms <= bound:
                self.latency_buckets[index] += 1
