#include "shmrpc/detail/call_protocol.hpp"

namespace shmrpc::detail {

std::optional<CallState> sleep_for_state(StateWord& word, WaitFor what, Deadline deadline) {
  for (;;) {  // Acquire pairs with the peer's release in post_state / change_state_quietly.
    std::uint32_t seen = word.load(std::memory_order_acquire);
    if (satisfies(state_of(seen), what)) {
      return state_of(seen);
    }
    if ((seen & layout::kSleeperBit) == 0) {
      // Announce the sleep. If the peer moves the state first, the CAS fails and we re-check;
      // otherwise the peer's exchange sees the bit and calls FUTEX_WAKE.
      const std::uint32_t with_bit = seen | layout::kSleeperBit;
      if (!word.compare_exchange_strong(seen, with_bit, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        continue;
      }
      seen = with_bit;
    }
    // The kernel re-checks the word against `seen` atomically, so a post between our CAS and
    // this call makes FUTEX_WAIT return at once instead of sleeping through it. Any return ends
    // the wait: a wake-up without the awaited state is the owner's stop() or a spurious wake,
    // and the caller decides whether to wait again.
    futex_wait(word, seen, deadline);
    const CallState state = state_of(word.load(std::memory_order_acquire));
    if (satisfies(state, what)) {
      return state;
    }
    return std::nullopt;
  }
}

}  // namespace shmrpc::detail
