"""Saving a queue's state and restoring it on another page: a reload loses nothing.

The state is JSON-ready data: every unfinished task (its data as JSON, its handler by
registered name), the results of the finished tasks that an unfinished one still needs (a
parent's, a batch item's), the idempotency keys of every unfinished or done task, the
dead letters, the recurring schedules and the counters. Times are saved relative to the
moment of saving (a task's age, the time left of its backoff, of a schedule, of the rate
window), since a new page's clock starts again at 0; error times stay in the saving page's
clock.

A task that was in flight (its Ack unanswered) is saved as ready and its attempt is given
back: the page that would have answered it is gone.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .records import Counters, DeadLetter, Recurring, State, Task, TaskError

if TYPE_CHECKING:
    from .queue import IdleTaskQueue

#: The ``format`` of a saved state.
FORMAT = "idlespec.taskqueue/1"

# Unfinished states as saved: running and in-flight tasks are saved as ready.
_SAVED_AS = {
    State.BLOCKED: "blocked",
    State.READY: "ready",
    State.WAITING: "waiting",
    State.FANNED_OUT: "fanned-out",
    State.RUNNING: "ready",
    State.IN_FLIGHT: "ready",
}
_LOADED_AS = {
    "blocked": State.BLOCKED,
    "ready": State.READY,
    "waiting": State.WAITING,
    "fanned-out": State.FANNED_OUT,
}


def _json(value: Any, what: str) -> Any:
    """``value`` itself, once checked to be JSON (no NaN or infinity either)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} is not JSON ({error}): the state cannot be saved") from None
    return value


def _errors(errors: list[TaskError] | tuple[TaskError, ...]) -> list[dict[str, Any]]:
    return [{"attempt": e.attempt, "at_ms": e.at_ms, "error": e.error} for e in errors]


def _loaded_errors(saved: list[Mapping[str, Any]]) -> list[TaskError]:
    return [TaskError(int(e["attempt"]), float(e["at_ms"]), str(e["error"])) for e in saved]


def dump(queue: IdleTaskQueue) -> dict[str, Any]:
    """The state of ``queue`` (see the module docstring).

    Raises:
        ValueError: an unfinished task's handler is not registered.
        TypeError: something saved is not JSON.
    """
    # The queue's own bookkeeping, read by its own package.
    now = queue._host.now()
    tasks = queue._tasks
    unfinished = [t for t in tasks.values() if t.state in _SAVED_AS]
    in_flight = [t.id for t in unfinished if t.state in (State.RUNNING, State.IN_FLIGHT)]
    needed: set[int] = set()
    saved_tasks = []
    for task in unfinished:
        name = queue.name_of(task.handler)
        if name is None:
            raise ValueError(
                f"task {task.id}'s handler {task.handler!r} is not registered: register it "
                "(IdleTaskQueue.register) so that a restored page can call it"
            )
        returned = task.state in (State.RUNNING, State.IN_FLIGHT)
        entry: dict[str, Any] = {
            "id": task.id,
            "handler": name,
            "data": _json(task.data, f"task {task.id}'s data"),
            "key": task.key,
            "after": task.after,
            "batch": task.batch,
            "state": _SAVED_AS[task.state],
            "attempts": task.attempts - 1 if returned else task.attempts,
            "errors": _errors(task.errors),
            "age_ms": now - task.enqueued_at,
        }
        if task.state is State.WAITING:
            entry["retry_in_ms"] = max(0.0, task.retry_at - now)
        if task.after is not None and task.state is not State.BLOCKED:
            entry["parent_result"] = _json(task.parent_result, f"task {task.id}'s parent's result")
        if task.items:
            entry["items"] = list(task.items)
            entry["left"] = task.left
            needed.update(i for i in task.items if tasks[i].state is State.DONE)
        if task.state is State.BLOCKED:
            assert task.after is not None  # only a task with a parent is blocked
            needed.add(task.after)
        saved_tasks.append(entry)
    done = {
        str(i): {"result": _json(tasks[i].result, f"task {i}'s result")}
        for i in sorted(i for i in needed if tasks[i].state is State.DONE)
    }
    return {
        "format": FORMAT,
        "next_id": queue._next_id,
        "next_schedule": queue._next_schedule,
        "tasks": saved_tasks,
        "fifo": [*queue._fifo, *in_flight],
        "done": done,
        "keys": dict(queue._keys),
        "dead_letters": [
            {
                "task_id": d.task_id,
                "handler": d.handler,
                "data": _json(d.data, f"dead letter {d.task_id}'s data"),
                "key": d.key,
                "errors": _errors(d.errors),
            }
            for d in queue._dead_letters
        ],
        "recurring": [
            {
                "id": r.id,
                "handler": _registered(queue, r.handler, f"schedule {r.id}"),
                "data": _json(r.data, f"schedule {r.id}'s data"),
                "interval_ms": r.interval_ms,
                "next_in_ms": max(0.0, r.next_at - now),
                "last_task": r.last_task,
            }
            for r in queue._recurring.values()
        ],
        "rate_window_ago_ms": [] if queue._rate is None else [now - t for t in queue._rate.starts],
        "counters": asdict(queue.counters),
    }


def _registered(queue: IdleTaskQueue, handler: Any, what: str) -> str:
    name = queue.name_of(handler)
    if name is None:
        raise ValueError(f"{what}'s handler {handler!r} is not registered")
    return name


def load(queue: IdleTaskQueue, state: Mapping[str, Any]) -> None:
    """Give ``queue`` (new, with the same handlers registered) the saved ``state``.

    Raises:
        ValueError: ``queue`` has tasks already, ``state`` is not a saved state, or it
            names handlers that are not registered.
    """
    if queue._tasks or queue._next_id != 1:
        raise ValueError("restore() needs a new queue: this one has tasks already")
    if not isinstance(state, Mapping) or state.get("format") != FORMAT:
        raise ValueError(f"not a saved queue state (no format {FORMAT!r})")
    names = {t["handler"] for t in state["tasks"]} | {r["handler"] for r in state["recurring"]}
    missing = sorted(names - set(queue._names))
    if missing:
        raise ValueError(f"the state needs handlers that are not registered: {', '.join(missing)}")
    now = queue._host.now()
    for entry in state["tasks"]:
        task = Task(
            int(entry["id"]),
            queue._names[entry["handler"]],
            entry["data"],
            entry["key"],
            entry["after"],
            now - float(entry["age_ms"]),
            _LOADED_AS[entry["state"]],
            entry["batch"],
            attempts=int(entry["attempts"]),
            errors=_loaded_errors(entry["errors"]),
            parent_result=entry.get("parent_result"),
            items=[int(i) for i in entry.get("items", [])],
            left=int(entry.get("left", 0)),
        )
        queue._tasks[task.id] = task
        if task.state is State.BLOCKED:
            queue._dependents.setdefault(entry["after"], []).append(task.id)
        elif task.state is State.WAITING:
            task.retry_at = now + float(entry["retry_in_ms"])
            queue._timers.at(task.retry_at, functools.partial(queue._retry_due, task))
    for task_id, record in state["done"].items():
        done = Task(int(task_id), None, None, None, None, now, State.DONE, result=record["result"])
        queue._tasks[done.id] = done
    queue._fifo.extend(int(i) for i in state["fifo"])
    queue._keys.update({str(k): int(v) for k, v in state["keys"].items()})
    queue._dead_letters.extend(
        DeadLetter(
            d["task_id"], d["handler"], d["data"], d["key"], tuple(_loaded_errors(d["errors"]))
        )
        for d in state["dead_letters"]
    )
    for saved in state["recurring"]:
        schedule = Recurring(
            int(saved["id"]),
            queue._names[saved["handler"]],
            saved["data"],
            float(saved["interval_ms"]),
            now + float(saved["next_in_ms"]),
            int(saved["last_task"]),
        )
        queue._recurring[schedule.id] = schedule
        queue._schedule_occurrence(schedule)
    if queue._rate is not None:
        queue._rate.starts.extend(now - float(ago) for ago in state["rate_window_ago_ms"])
    counters = dict(state["counters"])
    counters["latency_buckets"] = list(counters["latency_buckets"])
    queue.counters = Counters(**counters)
    queue._next_id = int(state["next_id"])
    queue._next_schedule = int(state["next_schedule"])
