"""A page with a 60 Hz animation loop and periodic input, and what idle work costs it.

The page's script runs an animation loop: every animation frame callback spends
``frame_work_ms`` (style, layout, paint, modelled as script time) and requests the next
frame, through the page's own ``requestAnimationFrame`` (so a polyfill that wraps it sees
it). Input events arrive from outside the page (the user), at seeded times: each is a task
on the ``user-interaction`` task source, queued when it arrives, that spends
``input_work_ms``.

Definitions, computed from the virtual timestamps the page records:

Jank
    The page wants a new frame at every vsync (every 1000 / 60 ms; the reference host's
    rendering opportunities). A vsync is *janked* when its frame was dropped (no animation
    frame callback ran with that vsync's timestamp: the rendering task came so late that
    the next frame was requested after later vsyncs had passed) or finished late (its
    callback ended after the next vsync). The page alone never janks (its frame work and
    an input task fit in a frame), so every janked vsync of a run is idle work's doing:
    the baseline row of the report shows the page without idle work.
Input delay
    The time from an input event's arrival to the start of its task. The page alone
    delays an input only while a frame callback or another input is running; anything
    more is idle work running when the input arrived (or ahead of it in the loop).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .hosts import Page

#: The task source of input events (HTML's user interaction task source).
INPUT_SOURCE = "user-interaction"
_EPSILON = 1e-6


@dataclass(frozen=True)
class PageConfig:
    """The page's own work.

    Attributes:
        refresh_rate: vsyncs per second (the reference host's default is 60).
        frame_work_ms: what each animation frame callback spends.
        input_every_ms: one input arrives in each window of this length, at a seeded
            point in it.
        input_work_ms: what each input task spends.
    """

    refresh_rate: float = 60.0
    frame_work_ms: float = 6.0
    input_every_ms: float = 100.0
    input_work_ms: float = 2.0

    @property
    def frame_interval_ms(self) -> float:
        """The time between two vsyncs."""
        return 1000.0 / self.refresh_rate


def input_arrivals(config: PageConfig, until_ms: float, seed: int) -> list[float]:
    """When inputs arrive, up to ``until_ms``: one at a seeded point of each window."""
    rng = random.Random(seed)
    every = config.input_every_ms
    arrivals = []
    for k in range(math.ceil(until_ms / every)):
        at = round(k * every + rng.random() * every, 3)
        if at <= until_ms:
            arrivals.append(at)
    return arrivals


@dataclass
class FrameRecord:
    """One animation frame callback: its vsync's timestamp, when it started and ended."""

    vsync: float
    start: float
    end: float


@dataclass
class InputRecord:
    """One input: when it arrived and when its task started (None: not yet)."""

    arrival: float
    start: float | None = None


@dataclass
class AnimatedPage:
    """Runs the animation loop and the inputs on ``page`` and records them."""

    page: Page
    config: PageConfig
    frames: list[FrameRecord] = field(default_factory=list)
    inputs: list[InputRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        # One callable for every frame: a bridge registers each distinct callable it sees.
        self._on_frame: Callable[[float], None] = self._frame

    def start_animation(self) -> None:
        """Request the first frame (from the page's script)."""
        self.page.host.request_animation_frame(self._on_frame)

    def _frame(self, timestamp: float) -> None:
        start = self.page.loop.now
        self.page.loop.busy(self.config.frame_work_ms)
        self.frames.append(FrameRecord(float(timestamp), start, self.page.loop.now))
        self.page.host.request_animation_frame(self._on_frame)

    def drive(self, arrivals: list[float], done: Callable[[], bool]) -> float | None:
        """Run the page, queuing each input as it arrives, until ``done()``.

        Returns the time ``done()`` was first seen true, or None if the arrivals ran out
        first.

        The loop runs up to each arrival and the input's task is queued there; if a task
        was still running at the arrival, it is queued when that task ends, and its delay
        still counts from the arrival.
        """
        loop = self.page.loop
        for arrival in arrivals:
            loop.run(until=arrival)
            if done():
                return loop.now
            record = InputRecord(arrival)
            self.inputs.append(record)
            self.page.host.queue_task(self._input_task(record), INPUT_SOURCE)
        return None

    def _input_task(self, record: InputRecord) -> Callable[[], None]:
        def task() -> None:
            record.start = self.page.loop.now
            self.page.loop.busy(self.config.input_work_ms)

        return task

    def janked_vsyncs(self, until: float) -> tuple[int, int]:
        """(vsyncs in ``(0, until]``, janked ones among them): see the module docstring."""
        interval = self.config.frame_interval_ms
        ended = {round(f.vsync / interval): f.end for f in self.frames}
        count = math.floor(until / interval + _EPSILON)
        janked = sum(
            1
            for k in range(1, count + 1)
            if k not in ended or ended[k] > (k + 1) * interval + _EPSILON
        )
        return count, janked

    def input_delays(self, until: float) -> list[float]:
        """The delay of every input that arrived by ``until`` (each has started by then)."""
        delays = []
        for record in self.inputs:
            if record.arrival <= until:
                assert record.start is not None  # the caller ran the page past ``until``
                delays.append(record.start - record.arrival)
        return delays
