#include "shmrpc/detail/stream_ring.hpp"

#include "shmrpc/detail/call_protocol.hpp"

namespace shmrpc::detail {

std::uint32_t wait_for_counter(CounterWord& word, std::uint32_t seen, std::chrono::nanoseconds spin,
                               Deadline until) {
  constexpr unsigned kSpinsPerClockRead = 64;
  const auto spin_end = std::chrono::steady_clock::now() + spin;
  for (unsigned i = 1;; ++i) {
    // Acquire pairs with post_counter's release: the entries behind the new count are seen.
    const std::uint32_t now = word.load(std::memory_order_acquire) & ~layout::kSleeperBit;
    if (now != seen) {
      return now;
    }
    cpu_relax();
    if (i % kSpinsPerClockRead == 0 && std::chrono::steady_clock::now() >= spin_end) {
      break;
    }
  }
  std::uint32_t expected = seen;
  // The sleeper bit tells post_counter to wake us; unless the count moved meanwhile.
  if (word.compare_exchange_strong(expected, seen | layout::kSleeperBit, std::memory_order_acq_rel,
                                   std::memory_order_acquire) ||
      expected == (seen | layout::kSleeperBit)) {
    futex_wait(word, seen | layout::kSleeperBit, until);
  } else {
    return expected & ~layout::kSleeperBit;  // moved meanwhile
  }
  return word.load(std::memory_order_acquire) & ~layout::kSleeperBit;
}

}  // namespace shmrpc::detail
