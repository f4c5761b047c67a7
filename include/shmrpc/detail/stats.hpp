#pragma once
/// Call statistics in shared memory: the server counts every call per channel and function
/// (calls, errors, latency sum and maximum, a log2 latency histogram) in the segment's stats
/// region, so that tools (`shmrpc stats`) read them from outside without asking the server.
///
/// Each StatsRecord has a single writer, the serving thread of its channel, so recording needs no
/// read-modify-write instruction: relaxed loads and stores. Readers sum the records of all
/// channels; a reader racing with a call may see its count without its latency for a moment.

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "shmrpc/function_stats.hpp"
#include "shmrpc/layout.hpp"

namespace shmrpc::detail {

/// Bytes of the stats region of `channel_count` channels serving `function_count` functions.
constexpr std::uint64_t stats_region_size(std::uint32_t channel_count,
                                          std::uint32_t function_count) {
  return std::uint64_t{channel_count} * function_count * sizeof(layout::StatsRecord);
}

/// The histogram bucket of a call that took `ns` nanoseconds: floor(log2(ns)), at most the last.
constexpr std::size_t latency_bucket(std::uint64_t ns) noexcept {
  const auto bucket = static_cast<std::size_t>(ns == 0 ? 0 : std::bit_width(ns) - 1);
  return bucket < layout::kStatsBuckets ? bucket : layout::kStatsBuckets - 1;
}

/// The clock calls are timed with: CLOCK_MONOTONIC (a vDSO call, no system call), in ns.
inline std::uint64_t stats_clock_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

/// Every call is timed while a record has fewer calls than this, and afterwards one call in this
/// many, unless the function is slow (kStatsTimeAllAboveNs).
inline constexpr std::uint64_t kStatsSampleEvery = 64;
/// Calls of a function whose timed calls average this long or more are all timed: two clock
/// reads (about 40 ns each on a VM) cost it under 1 %.
inline constexpr std::uint64_t kStatsTimeAllAboveNs = 16'384;

/// Server side, by the channel thread that owns `record`, before a call: whether to time it.
/// A clock read costs a fast function as much as its whole call, so fast functions are timed
/// one call in kStatsSampleEvery; their latency figures are estimates from that sample.
inline bool should_time(const layout::StatsRecord& record) noexcept {
  // Relaxed: this thread wrote these values itself.
  const std::uint64_t calls = record.calls.load(std::memory_order_relaxed);
  if (calls < kStatsSampleEvery || calls % kStatsSampleEvery == 0) {
    return true;
  }
  const std::uint64_t timed = record.timed.load(std::memory_order_relaxed);
  return record.total_ns.load(std::memory_order_relaxed) >= timed * kStatsTimeAllAboveNs;
}

/// Server side, by the channel thread that owns `record` only: counts one call, and its
/// latency if it was `timed`.
inline void record_call(layout::StatsRecord& record, bool failed, bool timed,
                        std::uint64_t latency_ns) noexcept {
  // Relaxed throughout: this thread is the only writer, and readers want no ordering between the
  // counters (each is a statistic on its own). A plain load+store avoids a locked instruction.
  const auto bump = [](std::atomic<std::uint64_t>& counter, std::uint64_t by) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  };
  bump(record.calls, 1);
  if (failed) {
    bump(record.errors, 1);
  }
  if (!timed) {
    return;
  }
  bump(record.timed, 1);
  bump(record.total_ns, latency_ns);
  if (latency_ns > record.max_ns.load(std::memory_order_relaxed)) {
    record.max_ns.store(latency_ns, std::memory_order_relaxed);
  }
  bump(record.buckets.at(latency_bucket(latency_ns)), 1);
}

/// Server side, by the channel thread that owns `record` only: counts one element of `bytes`
/// written by a stream function.
inline void record_element(layout::StatsRecord& record, std::uint64_t bytes) noexcept {
  // Relaxed, a plain load+store: as record_call.
  record.elements.store(record.elements.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
  record.element_bytes.store(record.element_bytes.load(std::memory_order_relaxed) + bytes,
                             std::memory_order_relaxed);
}

/// Reader side (tools, any thread): the statistics of every function of a mapped segment, in
/// function table order, summed over its channels. Empty when the segment has no stats region
/// (stats_size 0). Validates the region against the header and the mapping; throws ProtocolError
/// naming `server` when it is malformed. The mapping may be read-only.
std::vector<FunctionStats> read_stats(const std::byte* segment, std::size_t size,
                                      std::string_view server);

}  // namespace shmrpc::detail
