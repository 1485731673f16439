"""Background work on idle time: a task queue with the guarantees of a job system.

Built only on a binding (``request_idle_callback``, ``cancel_idle_callback``) and the host
primitives ``now`` and ``set_timeout``, so it runs on every candidate::

    from idlespec.taskqueue import IdleTaskQueue, Backoff

    q = IdleTaskQueue(binding, host, timeout=1000, backoff=Backoff(base=100, factor=2))
    tid = q.enqueue(handler, data)          # handler(data) -> result, or an Ack
    q.stats()                               # total, pending, in_flight, done, ...
    q.dead_letters                          # tasks that used up their attempts

:mod:`.queue` is the queue; :mod:`.hosts` installs a candidate on a fresh reference page;
:mod:`.workload` measures what each candidate costs a page running the queue.
"""

from .acks import Ack
from .backoff import Backoff
from .queue import IdleTaskQueue, ParentFailed, VisibilityTimeout
from .ratelimit import RateLimit
from .records import DeadLetter, Slice, State, Stats, TaskError, TaskInfo

__all__ = [
    "Ack",
    "Backoff",
    "DeadLetter",
    "IdleTaskQueue",
    "ParentFailed",
    "RateLimit",
    "Slice",
    "State",
    "Stats",
    "TaskError",
    "TaskInfo",
    "VisibilityTimeout",
]
