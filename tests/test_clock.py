import datetime as dt
import math
import time

import pytest

from idlespec.reference import ClockError, EventLoop, GlobalClockFollower, VirtualClock
from idlespec.reference.freeze import EPOCH, active_follower


def test_clock_starts_at_origin_and_moves_forward() -> None:
    clock = VirtualClock()
    assert clock.now == 0.0
    clock.advance(2.5)
    clock.advance_to(10.0)
    clock.advance_to(10.0)  # standing still is allowed
    assert clock.now == 10.0


@pytest.mark.parametrize("target", [9.999, -1.0, math.nan])
def test_clock_never_moves_backwards(target: float) -> None:
    clock = VirtualClock()
    clock.advance_to(10.0)
    with pytest.raises(ClockError):
        clock.advance_to(target)
    assert clock.now == 10.0


@pytest.mark.parametrize("delta", [-0.001, math.nan])
def test_clock_rejects_negative_advance(delta: float) -> None:
    with pytest.raises(ClockError):
        VirtualClock().advance(delta)


def test_listeners_hear_every_move_and_can_leave() -> None:
    clock = VirtualClock()
    heard: list[float] = []
    clock.add_listener(heard.append)
    clock.advance(1)
    clock.advance_to(1)  # no move, nothing heard
    clock.remove_listener(heard.append)
    clock.remove_listener(heard.append)  # unknown listener: ignored
    clock.advance(1)
    assert heard == [1.0]


def test_follower_makes_global_clocks_follow_virtual_time() -> None:
    clock = VirtualClock()
    with GlobalClockFollower() as follower:
        assert active_follower() is follower
        follower.follow(clock)
        t0, m0, p0 = time.time(), time.monotonic(), time.perf_counter()
        assert dt.datetime.now(dt.timezone.utc) == EPOCH
        clock.advance(1500.25)
        assert time.time() - t0 == pytest.approx(1.50025, abs=1e-6)
        assert time.monotonic() - m0 == pytest.approx(1.50025, abs=1e-6)
        assert time.perf_counter() - p0 == pytest.approx(1.50025, abs=1e-6)
        assert dt.datetime.now(dt.timezone.utc) == EPOCH + dt.timedelta(milliseconds=1500.25)
        follower.follow(None)
        clock.advance(1000)  # no longer followed
        assert time.time() - t0 == pytest.approx(1.50025, abs=1e-6)
    assert active_follower() is None
    assert time.time() > 1.7e9  # the real clock is back


def test_run_freezes_global_clocks_while_it_runs(loop: EventLoop) -> None:
    seen: list[float] = []
    loop.window.set_timeout(lambda: seen.append(time.monotonic()), 250)
    loop.window.set_timeout(lambda: seen.append(time.monotonic()), 1000)
    loop.run()
    assert seen[1] - seen[0] == pytest.approx(0.75, abs=1e-6)
    assert active_follower() is None


def test_run_reuses_an_active_follower_and_restores_its_clock() -> None:
    outer = VirtualClock()
    loop = EventLoop()
    seen: list[float] = []
    loop.window.set_timeout(lambda: seen.append(time.time()), 40)
    with GlobalClockFollower() as follower:
        follower.follow(outer)
        loop.run()
        assert follower.clock is outer
    assert seen == [pytest.approx(EPOCH.timestamp() + 0.04, abs=1e-6)]


def test_run_without_freezing_leaves_global_clocks_alone() -> None:
    loop = EventLoop(freeze_global_clocks=False)
    seen: list[float] = []
    loop.window.set_timeout(lambda: seen.append(time.time()), 10_000)
    loop.run()
    assert seen[0] > 1.7e9
    assert loop.now == 10_000


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_clock_rejects_infinite_moves(value: float) -> None:
    clock = VirtualClock()
    with pytest.raises(ClockError):
        clock.advance_to(value)
    with pytest.raises(ClockError):
        clock.advance(value)


def test_a_callback_busy_for_ever_is_reported_not_a_crash(loop: EventLoop) -> None:
    loop.queue_task(lambda: loop.busy(math.inf))
    loop.run()
    assert [type(e) for e in loop.window.reported_errors] == [ClockError]


def test_follower_rounds_to_microseconds_without_drift() -> None:
    clock = VirtualClock()
    with GlobalClockFollower() as follower:
        follower.follow(clock)
        for _ in range(1000):
            clock.advance(0.0004)  # 0.4 us each: below freezegun's resolution
        assert clock.now == pytest.approx(0.4)
        assert dt.datetime.now(dt.timezone.utc) == EPOCH + dt.timedelta(microseconds=400)
        clock.advance(1.0)
        assert dt.datetime.now(dt.timezone.utc) == EPOCH + dt.timedelta(microseconds=1400)


def test_wall_clock_is_real_while_frozen() -> None:
    from idlespec.reference import wall_clock

    with GlobalClockFollower() as follower:
        follower.follow(VirtualClock())
        first = wall_clock()
        total = sum(range(100_000))  # some real work
        assert total > 0
        assert wall_clock() > first
        assert time.perf_counter() == time.perf_counter()  # the frozen one stands still


def test_the_loop_takes_its_clock_as_an_argument() -> None:
    clock = VirtualClock()
    clock.advance_to(100.0)
    loop = EventLoop(clock=clock, freeze_global_clocks=False)
    assert loop.clock is clock
    seen: list[float] = []
    loop.window.set_timeout(lambda: seen.append(loop.now), 5)
    loop.run()
    assert seen == [105.0] and clock.now == 105.0


def test_now_is_read_only() -> None:
    clock = VirtualClock()
    with pytest.raises(AttributeError, match="read-only"):
        clock.now = 5.0  # type: ignore[misc]
    assert clock.now == 0.0
