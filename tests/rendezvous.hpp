#pragma once
// A server function for tests: proves that calls on different channels run at the same time
// without timing them.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace shmrpc::test {

/// Returns true once `parties` calls (in this server process) have entered; false if that does
/// not happen within timeout_ms. Calls that ran one after another would each wait alone.
inline bool rendezvous(std::int32_t parties, std::int32_t timeout_ms) {
  static std::atomic<std::int32_t> arrived{0};
  arrived.fetch_add(1);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (arrived.load() < parties) {
    if (std::chrono::steady_clock::now() > give_up) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

}  // namespace shmrpc::test
