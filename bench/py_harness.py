"""What the Python benchmark programs share (bench/harness.hpp's Python side): the command line
(--iterations, --smoke, --max-bytes), payload sizes, pinning, timing one round trip and the
JSON result lines that bench/run.py collects ("client": "Python").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Callable

BUDGET_BYTES = 1 << 30  # bytes per array case, as in bench/harness.hpp
PAYLOAD_SIZES = (1 << 10, 1 << 20, 16 << 20, 256 << 20, 1 << 30)
ROUNDS = 5  # interleaved rounds of measure_rounds, as in bench/harness.hpp
STREAM_ELEMENTS = 10000  # elements per small-element stream, as in bench/harness.hpp
SMOKE_STREAM_ELEMENTS = 100


def parse_options(description: str, parser: argparse.ArgumentParser | None = None
                  ) -> argparse.Namespace:
    """--iterations N (default 20000), --smoke, --max-bytes N, and what `parser` adds."""
    parser = parser or argparse.ArgumentParser(description=description)
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--max-bytes", type=int, default=1 << 40)
    options = parser.parse_args()
    if options.iterations <= 0:
        parser.error("--iterations must be positive")
    if options.smoke:
        options.iterations = min(options.iterations, 50)
    return options


def iterations_for(options: argparse.Namespace, size: int) -> int:
    """Fewer round trips for large payloads, at least 5."""
    return max(min(5, options.iterations), min(BUDGET_BYTES // size, options.iterations))


def payload_sizes(options: argparse.Namespace) -> list[int]:
    sizes = [size for size in PAYLOAD_SIZES if size <= options.max_bytes]
    return sizes[:1] if options.smoke else sizes


def can_pin() -> bool:
    # The machine's CPUs, not this process's affinity: a child inherits its parent's pinning.
    return (os.cpu_count() or 1) >= 2


def pin_to(cpu: int) -> None:
    if can_pin():
        os.sched_setaffinity(0, {cpu % (os.cpu_count() or 1)})


def pinning() -> str:
    return "client cpu0, server cpu1" if can_pin() else "not pinned (1 CPU)"


def measure(iterations: int, round_trip: Callable[[], None]) -> tuple[float, float]:
    """Median and p99 in ns of `iterations` round trips after a warm-up of a tenth as many."""
    for _ in range(max(1, iterations // 10)):
        round_trip()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(iterations):
        start = clock()
        round_trip()
        samples.append(clock() - start)
    samples.sort()
    return float(samples[len(samples) // 2]), float(samples[len(samples) * 99 // 100])


def timed(round_trip: Callable[[], object]) -> Callable[[], float]:
    """A round trip timed whole (for measure_rounds, whose cases return their own time)."""
    clock = time.perf_counter_ns

    def run() -> float:
        start = clock()
        round_trip()
        return float(clock() - start)

    return run


class Rounds:
    """What measure_rounds found: per case its (median, p99) over all rounds, its median per
    round."""

    def __init__(self, figures: list[tuple[float, float]], round_medians: list[list[float]]):
        self.figures = figures
        self.round_medians = round_medians

    def over_rounds(self, of: Callable[[list[float]], float]) -> list[float]:
        """`of(the medians of the cases in that round)` for every round, sorted."""
        return sorted(of([per_case[r] for per_case in self.round_medians])
                      for r in range(len(self.round_medians[0])))

    def median_over_rounds(self, of: Callable[[list[float]], float]) -> float:
        """The median over the rounds of `of(the medians of the cases in that round)`."""
        values = self.over_rounds(of)
        return values[len(values) // 2]

    def ratio(self, number: int, base: int) -> float:
        return self.median_over_rounds(lambda m: m[number] / m[base])


def measure_rounds(rounds: int, cases: list[tuple[int, Callable[[], float]]]) -> Rounds:
    """Times (iterations, round trip returning its ns) cases in `rounds` interleaved rounds after
    one warm-up each (bench/harness.hpp's measure_rounds): ratios are read within a round."""
    for iterations, round_trip in cases:
        for _ in range(max(1, iterations // 10)):
            round_trip()
    samples: list[list[float]] = [[] for _ in cases]
    medians: list[list[float]] = [[] for _ in cases]
    for _ in range(rounds):
        for number, (iterations, round_trip) in enumerate(cases):
            this_round = sorted(round_trip() for _ in range(max(1, iterations // rounds)))
            samples[number].extend(this_round)
            medians[number].append(this_round[len(this_round) // 2])
    figures = []
    for all_samples in samples:
        all_samples.sort()
        figures.append((all_samples[len(all_samples) // 2],
                        all_samples[len(all_samples) * 99 // 100]))
    return Rounds(figures, medians)


def emit(line: dict[str, Any]) -> None:
    print(json.dumps(line), flush=True)


def report(name: str, transport: str, size: int, iterations: int, figures: tuple[float, float],
           note: str, ratio: tuple[str, float] | None = None) -> None:
    """One result line; `ratio` is (its base, the median over rounds of the ratio to it)."""
    line = {"case": name, "transport": transport, "client": "Python", "payload_bytes": size,
            "iterations": iterations, "median_ns": figures[0], "p99_ns": figures[1],
            "pinned": pinning(), "note": note}
    if ratio is not None:
        line["ratio_base"], line["round_ratio"] = ratio
    emit(line)
    print(f"{name:<48} {figures[0]:10.0f} ns median {figures[1]:10.0f} ns p99", file=sys.stderr)


def report_stream(name: str, transport: str, size: int, streams: int, elements: int,
                  figures: tuple[float, float],
                  ratio: tuple[str, list[float]] | None = None) -> None:
    """The result line of a stream case (bench/harness.hpp's report_stream): `elements` of
    `size` bytes in one stream (or batch of calls), `figures` the time of one; `ratio` is (its
    base, the sorted ratios of the rounds: Rounds.over_rounds), reported as median and spread."""
    per_s = elements * 1e9 / figures[0]
    line = {"case": name, "transport": transport, "client": "Python", "payload_bytes": size,
            "elements": elements, "iterations": streams, "median_ns": figures[0],
            "p99_ns": figures[1], "elements_per_s": per_s, "bytes_per_s": per_s * size,
            "pinned": pinning(), "note": ""}
    if ratio is not None:
        base, values = ratio
        line.update(ratio_base=base, round_ratio=values[len(values) // 2], ratio_low=values[0],
                    ratio_high=values[-1])
    emit(line)
    print(f"{name:<48} {per_s:14.0f} elements/s", file=sys.stderr)


def report_skipped(name: str, transport: str, size: int, why: str) -> None:
    emit({"case": name, "transport": transport, "client": "Python", "payload_bytes": size,
          "skipped": why})
    print(f"{name:<48} skipped: {why}", file=sys.stderr)


