"""Tasks and task queues (HTML ``#concept-task``, ``#task-queue``, ``#concept-task-runnable``).

A task belongs to a window (its document's) and a task source; the loop keeps one FIFO queue
per (task source, window). Which queue the next task comes from is the policy's
``task_selection`` (F-04); within a queue, order is always FIFO.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from .policy import TaskSelection

if TYPE_CHECKING:
    from .window import Window

#: Task sources the reference uses (HTML ``#generic-task-sources`` and the rIC spec's own).
TIMER_TASK_SOURCE = "timer"
IDLE_TASK_SOURCE = "idle-task"
RENDERING_TASK_SOURCE = "rendering"
DEFAULT_TASK_SOURCE = "task"


class Task:
    """A task: steps to run, the window whose document it belongs to, and its source."""

    __slots__ = ("seq", "source", "steps", "timer_nesting_level", "window")

    def __init__(
        self,
        steps: Callable[[], object],
        window: Window,
        source: str,
        seq: int,
        timer_nesting_level: int = 0,
    ) -> None:
        self.steps = steps
        self.window = window
        self.source = source
        self.seq = seq
        # HTML #timer-initialisation-steps step 10: the nesting level a timer task carries.
        self.timer_nesting_level = timer_nesting_level

    @property
    def runnable(self) -> bool:
        """HTML ``#concept-task-runnable``: its document is fully active."""
        return self.window.fully_active


class TaskQueues:
    """The loop's task queues, one FIFO per (source, window), and the choice between them."""

    __slots__ = ("_cursor", "_keys", "_queues", "_selection")

    def __init__(self, selection: TaskSelection) -> None:
        self._selection = selection
        self._queues: dict[tuple[str, int], deque[Task]] = {}
        self._keys: list[tuple[str, int]] = []
        self._cursor = 0

    def append(self, task: Task) -> None:
        """Enqueue ``task`` at the end of its queue."""
        key = (task.source, task.window.index)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            self._keys.append(key)
        queue.append(task)

    def push_front(self, task: Task) -> None:
        """Put back a task taken by :meth:`take_runnable` (it runs next)."""
        self._queues[(task.source, task.window.index)].appendleft(task)

    def take_runnable(self) -> Task | None:
        """Remove and return the next runnable task per the selection policy, or None."""
        if self._selection == "oldest-first":
            return self._take_oldest()
        return self._take_round_robin()

    def _take_oldest(self) -> Task | None:
        best: deque[Task] | None = None
        for queue in self._queues.values():
            if (
                queue
                and queue[0].window.fully_active
                and (best is None or queue[0].seq < best[0].seq)
            ):
                best = queue
        return best.popleft() if best is not None else None

    def _take_round_robin(self) -> Task | None:
        count = len(self._keys)
        for offset in range(count):
            index = (self._cursor + offset) % count
            queue = self._queues[self._keys[index]]
            if queue and queue[0].window.fully_active:
                self._cursor = index + 1
                return queue.popleft()
        return None
