"""Cost of the reference scheduler, in real time (the virtual clock is what it simulates).

    python benchmarks/bench_reference.py            # 1 000, 100 000 and 1 000 000 callbacks
    python benchmarks/bench_reference.py --quick    # without the million

Per-callback cost: post N callbacks on a quiet loop (request), then ``loop.run()`` invokes
them all in the first idle period (invoke: step 5, one invoke task per callback, one
IdleDeadline each). The cost per callback must stay flat as N grows (DESIGN.md, cost model).
Never-spin cases: ``loop.run()`` on a callback with the largest timeout, and on
self-reposting callbacks, must finish in well under a second of real time. The real clock is
read only outside ``loop.run()`` (inside it, the global clocks follow the virtual one).
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from idlespec.reference import EventLoop, IdleDeadline


def per_callback(n: int, options: dict[str, int] | None = None) -> tuple[float, float]:
    """Microseconds per callback for request and for invoke, posting ``n`` callbacks."""
    loop = EventLoop()
    window = loop.window
    ran = [0]

    def callback(deadline: IdleDeadline) -> None:
        ran[0] += 1

    gc.collect()
    t0 = time.perf_counter()
    for _ in range(n):
        window.request_idle_callback(callback, options)
    t1 = time.perf_counter()
    loop.run()
    t2 = time.perf_counter()
    assert ran[0] == n, (ran[0], n)
    assert loop.now == (0.0 if options is None else options["timeout"])
    return (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6


def timed(setup: Callable[[EventLoop], Callable[[], bool]]) -> tuple[float, float]:
    """Real seconds of ``loop.run()`` after ``setup``, and the virtual ms it covered."""
    loop = EventLoop()
    check = setup(loop)
    t0 = time.perf_counter()
    loop.run()
    elapsed = time.perf_counter() - t0
    assert check()
    return elapsed, loop.now


def huge_timeout(loop: EventLoop) -> Callable[[], bool]:
    seen: list[bool] = []
    loop.window.request_idle_callback(lambda d: seen.append(d.did_timeout), {"timeout": 4294967295})
    return lambda: seen == [False] and loop.now == 4294967295


def reposting(callbacks: int, runs_each: int) -> Callable[[EventLoop], Callable[[], bool]]:
    def setup(loop: EventLoop) -> Callable[[], bool]:
        counts = [0] * callbacks

        def make(i: int) -> Callable[[IdleDeadline], None]:
            def again(deadline: IdleDeadline) -> None:
                counts[i] += 1
                if counts[i] < runs_each:
                    loop.window.request_idle_callback(again)

            return again

        for i in range(callbacks):
            loop.window.request_idle_callback(make(i))
        return lambda: counts == [runs_each] * callbacks

    return setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the million")
    args = parser.parse_args()
    sizes = [1_000, 100_000] if args.quick else [1_000, 100_000, 1_000_000]
    print("options          callbacks   request us/cb   invoke us/cb   total us/cb")
    for options in (None, {"timeout": 1000}):
        for n in sizes:
            runs = [per_callback(n, options) for _ in range(1 if n >= 1_000_000 else 3)]
            request, invoke = min(runs, key=sum)
            print(
                f"{options or '-'!s:<16} {n:>9,}   {request:>13.3f}   {invoke:>12.3f}"
                f"   {request + invoke:>11.3f}"
            )
    largest = "" if args.quick else "; one run at 1 000 000"
    print(f"(best of 3 runs{largest}. With a timeout, every wait stays in the")
    print(" loop's heap until it expires, as the spec's racing timeout requires: O(log n).)")
    print()
    print("never spins                                        real s    virtual ms")
    cases = [
        ("one callback, {timeout: 4294967295}, quiet loop", huge_timeout),
        ("one callback reposting itself 1 000 times", reposting(1, 1_000)),
        ("1 000 callbacks, each reposting itself 10 times", reposting(1_000, 10)),
        ("1 000 callbacks, each reposting itself 1 000 times", reposting(1_000, 1_000)),
    ]
    for title, setup in cases:
        elapsed, virtual = timed(setup)
        print(f"{title:<50} {elapsed:>7.4f}   {virtual:>11,.0f}")


if __name__ == "__main__":
    main()
