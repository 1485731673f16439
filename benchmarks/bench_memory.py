"""The harness's memory over consecutive full runs in one process: it must stay flat.

    python benchmarks/bench_memory.py [RUNS] [CANDIDATE ...]   # default: 10 runs, 3 candidates

Prints, after each full run of every row against each candidate, the process's resident
memory (from /proc) and what tracemalloc sees allocated. Real time is not measured here.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from pathlib import Path

from idlespec.conformance.candidates import resolve_candidate
from idlespec.conformance.rows import load_rows
from idlespec.conformance.runner import run_rows


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    names = sys.argv[2:] or ["reference", "settimeout-shim", "polyfill"]
    rows = load_rows()
    tracemalloc.start()
    print("run   RSS MB   traced MB")
    for n in range(1, runs + 1):
        for name in names:
            results = run_rows(rows, resolve_candidate(name))
            assert len(results) == len(rows)
            del results
        gc.collect()
        current, _peak = tracemalloc.get_traced_memory()
        print(f"{n:>3}   {rss_mb():>6.1f}   {current / 2**20:>9.2f}")


if __name__ == "__main__":
    main()
