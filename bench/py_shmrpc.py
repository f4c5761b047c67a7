"""The Python cases of the benchmark: shmrpc from Python, next to one bare pybind11 call.

Starts bench_server (pinned to CPU 1; this process pins itself to CPU 0) and measures
  - the null call client.add(a, b) (two int64 in, one out),
  - one pybind11 call of the same shape (bench_noop.add): the DESIGN.md target is a Python null
    call within 2x of the C++ null call plus this,
  - length(values) with a float64 array of 1 KiB ... 256 MiB, in shared memory (client.zeros,
    nothing copied) and an ordinary numpy array (copied into the channel heap once per call).
Prints one JSON line per case (bench/harness.hpp's format, "client": "Python").

    py_shmrpc.py --server PATH/bench_server [--iterations N] [--smoke] [--max-bytes N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any, Callable

import numpy as np

import shmrpc

try:
    import bench_noop  # built next to bench_server (bench/CMakeLists.txt)
except ImportError:  # pragma: no cover - reported as a skipped case
    bench_noop = None

SIZES = [1 << 10, 1 << 20, 16 << 20, 256 << 20]


def pin_to(cpu: int) -> str:
    # The machine's CPUs, not this process's affinity: a child inherits its parent's pinning.
    if (os.cpu_count() or 1) < 2:
        return "not pinned (1 CPU)"
    os.sched_setaffinity(0, {cpu})
    return "client cpu0, server cpu1"


def measure(iterations: int, round_trip: Callable[[], Any]) -> tuple[float, float]:
    """Median and p99 in ns of one round trip, after a warm-up of a tenth as many."""
    for _ in range(max(1, iterations // 10)):
        round_trip()
    clock = time.perf_counter_ns
    samples = []
    for _ in range(iterations):
        start = clock()
        round_trip()
        samples.append(clock() - start)
    samples.sort()
    return float(samples[len(samples) // 2]), float(samples[len(samples) * 99 // 100])


def report(case: str, transport: str, payload: int, iterations: int,
           figures: tuple[float, float], pinned: str, note: str = "") -> None:
    print(json.dumps({
        "case": case, "transport": transport, "client": "Python", "payload_bytes": payload,
        "iterations": iterations, "median_ns": figures[0], "p99_ns": figures[1],
        "pinned": pinned, "note": note,
    }), flush=True)
    print(f"{case:48} {figures[0]:10.0f} ns median {figures[1]:10.0f} ns p99", file=sys.stderr)


def skipped(case: str, transport: str, payload: int, why: str) -> None:
    print(json.dumps({"case": case, "transport": transport, "client": "Python",
                      "payload_bytes": payload, "skipped": why}), flush=True)


def iterations_for(iterations: int, size: int) -> int:
    """Fewer round trips for large arrays (harness.hpp's iterations_for)."""
    return max(min(5, iterations), min(iterations, (1 << 30) // size))


def wait_and_connect(name: str, server: subprocess.Popen[bytes]) -> shmrpc.Client:
    """Connects once the server has created its segment (connect fails at once before)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return shmrpc.connect(name, connect_timeout=10.0)
        except shmrpc.NoServerError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, help="path of the bench_server program")
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--max-bytes", type=int, default=1 << 40)
    args = parser.parse_args()
    iterations = min(args.iterations, 50) if args.smoke else args.iterations
    sizes = [size for size in SIZES if size <= args.max_bytes]
    if args.smoke:
        sizes = sizes[:1]

    pinned = pin_to(0)
    name = f"bench-py-{os.getpid()}"
    arena = (max(sizes) if sizes else 0) + (1 << 20)
    server = subprocess.Popen(
        [args.server, name, "--arena", str(arena), "--spin-ns", "1000000"],
        preexec_fn=lambda: pin_to(1),
    )
    try:
        with wait_and_connect(name, server) as client:
            add = client.add
            length = client.length
            total = 0

            def null_call() -> None:
                nonlocal total
                total = add(total, 1)

            report("shmrpc null call (Python)", "shmrpc", 16, iterations,
                   measure(iterations, null_call), pinned)
            if bench_noop is None:
                skipped("one pybind11 call", "pybind11", 16, "bench_noop is not built")
            else:
                noop = bench_noop.add
                report("one pybind11 call", "pybind11", 16, iterations,
                       measure(iterations, lambda: noop(1, 2)), pinned,
                       "in this process: the baseline of the Python target")
            for size in sizes:
                n = iterations_for(iterations, size)
                # Nothing moves, so this case gets every iteration whatever the size.
                shared = client.zeros(size // 8)
                report("shmrpc array, in shared memory (Python)", "shmrpc", size, iterations,
                       measure(iterations, lambda: length(shared)), pinned)
                del shared
                ordinary = np.ones(size // 8)
                report("shmrpc array, copied in (Python)", "shmrpc copied", size, n,
                       measure(n, lambda: length(ordinary)), pinned)
                del ordinary
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
