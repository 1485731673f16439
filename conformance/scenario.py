"""The scenario interpreter: runs one row against a hosted candidate and records a trace.

A fresh reference host per row; the candidate installed on every window the row uses; the
row's top-level steps run as a task at time 0 (a page's script), its ``later`` blocks as
tasks at their times; then the loop runs until it is quiet, or until ``run_until``, or
until the row's virtual-time budget runs out. Every callback the scenario hands over is a
recording callback: it appends to the trace, then runs its body.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from idlespec.reference import UNDEFINED, EventLoop, Policy, Window

from .api import Binding, Host, HostWindow
from .rows import MAIN_WINDOW, Row, action_of
from .trace import Call, Reported, Sample, Trace

#: Tasks a row may run before the run counts as hung (the step budget).
DEFAULT_STEP_BUDGET = 200_000
#: A host-driven candidate may run this many times the tasks the reference needs for a row
#: (at least STEP_FLOOR, at most DEFAULT_STEP_BUDGET). Measured over every built-in
#: candidate and row, the most any needed was 3.5 times the reference's count (10 742
#: tasks at most): a flood of timers stops in milliseconds, not after 200 000 tasks.
STEP_SCALE = 20
STEP_FLOOR = 1_000


class ScenarioError(Exception):
    """What a ``raise`` step (and a throwing getter or valueOf) raises: a JS ``Error``."""


#: ``{ js = "missing" }``: the argument is not passed at all.
MISSING: Any = object()


def error_name(error: BaseException) -> str:
    """The JS name of an exception: the scenario's own errors are plain ``Error``s.

    An exception that stands for a JS one (a bridge's) carries its JS name as ``js_name``.
    """
    if isinstance(error, ScenarioError):
        return "Error"
    js_name = getattr(error, "js_name", None)
    return js_name if isinstance(js_name, str) else type(error).__name__


class _ThrowingGetter(Mapping[str, Any]):
    """``{get timeout() { throw ... }}``: reading ``timeout`` raises."""

    def __getitem__(self, key: str) -> Any:
        raise ScenarioError(f"getter for {key!r} threw")

    def __iter__(self) -> Any:
        return iter(("timeout",))

    def __len__(self) -> int:
        return 1


class _ThrowingValueOf:
    """An object whose ``valueOf`` throws."""

    def __float__(self) -> float:
        raise ScenarioError("valueOf threw")


class _Symbol:
    """Stands for a Symbol: ToNumber throws TypeError."""


class _BigInt(_Symbol):
    """Stands for a BigInt: ToNumber throws TypeError, as for a Symbol."""


def decode_js(value: Any) -> Any:
    """A row's JS value (see ``schema.json``) as the Python stand-in the bindings take."""
    if isinstance(value, Mapping):
        if "js" in value:
            return {
                "undefined": UNDEFINED,
                "null": None,
                "symbol": _Symbol(),
                "bigint": _BigInt(),
                "function": lambda *args: None,
                "throwing-getter": _ThrowingGetter(),
                "throwing-valueof": _ThrowingValueOf(),
                "missing": MISSING,
            }[value["js"]]
        return {key: decode_js(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_js(item) for item in value]
    return value


class _Return(Exception):
    """A ``return`` step: ends the callback's body with a value."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


class _WindowContext:
    def __init__(self, name: str, window: Window, host: Host, binding: Binding) -> None:
        self.name = name
        self.window = window
        self.host = host
        self.binding = binding


class _RecordingLoop(EventLoop):
    """The reference host, noting every reported exception in one ordered list."""

    def __init__(self, policy: Policy | None) -> None:
        # The loop follows the run's global-clock follower if one is active (in-process
        # candidates); it never starts one itself, so a bridge's pipe is never frozen.
        super().__init__(policy, freeze_global_clocks=False)
        self.reported: list[tuple[Window, Exception]] = []

    def report_an_exception(self, window: Window, error: Exception) -> None:
        super().report_an_exception(window, error)
        self.reported.append((window, error))


_REFERENCE_TASKS: dict[str, int] = {}


def reference_tasks(row: Row) -> int:
    """How many tasks the reference runs for ``row`` (cached by the row's revision)."""
    if row.revision not in _REFERENCE_TASKS:
        interpreter = Interpreter(row, lambda window: window)
        interpreter.run()
        _REFERENCE_TASKS[row.revision] = interpreter.loop.tasks_run
    return _REFERENCE_TASKS[row.revision]


def scaled_step_budget(row: Row) -> int:
    """The step budget of a host-driven candidate for ``row``, from the reference's cost."""
    return min(DEFAULT_STEP_BUDGET, max(STEP_FLOOR, STEP_SCALE * reference_tasks(row)))


class Interpreter:
    """Runs one row against one hosted candidate.

    Args:
        row: the row.
        install: installs the candidate on a reference window and returns its binding (the
            connector of the candidate's kind makes it).
        policy: the host's policy (default: the reference's).
    """

    def __init__(
        self, row: Row, install: Callable[[Window], Binding], policy: Policy | None = None
    ) -> None:
        self.row = row
        self.install = install
        self.loop = _RecordingLoop(policy)
        self.trace = Trace()
        self.windows: dict[str, _WindowContext] = {}
        self.count: Counter[str] = Counter()
        self.posts: dict[str, tuple[Mapping[str, Any], _WindowContext]] = {}
        self.timers: dict[str, Any] = {}
        self.frames: dict[str, Any] = {}
        self.deadlines: dict[str, Any] = {}  # idle label -> the deadline of its latest run
        self._install(MAIN_WINDOW, self.loop.window)

    def _install(self, name: str, window: Window) -> None:
        binding = self.install(window)
        # A binding that owns the page's timer and frame globals (a polyfill wrapping them)
        # hands them over as ``page``; the scenario's own timers then go through it.
        page = getattr(binding, "page", None)
        host: Host = page if isinstance(page, Host) else HostWindow(window)
        self.windows[name] = _WindowContext(name, window, host, binding)

    def run(self, step_budget: int = DEFAULT_STEP_BUDGET) -> Trace:
        """Run the row; return its trace.

        Raises:
            TaskBudgetExceeded: more than ``step_budget`` tasks ran.
        """
        row, loop = self.row, self.loop
        main = self.windows[MAIN_WINDOW]
        loop.queue_task(lambda: self.run_steps(row.steps, main), window=main.window)
        stop = min(row.run_until if row.run_until is not None else math.inf, row.budget_ms)
        tasks_left = step_budget
        for block in sorted(row.later, key=lambda b: float(b["at"])):
            at = float(block["at"])
            if at > stop:
                break
            loop.run(until=at, max_tasks=tasks_left)
            loop.queue_task(self._later_block(block["steps"], main), window=main.window)
        until = row.run_until
        self.trace.quiescent = loop.run(until=until, budget=row.budget_ms, max_tasks=tasks_left)
        self.trace.final_time = loop.now
        if not self.trace.quiescent and row.run_until is None:
            self.trace.notes.append(f"virtual-time budget of {row.budget_ms:g} ms reached")
        names = {ctx.window: ctx.name for ctx in self.windows.values()}
        self.trace.reported = [
            Reported(names.get(window, "?"), error_name(error), str(error))
            for window, error in loop.reported
        ]
        return self.trace

    def _later_block(
        self, steps: Sequence[Mapping[str, Any]], ctx: _WindowContext
    ) -> Callable[[], None]:
        return lambda: self.run_steps(steps, ctx)

    # Steps ------------------------------------------------------------------------------

    def run_steps(
        self,
        steps: Sequence[Mapping[str, Any]],
        ctx: _WindowContext,
        deadline: Any = None,
        label: str | None = None,
    ) -> None:
        """Perform ``steps`` (a row's steps or a callback's body)."""
        for step in steps:
            action = action_of(step)
            target = self.windows[step["window"]] if "window" in step else ctx
            getattr(self, f"_do_{action}")(step, target, deadline, label)

    def _guard(self, key: str, call: Callable[[], Any]) -> Any:
        """Call into the candidate or host; a synchronous exception is recorded, not raised."""
        try:
            result = call()
        except Exception as error:
            self.trace.sync_errors[key] = error_name(error)
            return None
        self.trace.sync_errors.setdefault(key, "none")
        return result

    def _do_post(self, step: Mapping[str, Any], ctx: _WindowContext, *_: Any) -> None:
        label = step["post"]
        self.posts[label] = (step, ctx)
        callback = (
            decode_js(step["callback"])
            if "callback" in step
            else self._idle_callback(label, step.get("body", ()), ctx)
        )
        options = decode_js(step["options"]) if "options" in step else MISSING
        # Arguments end at the first missing one: requestIdleCallback() takes none at all.
        args = (
            [] if callback is MISSING else [callback] if options is MISSING else [callback, options]
        )
        handle = self._guard(label, lambda: ctx.binding.request_idle_callback(*args))
        if label not in self.trace.sync_errors or self.trace.sync_errors[label] == "none":
            self.trace.handles.setdefault(label, []).append(_jsonable(handle))

    def _do_repost(self, step: Mapping[str, Any], *_: Any) -> None:
        label = step["repost"]
        if self.count[label] < step["times"]:
            original, ctx = self.posts[label]
            self._do_post(original, ctx)

    def _do_cancel(self, step: Mapping[str, Any], ctx: _WindowContext, *_: Any) -> None:
        handles = self.trace.handles.get(step["cancel"])
        key = step.get("id", f"cancel-{step['cancel']}")
        if handles:
            handle = handles[-1]
            self._guard(key, lambda: ctx.binding.cancel_idle_callback(handle))

    def _do_cancel_handle(self, step: Mapping[str, Any], ctx: _WindowContext, *_: Any) -> None:
        value = decode_js(step["cancel_handle"])
        args = [] if value is MISSING else [value]
        self._guard(step.get("id", "cancel"), lambda: ctx.binding.cancel_idle_callback(*args))

    def _do_timer(self, step: Mapping[str, Any], ctx: _WindowContext, *_: Any) -> None:
        label = step["timer"]
        callback = self._plain_callback("timer", label, step.get("body", ()), ctx)
        delay = decode_js(step.get("delay", 0))
        self.timers[label] = self._guard(label, lambda: ctx.host.set_timeout(callback, delay))

    def _do_clear_timer(self, step: Mapping[str, Any], ctx: _WindowContext, *_: Any) -> None:
        handle = self.timers.get(step["clear_timer"])
        ctx.host.clear_timeout(handle)

    def _do_raf(self, step: Mapping[str, Any], ctx: _WindowContext, *_: Any) -> None:
        label = step["raf"]
        body = step.get("body", ())
        plain = self._plain_callback("raf", label, body, ctx)
        self.frames[label] = ctx.host.request_animation_frame(lambda timestamp: plain())

    def _do_cancel_raf(self, step: Mapping[str, Any], ctx: _WindowContext, *_: Any) -> None:
        ctx.host.cancel_animation_frame(self.frames.get(step["cancel_raf"]))

    def _do_task(self, step: Mapping[str, Any], ctx: _WindowContext, *_: Any) -> None:
        callback = self._plain_callback("task", step["task"], step.get("body", ()), ctx)
        self.loop.queue_task(callback, source=step.get("source", "task"), window=ctx.window)

    def _do_microtask(self, step: Mapping[str, Any], ctx: _WindowContext, *_: Any) -> None:
        callback = self._plain_callback("microtask", step["microtask"], step.get("body", ()), ctx)
        ctx.host.queue_microtask(callback)

    def _do_chain(self, step: Mapping[str, Any], ctx: _WindowContext, *_: Any) -> None:
        label, until, every = step["chain"], float(step["until"]), float(step["every"])
        self._record("chain", label, ctx)
        loop = self.loop

        def link() -> None:
            loop.busy(every)
            if loop.now < until:
                loop.queue_task(link, window=ctx.window)
            else:
                self._record("chain-end", f"{label}-end", ctx)

        loop.queue_task(link, window=ctx.window)

    def _do_busy(self, step: Mapping[str, Any], *_: Any) -> None:
        self.loop.busy(float(step["busy"]))

    def _do_open_window(self, step: Mapping[str, Any], *_: Any) -> None:
        self._install(step["open_window"], self.loop.open_window())

    def _do_deactivate(self, step: Mapping[str, Any], *_: Any) -> None:
        self.windows[step["deactivate"]].window.fully_active = False

    def _do_activate(self, step: Mapping[str, Any], *_: Any) -> None:
        self.windows[step["activate"]].window.fully_active = True

    def _do_raise(self, step: Mapping[str, Any], *_: Any) -> None:
        raise ScenarioError(step["raise"])

    def _do_return(self, step: Mapping[str, Any], *_: Any) -> None:
        raise _Return(decode_js(step["return"]))

    def _do_sample(
        self, step: Mapping[str, Any], ctx: _WindowContext, deadline: Any, label: str | None
    ) -> None:
        if "of" in step:  # a retained IdleDeadline, read later
            label = step["of"]
            deadline = self.deadlines.get(label)
        assert label is not None  # the loader allows plain samples in idle bodies only
        remaining, timed_out = self._probe(deadline)
        self.trace.samples.append(
            Sample(label, step["sample"], self.count[label], self.loop.now, remaining, timed_out)
        )

    def _do_binding(
        self, step: Mapping[str, Any], ctx: _WindowContext, deadline: Any, _label: Any
    ) -> None:
        # Only a binding into a JS realm answers (the Node bridge's); the connector marks
        # binding rows UNSUPPORTED for every other candidate before they run.
        check = ctx.binding.binding_fact  # type: ignore[attr-defined]
        self.trace.binding[step["binding"]] = check(step["binding"], deadline)

    # Recording callbacks ----------------------------------------------------------------

    def _record(self, kind: str, label: str, ctx: _WindowContext, **extra: Any) -> None:
        self.count[label] += 1
        self.trace.calls.append(
            Call(kind, label, ctx.name, self.loop.now, self.count[label], **extra)
        )

    def _idle_callback(
        self, label: str, body: Sequence[Mapping[str, Any]], ctx: _WindowContext
    ) -> Callable[..., None]:
        def callback(*args: Any) -> Any:
            deadline = args[0] if args else None
            self.deadlines[label] = deadline
            remaining, timed_out = self._probe(deadline)
            self._record(
                "idle", label, ctx, did_timeout=timed_out, remaining=remaining, argc=len(args)
            )
            try:
                self.run_steps(body, ctx, deadline, label)
            except _Return as returned:
                return returned.value
            return None

        return callback

    def _plain_callback(
        self, kind: str, label: str, body: Sequence[Mapping[str, Any]], ctx: _WindowContext
    ) -> Callable[..., None]:
        def callback(*args: Any) -> Any:
            self._record(kind, label, ctx)
            try:
                self.run_steps(body, ctx)
            except _Return as returned:
                return returned.value
            return None

        return callback

    def _probe(self, deadline: Any) -> tuple[float | None, bool | None]:
        """Read timeRemaining() and didTimeout; whatever a candidate hands over, survive it."""
        try:
            remaining = deadline.time_remaining()
            timed_out = deadline.did_timeout
        except Exception as error:
            self.trace.notes.append(f"reading the deadline raised {type(error).__name__}: {error}")
            return None, None
        if not isinstance(remaining, (int, float)) or isinstance(remaining, bool):
            self.trace.notes.append(f"timeRemaining() returned {remaining!r}, not a number")
            remaining = None
        elif math.isnan(remaining):
            self.trace.notes.append("timeRemaining() returned NaN")
            remaining = None
        if not isinstance(timed_out, bool):
            self.trace.notes.append(f"didTimeout is {timed_out!r}, not a boolean")
            timed_out = None
        return (None if remaining is None else float(remaining)), timed_out


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
