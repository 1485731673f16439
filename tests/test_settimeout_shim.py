"""The classic setTimeout fallback behaves as the snippet does, flaws included."""

from __future__ import annotations

from typing import Any

from idlespec.conformance.candidates import HostWindow, resolve_candidate
from idlespec.reference import EventLoop
from idlespec.shims.settimeout import candidate


def setup() -> tuple[EventLoop, Any]:
    loop = EventLoop()
    return loop, candidate.install(HostWindow(loop.window))


def test_runs_from_a_one_ms_timer_with_fifty_ms_from_the_request() -> None:
    loop, ric = setup()
    seen: list[tuple[float, float, bool]] = []

    def body(d: Any) -> None:
        seen.append((loop.now, d.time_remaining(), d.did_timeout))
        loop.busy(30)
        seen.append((loop.now, d.time_remaining(), d.did_timeout))
        loop.busy(30)
        seen.append((loop.now, d.time_remaining(), d.did_timeout))

    handle = ric.request_idle_callback(body, {"timeout": 5})  # options ignored
    loop.run()
    assert handle == 1  # a timer id
    assert seen == [(1.0, 49.0, False), (31.0, 19.0, False), (61.0, 0.0, False)]


def test_handles_are_timer_ids_and_cancel_is_clear_timeout() -> None:
    loop, ric = setup()
    ran: list[str] = []
    loop.window.set_timeout(lambda: ran.append("page timer"), 5)  # takes id 1
    handle = ric.request_idle_callback(lambda d: ran.append("idle"))
    assert handle == 2
    ric.cancel_idle_callback(1)  # clears the page's timer, not an idle callback
    loop.run()
    assert ran == ["idle"]
    ric.cancel_idle_callback(ric.request_idle_callback(lambda d: ran.append("never")))
    loop.run()
    assert ran == ["idle"]


def test_runs_while_the_loop_is_busy_and_accepts_anything() -> None:
    loop, ric = setup()
    ran: list[float] = []

    def chain() -> None:
        loop.busy(10)
        if loop.now < 100:
            loop.queue_task(chain)

    loop.queue_task(chain)
    ric.request_idle_callback(lambda d: ran.append(loop.now))
    ric.request_idle_callback(5, "not options")  # no WebIDL: throws later, from its timer
    loop.run()
    assert ran and ran[0] < 100  # no idle period: it ran in the middle of the busy chain
    assert [type(e).__name__ for e in loop.window.reported_errors] == ["TypeError"]


def test_the_suite_knows_it_as_a_builtin() -> None:
    shim = resolve_candidate("settimeout-shim")
    assert shim is candidate
    assert (shim.name, shim.kind) == ("settimeout-shim", "userland")
