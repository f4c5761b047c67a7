#pragma once
/// The counters of a stream's ring (layout::StreamRing, docs/SPEC.md section 7.8), as both sides
/// use them: one side advances a counter word, the other waits for it to move. Each word has one
/// writer of its count; the waiting side only sets kSleeperBit on it before it sleeps, so the
/// writer knows to wake it.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "shmrpc/detail/futex.hpp"
#include "shmrpc/layout.hpp"

namespace shmrpc::detail {

using CounterWord = std::atomic<std::uint32_t>;

/// Entries from counter `from` to counter `to`, modulo 2^30.
constexpr std::uint32_t ring_distance(std::uint32_t from, std::uint32_t to) noexcept {
  return (to - from) & layout::kStreamCountMask;
}

/// Stores `value` (a count and flags, no sleeper bit) into `word`, waking a side that sleeps on
/// it. Release: what was written before (an entry, a consumed entry's last read) is seen by the
/// side that acquires the new value.
inline void post_counter(CounterWord& word, std::uint32_t value) {
  const std::uint32_t old = word.exchange(value, std::memory_order_acq_rel);
  if ((old & layout::kSleeperBit) != 0) {
    futex_wake_all(word);
  }
}

/// Waits until `word` (without its sleeper bit) differs from `seen`: spins for `spin`, then
/// sleeps until `until`. Returns the new value (sleeper bit cleared), or `seen` when `until`
/// passed first; a spurious wake-up also returns `seen`, so callers check their conditions and
/// wait again.
std::uint32_t wait_for_counter(CounterWord& word, std::uint32_t seen, std::chrono::nanoseconds spin,
                               Deadline until);

}  // namespace shmrpc::detail
