"""Tasks and task queues (HTML ``#concept-task``, ``#task-queue``, ``#concept-task-runnable``).

A task belongs to a window (its document's) and a task source; the loop keeps one FIFO queue
per (task source, window). Which queue the next task comes from is the policy's
``task_selection`` (F-04); within a queue, order is always FIFO.
"""

from __future__ import annotations

import heapq
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
    """A task: steps to run, the window whose document it belongs to, and its source.

    The steps are a function and its arguments (``steps(*args)``), so that queuing the same
    algorithm again, as invoke idle callbacks does for every callback, makes no closure.
    """

    __slots__ = ("args", "seq", "source", "steps", "timer_nesting_level", "window")

    def __init__(
        self,
        steps: Callable[..., object],
        window: Window,
        source: str,
        seq: int,
        timer_nesting_level: int = 0,
        *,
        args: tuple[object, ...] = (),
    ) -> None:
        self.steps = steps
        self.args = args
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
    """The loop's task queues, one FIFO per (source, window), and the choice between them.

    Oldest-first selection keeps a heap of the queues' head tasks by age, so choosing costs
    O(log queues) rather than a look at every queue (a loop with a thousand windows has
    thousands of queues). An entry is (head's seq, queue) and is checked when it surfaces:
    one whose queue's head has changed since is dropped (every head has a current entry).
    """

    __slots__ = ("_cursor", "_heads", "_keys", "_oldest_first", "_queues")

    def __init__(self, selection: TaskSelection) -> None:
        self._oldest_first = selection == "oldest-first"
        self._queues: dict[tuple[str, int], deque[Task]] = {}
        self._keys: list[tuple[str, int]] = []
        self._cursor = 0
        self._heads: list[tuple[int, deque[Task]]] = []

    def append(self, task: Task) -> None:
        """Enqueue ``task`` at the end of its queue."""
        key = (task.source, task.window.index)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            self._keys.append(key)
        if not queue and self._oldest_first:
            heapq.heappush(self._heads, (task.seq, queue))
        queue.append(task)

    def push_front(self, task: Task) -> None:
        """Put back a task taken by :meth:`take_runnable` (it runs next)."""
        queue = self._queues[(task.source, task.window.index)]
        queue.appendleft(task)
        if self._oldest_first:
            heapq.heappush(self._heads, (task.seq, queue))

    def take_runnable(self) -> Task | None:
        """Remove and return the next runnable task per the selection policy, or None."""
        if not self._oldest_first:
            return self._take_round_robin()
        # Oldest first: the runnable head with the smallest seq. Heads of windows that are
        # not fully active are set aside while looking, then put back.
        heads = self._heads
        set_aside: list[tuple[int, deque[Task]]] | None = None
        task: Task | None = None
        while heads:
            seq, queue = heads[0]
            if not queue or queue[0].seq != seq:
                heapq.heappop(heads)  # stale: that head was taken
            elif not queue[0].window.fully_active:
                set_aside = set_aside or []
                set_aside.append(heapq.heappop(heads))
            else:
                task = queue.popleft()
                if queue:
                    heapq.heapreplace(heads, (queue[0].seq, queue))
                else:
                    heapq.heappop(heads)
                break
        if set_aside:
            for entry in set_aside:
                heapq.heappush(heads, entry)
        return task

    def _take_round_robin(self) -> Task | None:
        count = len(self._keys)
        for offset in range(count):
            index = (self._cursor + offset) % count
            queue = self._queues[self._keys[index]]
            if queue and queue[0].window.fully_active:
                self._cursor = index + 1
                return queue.popleft()
        return None
