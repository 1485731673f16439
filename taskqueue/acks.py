"""Acknowledgements: how a handler that finishes later reports its outcome.

A handler that starts work it finishes later (a fetch, a worker, a timer) returns an
:class:`Ack` instead of a result and answers it when the work is over: ``ack.done(result)``
or ``ack.fail(error)``. The task is in flight meanwhile. If no answer comes within the
queue's visibility timeout the attempt counts as failed and the task is retried (or dies);
an answer that comes after that, or a second answer, is ignored. An answer only counts for
the attempt that returned the Ack, and only while that attempt is in flight: no task is
done twice.
"""

from __future__ import annotations

from typing import Any, Protocol


class _Receiver(Protocol):
    def _acknowledged(
        self, task_id: int, attempt: int, error: BaseException | None, result: Any
    ) -> bool: ...


class Ack:
    """The handle a handler returns instead of a result (see the module docstring)."""

    __slots__ = ("_answer", "_attempt", "_queue", "_task_id")

    def __init__(self) -> None:
        self._queue: _Receiver | None = None
        self._task_id = 0
        self._attempt = 0
        # An answer given before the handler returned (so before the queue knew the Ack).
        self._answer: tuple[BaseException | None, Any] | None = None

    def done(self, result: Any = None) -> bool:
        """The work succeeded with ``result``. Returns whether this answer counted."""
        return self._answered(None, result)

    def fail(self, error: BaseException) -> bool:
        """The work failed with ``error``. Returns whether this answer counted."""
        return self._answered(error, None)

    def _answered(self, error: BaseException | None, result: Any) -> bool:
        if self._queue is None:
            if self._answer is not None:
                return False
            self._answer = (error, result)
            return True
        return self._queue._acknowledged(self._task_id, self._attempt, error, result)

    def _bind(
        self, queue: _Receiver, task_id: int, attempt: int
    ) -> tuple[BaseException | None, Any] | None:
        """Tie the Ack to one attempt of one task; the answer it already has, if any.

        Raises:
            ValueError: the Ack was returned for another attempt already.
        """
        if self._queue is not None:
            raise ValueError("this Ack was returned by another task or attempt already")
        self._queue, self._task_id, self._attempt = queue, task_id, attempt
        return self._answer
