"""The executable spec: requestIdleCallback on a deterministic HTML event loop.

Start with :class:`EventLoop`; its first window is ``loop.window``.
"""

from .clock import ClockError, VirtualClock
from .deadline import IdleDeadline
from .event_loop import EventLoop, TaskBudgetExceeded
from .freeze import GlobalClockFollower, active_follower, wall_clock
from .policy import Policy
from .webidl import UNDEFINED
from .window import Window

__all__ = [
    "UNDEFINED",
    "ClockError",
    "EventLoop",
    "GlobalClockFollower",
    "IdleDeadline",
    "Policy",
    "TaskBudgetExceeded",
    "VirtualClock",
    "Window",
    "active_follower",
    "wall_clock",
]
