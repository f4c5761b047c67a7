// What the server's call statistics cost per call (detail/stats.hpp), next to their baselines:
// the clock read a timed call needs, and a plain relaxed counter bump and a locked fetch_add.
// A null call takes about 130-200 ns on the reference VM; the untimed record (every call of a
// fast function but one in 64) should be a few ns of that.
//
//   stats_record [--benchmark_filter=...]

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "shmrpc/detail/stats.hpp"
#include "shmrpc/layout.hpp"

namespace {

using shmrpc::layout::StatsRecord;

// Baseline: one relaxed load+store of a counter, the unit record_call is made of.
void BM_Baseline_RelaxedIncrement(benchmark::State& state) {
  std::atomic<std::uint64_t> counter{0};
  for (auto _ : state) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    benchmark::DoNotOptimize(counter);
  }
}
BENCHMARK(BM_Baseline_RelaxedIncrement);

// Baseline: a locked read-modify-write, what a counter with several writers would cost.
void BM_Baseline_FetchAdd(benchmark::State& state) {
  std::atomic<std::uint64_t> counter{0};
  for (auto _ : state) {
    counter.fetch_add(1, std::memory_order_relaxed);
    benchmark::DoNotOptimize(counter);
  }
}
BENCHMARK(BM_Baseline_FetchAdd);

// Baseline: one read of the clock a timed call reads twice.
void BM_Baseline_ClockRead(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(shmrpc::detail::stats_clock_ns());
  }
}
BENCHMARK(BM_Baseline_ClockRead);

// An untimed call: the decision and the call/error counters.
void BM_Stats_RecordUntimed(benchmark::State& state) {
  StatsRecord record{};
  for (auto _ : state) {
    const bool timed = shmrpc::detail::should_time(record);
    benchmark::DoNotOptimize(timed);
    shmrpc::detail::record_call(record, false, false, 0);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Stats_RecordUntimed);

// A timed call: two clock reads and the latency fields too.
void BM_Stats_RecordTimed(benchmark::State& state) {
  StatsRecord record{};
  for (auto _ : state) {
    const std::uint64_t start = shmrpc::detail::stats_clock_ns();
    shmrpc::detail::record_call(record, false, true, shmrpc::detail::stats_clock_ns() - start);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Stats_RecordTimed);

// What the server does per call of a fast function: one call in 64 timed.
void BM_Stats_RecordSampled(benchmark::State& state) {
  StatsRecord record{};
  for (auto _ : state) {
    const bool timed = shmrpc::detail::should_time(record);
    const std::uint64_t start = timed ? shmrpc::detail::stats_clock_ns() : 0;
    shmrpc::detail::record_call(record, false, timed,
                                timed ? shmrpc::detail::stats_clock_ns() - start : 0);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Stats_RecordSampled);

}  // namespace

BENCHMARK_MAIN();
