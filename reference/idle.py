"""The rIC spec's algorithms (W3C *Cooperative Scheduling of Background Tasks*).

Anchors are on https://w3c.github.io/requestidlecallback/ (index.html at
feeca766e05f046f424bf410469ce7722cde934b). Each function is one algorithm of the spec and
each step carries its number; where a step is ambiguous the comment says which reading was
taken (spec.toml N-xx). The per-window state these functions read and write is declared on
:class:`~idlespec.reference.window.Window`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .deadline import GetDeadlineTime, IdleDeadline
from .tasks import IDLE_TASK_SOURCE
from .webidl import check_callback, convert_idle_request_options, to_unsigned_long

if TYPE_CHECKING:
    from .window import IdleRequestCallback, Window

_UNSIGNED_LONG_MAX = 2**32 - 1


def request_idle_callback(window: Window, callback: object, options: object = None) -> int:
    """rIC ``#the-requestidlecallback-method``: queue ``callback`` for the next idle period.

    Raises:
        TypeError: ``callback`` is not callable, or ``options`` does not convert to an
            ``IdleRequestOptions`` dictionary. Nothing is consumed or queued then (R-04).
        OverflowError: the identifier would pass 2**32 - 1 under the default policy (N-08).
    """
    # WebIDL conversions run before the method steps, callback first: a failed
    # conversion consumes no handle.
    check_callback(callback)
    timeout = None if options is None else convert_idle_request_options(options)
    loop = window.loop

    # rIC #the-requestidlecallback-method step 1: window is this Window object.
    # step 2: increment the window's idle callback identifier by one.
    if window.idle_callback_identifier >= _UNSIGNED_LONG_MAX:
        # N-08: past the unsigned long range is undefined; see Policy.identifier_overflow.
        if loop.policy.identifier_overflow == "raise":
            raise OverflowError("the idle callback identifier would pass 2**32 - 1")
        window.idle_callback_identifier = -1  # wraps to 0 below
    window.idle_callback_identifier += 1
    # step 3: handle is the identifier's current value.
    handle = window.idle_callback_identifier
    # step 4: append (handle, callback) to the end of the list of idle request callbacks.
    window.list_of_idle_request_callbacks[handle] = callback  # type: ignore[assignment]
    # step 6: if timeout is present and positive, the steps that follow run in parallel.
    # They are scheduled here, before step 5 returns, because returning ends this frame.
    if timeout is not None and timeout > 0:
        # 6.1 wait timeout ms; 6.2 wait for every invocation with a strictly earlier posted
        # time + timeout (the loop keeps these waits in expiry order, N-06 for ties); 6.3 the
        # optional extra wait (F-03); 6.4 queue the invoke idle callback timeout task.
        loop.start_idle_timeout_wait(window, handle, loop.now + timeout)
    # step 5: return handle.
    return handle


def cancel_idle_callback(window: Window, handle: object) -> None:
    """rIC ``#the-cancelidlecallback-method``: forget ``handle`` in either list."""
    # WebIDL: the handle converts as unsigned long, so "3" and 3 + 2**32 are 3.
    key = to_unsigned_long(handle)
    # rIC #the-cancelidlecallback-method step 1: window is this Window object.
    # step 2: find the entry for handle in the list of idle request callbacks or the list
    # of runnable idle callbacks.
    # step 3: if there is one, remove it from both lists; otherwise do nothing.
    if window.list_of_idle_request_callbacks.pop(key, None) is None:
        window.list_of_runnable_idle_callbacks.pop(key, None)


def start_an_idle_period(window: Window, get_deadline: GetDeadlineTime) -> None:
    """rIC ``#start-an-idle-period-algorithm``, called by HTML's event loop (step 5.3)."""
    loop = window.loop
    # rIC #start-an-idle-period-algorithm step 1: the user agent may delay the idle period
    # (F-01); when it does, return. Which periods the reference delays is the policy's.
    if user_agent_delays_idle_period(window):
        return
    # Bookkeeping for the policy, not a spec step: the deadline as it stands when the period
    # starts (N-05 gates the next period on it) and the callbacks run in it (F-02).
    period = window.idle_period
    period.frozen_deadline = get_deadline()
    period.callbacks_invoked = 0
    # steps 2-5: pending_list is the list of idle request callbacks and run_list the list of
    # runnable idle callbacks; append every entry of pending_list, in order, to the end of
    # run_list; then clear pending_list. Leftovers in run_list stay ahead.
    pending = window.list_of_idle_request_callbacks
    runnable = window.list_of_runnable_idle_callbacks
    if not runnable:
        # The same result in O(1): swap the two lists.
        window.list_of_runnable_idle_callbacks = pending
        window.list_of_idle_request_callbacks = runnable
    else:
        runnable.update(pending)
        pending.clear()
    # step 6: queue a task on the idle-task task source to invoke idle callbacks.
    loop.queue_task_for(window, IDLE_TASK_SOURCE, invoke_idle_callbacks, window, get_deadline)


def user_agent_delays_idle_period(window: Window) -> bool:
    """The reference's answer to ``#start-an-idle-period-algorithm`` step 1 (F-01).

    The period is delayed when the window's document is not fully active (its invoke task
    could not run, N-07); when the policy skips empty periods and both lists are empty
    (N-04); and when the policy gates on the previous period's frozen deadline and that has
    not passed yet (N-05).
    """
    policy = window.loop.policy
    if not window.fully_active:
        return True
    if (
        policy.skip_empty_idle_periods
        and not window.list_of_idle_request_callbacks
        and not window.list_of_runnable_idle_callbacks
    ):
        return True
    return policy.gate_on_previous_deadline and window.loop.now < window.idle_period.frozen_deadline


def invoke_idle_callbacks(window: Window, get_deadline: GetDeadlineTime) -> None:
    """rIC ``#invoke-idle-callbacks-algorithm``: run one runnable idle callback per task."""
    loop = window.loop
    period = window.idle_period
    limit = loop.policy.max_callbacks_per_period
    # rIC #invoke-idle-callbacks-algorithm step 1: if the user agent believes the idle period
    # should end early, return (F-02; remaining entries stay runnable).
    if limit is not None and period.callbacks_invoked >= limit:
        loop.note_idle_task_did_nothing()
        return
    # step 2: now is the current time (N-02: the loop's one clock, as timeRemaining sees it).
    now = loop.current_high_resolution_time()
    # step 3: if now is before the deadline (getDeadline re-evaluated here) and the list of
    # runnable idle callbacks is not empty:
    runnable = window.list_of_runnable_idle_callbacks
    if now < get_deadline() and runnable:
        # 3.1 pop the top callback from the list of runnable idle callbacks.
        _handle, callback = runnable.popitem(last=False)
        # 3.2 deadline is a new IdleDeadline whose get deadline time is getDeadline (the
        # spec's markup is broken here, N-09; this is the evident reading).
        deadline = IdleDeadline.create(loop, get_deadline, timeout=False)
        period.callbacks_invoked += 1
        # 3.3 call callback with deadline; if it throws, report the exception.
        loop.invoke_callback(window, callback, deadline)
        # 3.4 if the list of runnable idle callbacks is not empty, queue a task on the
        # idle-task task source to invoke idle callbacks again with the same arguments (the
        # spec writes them in the reverse order, N-09, and names no source; idle-task is the
        # natural reading, R-37).
        if window.list_of_runnable_idle_callbacks:
            loop.queue_task_for(
                window, IDLE_TASK_SOURCE, invoke_idle_callbacks, window, get_deadline
            )
        return
    loop.note_idle_task_did_nothing()


def invoke_idle_callback_timeout(window: Window, handle: int) -> None:
    """rIC ``#invoke-idle-callback-timeout-algorithm``: run ``handle`` because it timed out."""
    loop = window.loop
    # rIC #invoke-idle-callback-timeout-algorithm step 1: callback is the entry for handle
    # in the list of idle request callbacks or the list of runnable idle callbacks (so a
    # callback already promoted to the runnable list is found too, R-42).
    callback: IdleRequestCallback | None = window.list_of_idle_request_callbacks.pop(handle, None)
    if callback is None:
        callback = window.list_of_runnable_idle_callbacks.pop(handle, None)
    # step 2: if there is none (it ran, was cancelled, or timed out already), do nothing.
    if callback is None:
        return
    # 2.1 remove the entry from both lists: the pops above did.
    # 2.2 now is the current time, captured once.
    now = loop.current_high_resolution_time()
    # 2.3 deadline is a new IdleDeadline whose get deadline time returns now and whose
    # timeout flag is true: timeRemaining() is 0 for ever after.
    deadline = IdleDeadline.create(loop, lambda: now, timeout=True)
    # 2.4 call callback with deadline; if it throws, report the exception.
    loop.invoke_callback(window, callback, deadline)
