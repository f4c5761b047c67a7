#pragma once
/// The futex syscall, on words in shared memory (never FUTEX_PRIVATE_FLAG: the peer is another
/// process). src/futex.cpp is the only place that calls it.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace shmrpc::detail {

using Deadline = std::chrono::steady_clock::time_point;

/// Sleeps while `word` holds `expected`, until woken or `deadline` (steady clock) passes.
/// Returns false on timeout. Returns true on a wake-up, a changed value, EINTR or a spurious
/// wake: the caller re-reads the word.
bool futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, Deadline deadline);

/// Wakes every thread sleeping on `word`, in any process.
void futex_wake_all(const std::atomic<std::uint32_t>& word);

/// FUTEX_WAKE syscalls made by this process so far (tests prove that spinning peers make none).
std::uint64_t futex_wake_count() noexcept;

}  // namespace shmrpc::detail
