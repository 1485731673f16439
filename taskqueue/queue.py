"""The idle task queue: background work on idle time, with the guarantees of a job system.

It is built on a binding (``request_idle_callback``, ``cancel_idle_callback``) and the
host primitives ``now`` and ``set_timeout``, so it runs on every candidate a page could
have, spec-following or not. (It never needs ``clear_timeout``: a cleared timer still caps
idle deadlines on a spec-following host, so the queue never sets a timer it may have to
clear; see :mod:`.timers`.)

How it runs tasks: the MDN pattern (one idle callback at a time, with ``{timeout}``; run
tasks while ``time_remaining() > 0`` or the deadline timed out; request again while work
remains) without its flaws:

* a task that raises is recorded and retried; the queue never stalls;
* a timed-out callback runs tasks for ``timed_out_budget_ms``, not the whole queue;
* a slice always starts its first task, stops at 50 ms whatever the deadline claims, and
  survives a deadline it cannot read (:mod:`.budget`);
* a candidate that calls back synchronously, twice, or never, loses nothing: a callback
  made inside ``requestIdleCallback`` runs from a zero-delay timer instead, a second call of
  the same callback is ignored, and if no callback came ``rescue_ms`` after a request (a
  candidate that ignores the timeout, or a request that threw) the queue cancels it and
  runs a slice from its own timer.

Every task runs in FIFO order of when it became ready; no task is done twice.
"""

from __future__ import annotations

import contextlib
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from idlespec.conformance.api import Binding, Host

from .acks import Ack
from .backoff import Backoff
from .budget import SliceBudget
from .metrics import exposition
from .persistence import dump, load
from .ratelimit import RateLimit, RateWindow
from .records import (
    PENDING,
    UNFINISHED,
    Counters,
    DeadLetter,
    Handler,
    Recurring,
    Slice,
    SliceReason,
    State,
    Stats,
    Task,
    TaskError,
    TaskInfo,
)
from .timers import EPSILON, HostTimers

#: What an idle callback called with no argument at all reads as: a deadline that has
#: nothing (no time left, not timed out).
_NO_DEADLINE = object()


class VisibilityTimeout(Exception):
    """An attempt's Ack was not answered within the queue's visibility timeout."""


class ParentFailed(Exception):
    """The task this one comes after (or one item of this batch) is dead."""


class IdleTaskQueue:
    """A FIFO of tasks run on idle time, with retries, chains, batches and acknowledgements.

    Args:
        binding: ``request_idle_callback`` / ``cancel_idle_callback`` (any candidate's).
        host: the page's primitives; the queue uses ``now`` and ``set_timeout`` only.
        timeout: the ``timeout`` option of every idle request, ms (None: no option).
        backoff: how failed tasks are retried (default :class:`Backoff()`).
        rate_limit: at most so many task starts per window (None: no limit).
        visibility_timeout_ms: how long an Ack may stay unanswered before its attempt fails.
        timed_out_budget_ms: how long a timed-out idle callback may run tasks (default: one
            frame at 60 Hz).
        rescue_ms: after how long without a callback the queue runs a slice itself (default
            twice ``timeout``; None with no timeout: never).
        handlers: handlers by name: what :meth:`save` writes and :meth:`restore` reads.
        on_slice: called with a :class:`~.records.Slice` after every slice.
    """

    def __init__(
        self,
        binding: Binding,
        host: Host,
        *,
        timeout: float | None = 1000.0,
        backoff: Backoff | None = None,
        rate_limit: RateLimit | None = None,
        visibility_timeout_ms: float = 30_000.0,
        timed_out_budget_ms: float = 1000.0 / 60,
        rescue_ms: float | None = None,
        handlers: Mapping[str, Handler] | None = None,
        on_slice: Callable[[Slice], object] | None = None,
    ) -> None:
        self._binding = binding
        self._host = host
        self._timeout = timeout
        self.backoff = backoff if backoff is not None else Backoff()
        self._rng = self.backoff.generator()
        self._rate = RateWindow(rate_limit) if rate_limit is not None else None
        self._visibility_timeout_ms = visibility_timeout_ms
        self._timed_out_budget_ms = timed_out_budget_ms
        self._rescue_ms = rescue_ms if rescue_ms is not None else (2 * timeout if timeout else None)
        self._on_slice = on_slice
        self._timers = HostTimers(host)

        self._names: dict[str, Handler] = {}
        self._name_of: dict[Handler, str] = {}
        for name, handler in (handlers or {}).items():
            self.register(name, handler)

        self._tasks: dict[int, Task] = {}
        self._next_id = 1
        self._fifo: deque[int] = deque()
        self._keys: dict[str, int] = {}  # key -> its unfinished or done task
        self._dependents: dict[int, list[int]] = {}  # task -> tasks blocked until it is done
        self._dead_letters: list[DeadLetter] = []
        self._recurring: dict[int, Recurring] = {}
        self._next_schedule = 1
        self.counters = Counters()

        self._ticket = 0  # the current idle request's number; older callbacks are stale
        self._outstanding = False  # an idle request is waiting for its callback
        self._handle: Any = None
        self._requested_at = 0.0
        self._in_request = False
        self._in_slice = False
        self._rescue_armed = False
        self._rate_wake_armed = False
        self._closed = False

    # Handlers ----------------------------------------------------------------------------

    def register(self, name: str, handler: Handler) -> None:
        """Name ``handler``, so that tasks can name it and :meth:`save` can write it."""
        self._names[name] = handler
        self._name_of[handler] = name

    def name_of(self, handler: Handler | None) -> str | None:
        """The name ``handler`` was registered under, if any."""
        return None if handler is None else self._name_of.get(handler)

    def _resolve(self, handler: Handler | str) -> Handler:
        if isinstance(handler, str):
            if handler not in self._names:
                raise ValueError(f"no handler is registered as {handler!r}")
            return self._names[handler]
        if not callable(handler):
            raise TypeError(f"a handler must be callable or a registered name, not {handler!r}")
        return handler

    # Enqueueing --------------------------------------------------------------------------

    def enqueue(
        self,
        handler: Handler | str,
        data: Any = None,
        key: str | None = None,
        after: int | None = None,
    ) -> int:
        """Queue ``handler(data)``; return the task's id.

        Args:
            handler: a callable or a registered name. It returns the result, or an
                :class:`~.acks.Ack` that it answers later.
            data: its argument.
            key: an idempotency key: while a task with this key is pending, running or
                done, nothing is queued and that task's id is returned.
            after: a task id: this one runs only once that task succeeded, and is called
                ``handler(data, result)`` with its result. If it dies, so does this one.

        Raises:
            ValueError: ``handler`` names no registered handler, or ``after`` no task.
        """
        if key is not None and key in self._keys:
            return self._keys[key]
        function = self._resolve(handler)
        self._check_after(after)
        task = self._new_task(function, data, key, after)
        self._place(task)
        self._maybe_request()
        return task.id

    def enqueue_batch(
        self,
        handler: Handler | str,
        items: Iterable[Any],
        key: str | None = None,
        after: int | None = None,
    ) -> int:
        """One task that fans out into ``handler(item)`` for each item; return its id.

        The batch is done when every item is, with the list of their results in item
        order; it is dead as soon as one item is dead. ``key`` and ``after`` are as for
        :meth:`enqueue` (with ``after``, every item is called ``handler(item, result)``).

        Raises:
            ValueError: no items, an unknown handler name or an unknown ``after``.
        """
        if key is not None and key in self._keys:
            return self._keys[key]
        function = self._resolve(handler)
        values = list(items)
        if not values:
            raise ValueError("a batch needs at least one item")
        self._check_after(after)
        batch = self._new_task(function, values, key, after)
        batch.state = State.FANNED_OUT
        batch.left = len(values)
        for value in values:
            item = self._new_task(function, value, None, after, batch=batch.id)
            batch.items.append(item.id)
        for item_id in list(batch.items):
            self._place(self._tasks[item_id])
        self._maybe_request()
        return batch.id

    def every(self, interval_ms: float, handler: Handler | str, data: Any = None) -> int:
        """Queue ``handler(data)`` every ``interval_ms`` ms; return the schedule's id.

        The first occurrence is one interval from now; each runs on idle time like any task.

        An occurrence is skipped while the previous one has not finished, and occurrences
        missed while the page was busy are not made up.
        """
        if not (math.isfinite(interval_ms) and interval_ms > 0):
            raise ValueError("interval_ms must be a positive number of ms")
        function = self._resolve(handler)
        schedule = Recurring(
            self._next_schedule, function, data, interval_ms, self._host.now() + interval_ms
        )
        self._next_schedule += 1
        self._recurring[schedule.id] = schedule
        self._schedule_occurrence(schedule)
        return schedule.id

    def cancel_recurring(self, schedule_id: int) -> None:
        """Stop a schedule made by :meth:`every` (occurrences already queued still run)."""
        self._recurring.pop(schedule_id, None)

    def close(self) -> None:
        """Stop: cancel the idle request and every schedule; request nothing more.

        Tasks stay where they are (:meth:`save` still writes them).
        """
        self._closed = True
        self._recurring.clear()
        if self._outstanding:
            self._outstanding = False
            self._ticket += 1
            self._cancel_request()

    # Reading -----------------------------------------------------------------------------

    def stats(self) -> Stats:
        """The queue's counts now."""
        counters = self.counters
        states = [task.state for task in self._tasks.values()]
        finished = counters.done + counters.dead
        return Stats(
            total=counters.enqueued,
            pending=sum(state in PENDING for state in states),
            in_flight=sum(state in (State.RUNNING, State.IN_FLIGHT) for state in states),
            done=counters.done,
            failed=counters.failed,
            retried=counters.retried,
            dead=counters.dead,
            success_rate=counters.done / finished if finished else None,
            mean_latency_ms=counters.latency_sum_ms / counters.done if counters.done else None,
            queue_length=len(self._fifo),
            idle_callbacks=counters.idle_callbacks,
            rescued=counters.rescued,
            late_acks=counters.late_acks,
        )

    @property
    def dead_letters(self) -> tuple[DeadLetter, ...]:
        """Tasks that will not run again, oldest death first, with every error."""
        return tuple(self._dead_letters)

    def task(self, task_id: int) -> TaskInfo:
        """A snapshot of one task.

        Raises:
            KeyError: no such task.
        """
        task = self._tasks[task_id]
        return TaskInfo(
            task.id, task.state, task.attempts, tuple(task.errors), task.result, task.key, task.data
        )

    @property
    def finished(self) -> bool:
        """Whether no task is pending, running or in flight."""
        return not any(task.state in UNFINISHED for task in self._tasks.values())

    def metrics(self, prefix: str = "idle_task_queue") -> str:
        """The queue's metrics in the Prometheus text exposition format (:mod:`.metrics`)."""
        return exposition(self, prefix)

    def save(self) -> dict[str, Any]:
        """The queue's state as JSON-ready data (see :mod:`.persistence`)."""
        return dump(self)

    def restore(self, state: Mapping[str, Any]) -> None:
        """Take over a state written by :meth:`save` (on a new page: nothing is lost).

        Raises:
            ValueError: this queue has tasks already, the state is not one :meth:`save`
                wrote, or it names handlers that are not registered here.
        """
        load(self, state)
        self._maybe_request()

    # Tasks -------------------------------------------------------------------------------

    def _check_after(self, after: int | None) -> None:
        if after is not None and after not in self._tasks:
            raise ValueError(f"after={after}: no such task")

    def _new_task(
        self,
        handler: Handler,
        data: Any,
        key: str | None,
        after: int | None,
        batch: int | None = None,
    ) -> Task:
        task = Task(
            self._next_id, handler, data, key, after, self._host.now(), State.BLOCKED, batch
        )
        self._next_id += 1
        self._tasks[task.id] = task
        self.counters.enqueued += 1
        if key is not None:
            self._keys[key] = task.id
        return task

    def _place(self, task: Task) -> None:
        """A new task: ready, blocked on its parent, or dead with it."""
        parent = self._tasks[task.after] if task.after is not None else None
        if parent is None:
            self._ready(task)
        elif parent.state is State.DONE:
            task.parent_result = parent.result
            self._ready(task)
        elif parent.state is State.DEAD:
            self._kill(task, self._parent_failed(task, parent))
        else:
            self._dependents.setdefault(parent.id, []).append(task.id)

    def _ready(self, task: Task) -> None:
        task.state = State.READY
        self._fifo.append(task.id)

    def _run(self, task: Task) -> None:
        task.state = State.RUNNING
        task.attempts += 1
        if self._rate is not None:
            self._rate.note(self._host.now())
        assert task.handler is not None  # only a restored done task has none
        try:
            result = task.handler(*task.arguments())
        except Exception as error:  # a handler may raise anything: recorded, retried
            self._failed(task, error)
            return
        if isinstance(result, Ack):
            self._in_flight(task, result)
        else:
            self._succeeded(task, result)

    def _succeeded(self, task: Task, result: Any) -> None:
        task.state = State.DONE
        task.result = result
        self.counters.done += 1
        self.counters.note_latency(self._host.now() - task.enqueued_at)
        if task.batch is not None:
            batch = self._tasks[task.batch]
            if batch.state is State.FANNED_OUT:
                batch.left -= 1
                if batch.left == 0:
                    self._succeeded(batch, [self._tasks[i].result for i in batch.items])
        for child_id in self._dependents.pop(task.id, []):
            child = self._tasks[child_id]
            child.parent_result = result
            self._ready(child)

    def _failed(self, task: Task, error: BaseException) -> None:
        now = self._host.now()
        task.errors.append(TaskError.of(task.attempts, now, error))
        self.counters.failed += 1
        if task.attempts >= self.backoff.max_attempts:
            self._kill(task)
            return
        self.counters.retried += 1
        task.state = State.WAITING
        task.retry_at = now + self.backoff.delay(task.attempts, self._rng)
        self._timers.at(task.retry_at, lambda: self._retry_due(task))

    def _retry_due(self, task: Task) -> None:
        self._ready(task)
        self._maybe_request()

    def _kill(self, task: Task, error: TaskError | None = None) -> None:
        if error is not None:
            task.errors.append(error)
        task.state = State.DEAD
        self.counters.dead += 1
        if task.key is not None:
            del self._keys[task.key]  # a dead task's key may be used again
        self._dead_letters.append(
            DeadLetter(task.id, self.name_of(task.handler), task.data, task.key, tuple(task.errors))
        )
        if task.batch is not None and self._tasks[task.batch].state is State.FANNED_OUT:
            batch = self._tasks[task.batch]
            self._kill(batch, self._parent_failed(batch, task, "item"))
        for child_id in self._dependents.pop(task.id, []):
            child = self._tasks[child_id]
            self._kill(child, self._parent_failed(child, task))

    def _parent_failed(
        self, task: Task, dead: Task, what: str = "task it comes after"
    ) -> TaskError:
        return TaskError.of(
            task.attempts, self._host.now(), ParentFailed(f"its {what}, task {dead.id}, is dead")
        )

    # Acknowledgements --------------------------------------------------------------------

    def _in_flight(self, task: Task, ack: Ack) -> None:
        try:
            answer = ack._bind(self, task.id, task.attempts)
        except ValueError as error:
            self._failed(task, error)
            return
        task.state = State.IN_FLIGHT
        if answer is not None:
            self._settle(task, *answer)
            return
        attempt = task.attempts
        self._timers.at(
            self._host.now() + self._visibility_timeout_ms,
            lambda: self._visibility_expired(task, attempt),
        )

    def _visibility_expired(self, task: Task, attempt: int) -> None:
        if task.state is State.IN_FLIGHT and task.attempts == attempt:
            ms = self._visibility_timeout_ms
            self._failed(task, VisibilityTimeout(f"not acknowledged within {ms:g} ms"))
            self._maybe_request()

    def _acknowledged(
        self, task_id: int, attempt: int, error: BaseException | None, result: Any
    ) -> bool:
        """An Ack's answer: it counts only for its own attempt, while that is in flight."""
        task = self._tasks[task_id]
        if task.state is not State.IN_FLIGHT or task.attempts != attempt:
            self.counters.late_acks += 1
            return False
        self._settle(task, error, result)
        self._maybe_request()
        return True

    def _settle(self, task: Task, error: BaseException | None, result: Any) -> None:
        if error is None:
            self._succeeded(task, result)
        else:
            self._failed(task, error)

    # Recurring tasks ---------------------------------------------------------------------

    def _schedule_occurrence(self, schedule: Recurring) -> None:
        self._timers.at(schedule.next_at, lambda: self._occur(schedule.id))

    def _occur(self, schedule_id: int) -> None:
        schedule = self._recurring.get(schedule_id)
        if schedule is None:
            return  # cancelled
        previous = self._tasks.get(schedule.last_task)
        if previous is None or previous.state not in UNFINISHED:
            schedule.last_task = self.enqueue(schedule.handler, schedule.data)
        # The next occurrence is the first one after now: busy stretches are not made up.
        now, interval = self._host.now(), schedule.interval_ms
        schedule.next_at += interval * (math.floor((now - schedule.next_at) / interval) + 1)
        self._schedule_occurrence(schedule)

    # Idle callbacks ----------------------------------------------------------------------

    def _maybe_request(self) -> None:
        """Request an idle callback if work is ready and none is requested."""
        if self._closed or self._outstanding or self._in_slice or not self._fifo:
            return
        if self._rate_blocked():
            return
        self._ticket += 1
        ticket = self._ticket
        self._outstanding = True
        self._requested_at = self._host.now()

        def callback(*args: Any) -> None:
            self._on_idle(ticket, args[0] if args else _NO_DEADLINE)

        self._in_request = True
        try:
            if self._timeout:
                self._handle = self._binding.request_idle_callback(
                    callback, {"timeout": self._timeout}
                )
            else:
                self._handle = self._binding.request_idle_callback(callback)
        except Exception:  # a broken binding: the rescue timer runs the work instead
            self._handle = None
        finally:
            self._in_request = False
        self._arm_rescue()

    def _cancel_request(self) -> None:
        # A binding without a working cancel is no harm: the ticket is stale anyway.
        with contextlib.suppress(Exception):
            self._binding.cancel_idle_callback(self._handle)

    def _on_idle(self, ticket: int, deadline: object) -> None:
        if ticket != self._ticket or not self._outstanding:
            return  # a stale or second call: that request was served, rescued or cancelled
        if self._in_request:
            # Called back inside requestIdleCallback itself: run from a task instead, so
            # that a slice never runs inside the previous one's request.
            self._timers.at(self._host.now(), lambda: self._on_idle(ticket, deadline))
            return
        self._outstanding = False
        self.counters.idle_callbacks += 1
        self._slice(deadline)

    def _arm_rescue(self) -> None:
        if self._rescue_ms is None or self._rescue_armed:
            return
        self._rescue_armed = True
        self._timers.at(self._requested_at + self._rescue_ms, self._rescue_check)

    def _rescue_check(self) -> None:
        self._rescue_armed = False
        if not self._outstanding:
            return
        assert self._rescue_ms is not None  # armed only with a rescue time
        if self._host.now() + EPSILON < self._requested_at + self._rescue_ms:
            self._arm_rescue()  # a newer request: wait for its own rescue time
            return
        self._outstanding = False
        self._ticket += 1
        self._cancel_request()
        self.counters.rescued += 1
        self._slice(None)

    def _slice(self, deadline: object | None) -> None:
        """Run ready tasks while the deadline allows (None: a rescue, on the queue's budget)."""
        budget = SliceBudget(self._host.now, deadline, self._timed_out_budget_ms)
        started = 0
        self._in_slice = True
        try:
            while (
                self._fifo
                and not self._closed
                and (started == 0 or budget.allows_another())
                and not self._rate_blocked()
            ):
                self._run(self._tasks[self._fifo.popleft()])
                started += 1
        finally:
            self._in_slice = False
        if self._on_slice is not None:
            reason: SliceReason = (
                "rescue" if deadline is None else "timed-out" if budget.timed_out else "idle"
            )
            self._on_slice(Slice(budget.start, self._host.now(), started, reason))
        self._maybe_request()

    def _rate_blocked(self) -> bool:
        """Whether the rate limit forbids a start now (then a timer wakes the queue)."""
        if self._rate is None:
            return False
        free_at = self._rate.free_at(self._host.now())
        if free_at is None:
            return False
        if not self._rate_wake_armed:
            self._rate_wake_armed = True
            self._timers.at(free_at, self._rate_wake)
        return True

    def _rate_wake(self) -> None:
        self._rate_wake_armed = False
        self._maybe_request()
