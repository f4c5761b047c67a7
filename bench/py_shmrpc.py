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
import os
import subprocess
import sys
import time

import numpy as np

import shmrpc
from py_harness import (iterations_for, measure, parse_options, payload_sizes, pin_to, report,
                        report_skipped)

try:
    import bench_noop  # built next to bench_server (bench/CMakeLists.txt)
except ImportError:  # pragma: no cover - reported as a skipped case
    bench_noop = None

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
    options = parse_options(__doc__, parser)
    iterations = options.iterations
    sizes = payload_sizes(options)
    pin_to(0)
    name = f"bench-py-{os.getpid()}"
    arena = (max(sizes) if sizes else 0) + (1 << 20)
    server = subprocess.Popen(
        [options.server, name, "--arena", str(arena), "--spin-ns", "1000000"],
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
                   measure(iterations, null_call), "")
            if bench_noop is None:
                report_skipped("one pybind11 call", "pybind11", 16, "bench_noop is not built")
            else:
                noop = bench_noop.add
                report("one pybind11 call", "pybind11", 16, iterations,
                       measure(iterations, lambda: noop(1, 2)),
                       "in this process: the baseline of the Python target")
            for size in sizes:
                n = iterations_for(options, size)
                # Nothing moves, so this case gets every iteration whatever the size.
                shared = client.zeros(size // 8)
                report("shmrpc array, in shared memory (Python)", "shmrpc", size, iterations,
                       measure(iterations, lambda: length(shared)), "")
                shared = None  # frees its heap block for the copied-in case
                ordinary = np.ones(size // 8)
                report("shmrpc array, copied in (Python)", "shmrpc copied", size, n,
                       measure(n, lambda: length(ordinary)), "")
                ordinary = None
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
