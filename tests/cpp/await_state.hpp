#pragma once
// Test support: waits on a channel's state word as a real caller does.

#include <chrono>
#include <optional>

#include "shmrpc/detail/call_protocol.hpp"

namespace shmrpc::test {

/// wait_for_state until the state satisfies `what` or `deadline` passes: a wake-up without the
/// awaited state (which wait_for_state allows: an interrupted futex wait, as under TSan) just
/// waits again. nullopt when the deadline passed.
inline std::optional<detail::CallState> await_state(
    detail::StateWord& word, detail::WaitFor what, std::chrono::nanoseconds spin,
    std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (const auto state = detail::wait_for_state(word, what, spin, deadline)) {
      return state;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
  }
}

}  // namespace shmrpc::test
