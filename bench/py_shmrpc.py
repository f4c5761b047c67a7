"""The Python cases of the benchmark: shmrpc from Python, next to one bare pybind11 call.

Starts bench_server (pinned to CPU 1; this process pins itself to CPU 0) with the default heap
(1 MiB per channel: values over 64 KiB cross in buffer segments) and measures
  - the null call client.add(a, b) (two int64 in, one out),
  - one pybind11 call of the same shape (bench_noop.add) and one bare METH_FASTCALL call
    (bench_noop.add_fastcall): the DESIGN.md target is a Python null call within 1.5x of the C++
    null call plus the bare call (an earlier one: within 2x of it plus the pybind11 call),
  - length(values) with a float64 array of 1 KiB ... 1 GiB, in shared memory (client.zeros,
    nothing copied) and an ordinary numpy array (copied into the connection's scratch buffer on
    each call; the first call, which makes that buffer, is reported on its own),
  - the first call with a new array (client.zeros, then passed once), next to making the same
    bytes in this process (O_TMPFILE file in /dev/shm, posix_fallocate, mmap, a byte per page),
  - filled(count) and filled_in_place(count): a result of the same size, a numpy array over the
    buffer the server made (no copy), next to np.full of the same bytes in this process,
  - a stream of 10,000 int64 (for x in client.sequence(n)) next to as many client.add calls.
Ratios are read per interleaved round (py_harness.measure_rounds). Prints one JSON line per case
(bench/harness.hpp's format, "client": "Python").

    py_shmrpc.py --server PATH/bench_server [--iterations N] [--smoke] [--max-bytes N]
"""

from __future__ import annotations

import argparse
import asyncio
import mmap
import os
import subprocess
import sys
import time

import numpy as np

import shmrpc
from py_harness import (ROUNDS, SMOKE_STREAM_ELEMENTS, STREAM_ELEMENTS, iterations_for, measure,
                        measure_rounds, parse_options, payload_sizes, pin_to, report,
                        report_skipped, report_stream, timed)

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


PAGE = 4096


def make_and_touch(size: int) -> float:
    """Makes `size` bytes of shared memory as a server makes a buffer, in this process, and
    writes a byte of every page; the time of that in ns (unmapping and closing not in it)."""
    start = time.perf_counter_ns()
    fd = os.open("/dev/shm", os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
    os.ftruncate(fd, size)
    os.posix_fallocate(fd, 0, size)
    memory = mmap.mmap(fd, size)
    pages = np.frombuffer(memory, dtype=np.uint8)
    pages[::PAGE] = 1
    ns = float(time.perf_counter_ns() - start)
    del pages
    memory.close()
    os.close(fd)
    return ns


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, help="path of the bench_server program")
    options = parse_options(__doc__, parser)
    iterations = options.iterations
    sizes = payload_sizes(options)
    pin_to(0)
    name = f"bench-py-{os.getpid()}"
    server = subprocess.Popen([options.server, name, "--spin-ns", "1000000"],
                              preexec_fn=lambda: pin_to(1))
    try:
        with wait_and_connect(name, server) as client:
            add = client.add
            length = client.length
            filled = client.filled
            filled_in_place = client.filled_in_place
            halves_in_place = client.halves_in_place
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
                bare = bench_noop.add_fastcall
                report("one bare METH_FASTCALL call", "METH_FASTCALL", 16, iterations,
                       measure(iterations, lambda: bare(1, 2)),
                       "in this process: the least a C extension call costs")
            # asyncio: awaits one after another in one event loop, next to the same number of
            # plain calls, in batches (an await is not a round trip a clock can bracket alone).
            loop = asyncio.new_event_loop()
            aio_add = client.aio.add
            batch = 100

            async def awaits() -> None:
                for _ in range(batch):
                    await aio_add(1, 2)

            def aio_batch() -> float:
                start = time.perf_counter_ns()
                loop.run_until_complete(awaits())
                return (time.perf_counter_ns() - start) / batch

            def sync_batch() -> float:
                start = time.perf_counter_ns()
                for _ in range(batch):
                    add(1, 2)
                return (time.perf_counter_ns() - start) / batch

            batches = max(ROUNDS, iterations // batch)
            rounds = measure_rounds(ROUNDS, [(batches, aio_batch), (batches, sync_batch)])
            report("shmrpc asyncio call, awaited (Python)", "shmrpc asyncio", 16,
                   batches * batch, rounds.figures[0],
                   f"mean per call over batches of {batch} awaits in one event loop",
                   ("sync call", rounds.ratio(0, 1)))
            loop.close()
            # A stream of n int64 (for x in client.sequence(n)) next to n sequential null calls.
            n = SMOKE_STREAM_ELEMENTS if options.smoke else STREAM_ELEMENTS
            streams = ROUNDS if options.smoke else 10 * ROUNDS
            sequence = client.sequence

            def read_stream() -> None:
                if sum(sequence(n)) != n * (n - 1) // 2:
                    raise RuntimeError("sequence: wrong elements")

            def sequential_calls() -> None:
                total = 0
                for _ in range(n):
                    total = add(total, 1)
                if total != n:
                    raise RuntimeError("add: wrong sum")

            rounds = measure_rounds(ROUNDS, [(streams, timed(read_stream)),
                                             (streams, timed(sequential_calls))])
            report_stream("shmrpc stream of int64 (Python)", "shmrpc stream", 8, streams, n,
                          rounds.figures[0], ("as many sequential null calls",
                                              rounds.over_rounds(lambda m: m[1] / m[0])))
            report_stream("shmrpc sequential null calls (Python, same rounds)", "shmrpc calls", 8,
                          streams, n, rounds.figures[1])
            null_case = (iterations, timed(lambda: add(1, 2)))
            for size in sizes:
                n = iterations_for(options, size)
                count = size // 8
                shared = client.zeros(count)
                ordinary = np.ones(count)
                start = time.perf_counter_ns()
                length(ordinary)
                first_copy = float(time.perf_counter_ns() - start)
                target = np.empty_like(ordinary)
                # Nothing moves in the shared case, so it gets every iteration whatever the size.
                rounds = measure_rounds(ROUNDS, [
                    null_case,
                    (iterations, timed(lambda: length(shared))),
                    (n, timed(lambda: length(ordinary))),
                    (n, timed(lambda: np.copyto(target, ordinary))),
                ])
                report("shmrpc array, in shared memory (Python)", "shmrpc", size, iterations,
                       rounds.figures[1], "", ("null call", rounds.ratio(1, 0)))
                report("shmrpc array, copied in (Python, steady state: scratch buffer reused)",
                       "shmrpc copied", size, n, rounds.figures[2], "",
                       ("memcpy bandwidth (copy = call - null call)",
                        rounds.median_over_rounds(lambda m: m[3] / max(m[2] - m[0], 1.0))))
                report("shmrpc array, copied in, first call (Python, makes the scratch buffer)",
                       "shmrpc first call", size, 1, (first_copy, first_copy), "")
                report("numpy copyto in this process", "memcpy", size, n, rounds.figures[3], "")
                shared = ordinary = target = None

                def new_buffer() -> float:
                    start = time.perf_counter_ns()
                    fresh = client.zeros(count)
                    length(fresh)
                    ns = float(time.perf_counter_ns() - start)
                    del fresh
                    add(0, 0)  # gives the dropped buffer back, outside the time
                    return ns

                rounds = measure_rounds(ROUNDS, [(n, new_buffer), (n, lambda: make_and_touch(size))])
                report("shmrpc new buffer (zeros), first call (Python)", "shmrpc first call", size,
                       n, rounds.figures[0], "",
                       ("making and touching the bytes in one process", rounds.ratio(0, 1)))
                report("O_TMPFILE + posix_fallocate + mmap + a byte per page (Python)",
                       "make shared memory", size, n, rounds.figures[1], "")

                def result_case(function: object) -> float:
                    start = time.perf_counter_ns()
                    result = function(count)  # type: ignore[operator]
                    ns = float(time.perf_counter_ns() - start)
                    del result
                    add(0, 0)
                    return ns

                rounds = measure_rounds(ROUNDS, [
                    null_case,
                    (n, lambda: result_case(filled)),
                    (n, lambda: result_case(filled_in_place)),
                    (n, timed(lambda: np.full(count, 1.0))),
                    (n, lambda: result_case(halves_in_place)),
                ])
                base = "null call + np.full of the bytes in one process"
                report("shmrpc result std::vector, numpy array over its buffer (Python)",
                       "shmrpc result", size, n, rounds.figures[1], "",
                       (base, rounds.median_over_rounds(lambda m: m[1] / (m[0] + m[3]))))
                report("shmrpc result ResultArray (filled in place), numpy array (Python)",
                       "shmrpc result", size, n, rounds.figures[2], "",
                       (base, rounds.median_over_rounds(lambda m: m[2] / (m[0] + m[3]))))
                report("np.full of the result's bytes in this process", "fill vector", size, n,
                       rounds.figures[3], "")
                report("shmrpc result: two ResultArrays of half the bytes in a tuple (Python)",
                       "shmrpc nested result", size, n, rounds.figures[4], "",
                       ("one ResultArray of the same bytes", rounds.ratio(4, 2)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
