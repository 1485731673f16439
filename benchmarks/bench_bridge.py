"""The Node bridge's costs: a round trip, a nested round trip, and a full suite per JS candidate.

    python benchmarks/bench_bridge.py            # every JS candidate
    python benchmarks/bench_bridge.py --quick    # the round trips and two candidates

Real time, measured in this process (time.perf_counter; nothing sleeps). Ratios within one
run are what to compare: the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import time

from idlespec.conformance.api import HostWindow
from idlespec.conformance.candidates import JS_CANDIDATE_NAMES, resolve_candidate
from idlespec.conformance.node.bridge import Bridge, find_node
from idlespec.conformance.node.candidates import JsUserlandCandidate
from idlespec.conformance.rows import load_rows
from idlespec.conformance.runner import CandidateRun, run_rows
from idlespec.reference import EventLoop


def round_trips(n: int) -> tuple[float, float]:
    """Median µs of a plain call (Python -> Node -> Python), and of one with a nested host call."""
    node = find_node()
    assert node is not None, "Node.js is not installed"
    bridge = Bridge(node, lambda realm, fn, args: None, lambda: 0.0)
    plain = []
    try:
        for _ in range(n):
            start = time.perf_counter()
            bridge.call("hello")
            plain.append(time.perf_counter() - start)
    finally:
        bridge.stop()
    candidate = resolve_candidate("js-settimeout-shim")
    assert isinstance(candidate, JsUserlandCandidate)
    nested = []
    loop = EventLoop(freeze_global_clocks=False)
    with CandidateRun(candidate):
        binding = candidate.install(HostWindow(loop.window))
        for _ in range(n):
            start = time.perf_counter()
            # requestIdleCallback calls setTimeout, which calls the Python host: 2 round trips.
            binding.request_idle_callback(lambda deadline: None)
            nested.append(time.perf_counter() - start)
    return statistics.median(plain) * 1e6, statistics.median(nested) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    plain, nested = round_trips(2000)
    print(f"round trip, median of 2000: {plain:.1f} µs; with a nested host call: {nested:.1f} µs")
    rows = load_rows()
    names = JS_CANDIDATE_NAMES[:2] if args.quick else JS_CANDIDATE_NAMES
    print(f"\n| candidate | full suite ({len(rows)} rows), s | rows run (not UNSUPPORTED) |")
    print("|---|---|---|")
    for name in names:
        start = time.perf_counter()
        results = run_rows(rows, resolve_candidate(name))
        wall = time.perf_counter() - start
        ran = sum(1 for r in results if str(r.raw_verdict) != "UNSUPPORTED")
        print(f"| {name} | {wall:.2f} | {ran} |")


if __name__ == "__main__":
    main()
