#pragma once
// Server functions for tests of CallContext: a call that runs until its client gives it up, and
// what a function learns of its caller.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <tuple>

#include "shmrpc/call_context.hpp"

namespace shmrpc::test {

/// How the last wait_for_cancel (in this server process) ended: 0 not yet, 1 it saw its call
/// cancelled, 2 it ran out of time.
inline std::atomic<std::int32_t>& cancel_outcome() {
  static std::atomic<std::int32_t> outcome{0};
  return outcome;
}

/// Runs up to max_ms, returning early (true) once its client gave the call up.
inline bool wait_for_cancel(CallContext& call, std::int32_t max_ms) {
  cancel_outcome() = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
  while (std::chrono::steady_clock::now() < give_up) {
    if (call.cancelled()) {
      cancel_outcome() = 1;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  cancel_outcome() = 2;
  return false;
}

inline std::int32_t last_cancel_outcome() {
  return cancel_outcome().load();
}

/// (the caller's pid, milliseconds left until the call's deadline or -1 without one).
inline std::tuple<std::int32_t, std::int64_t> call_info(const CallContext& call) {
  const auto deadline = call.deadline();
  const std::int64_t left = deadline ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                           *deadline - std::chrono::steady_clock::now())
                                           .count()
                                     : -1;
  return {call.caller_pid(), left};
}

}  // namespace shmrpc::test
