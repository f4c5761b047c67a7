#include "shmrpc/detail/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

namespace shmrpc::detail {
namespace {

// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): a process-wide statistic
std::atomic<std::uint64_t> g_wake_count{0};

// The kernel compares and sleeps on the word's address; std::atomic<uint32_t> is a plain 4-byte
// word (pinned in layout.hpp), so its address is the futex.
auto* futex_address(const std::atomic<std::uint32_t>& word) {
  // futex(2) takes a non-const pointer but does not write through it for WAIT and WAKE.
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
  return const_cast<std::uint32_t*>(reinterpret_cast<const std::uint32_t*>(&word));
}

}  // namespace

bool futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, Deadline deadline) {
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, which is what steady_clock
  // reads on Linux, so retries after EINTR do not stretch the wait.
  timespec ts{};
  const timespec* timeout = nullptr;  // no deadline: sleep until woken
  if (deadline != Deadline::max()) {
    const auto since_epoch = deadline.time_since_epoch();
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    ts.tv_sec = static_cast<time_t>(secs.count());
    ts.tv_nsec = static_cast<long>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs).count());
    timeout = &ts;
  }
  const long rc = syscall(SYS_futex, futex_address(word), FUTEX_WAIT_BITSET, expected, timeout,
                          nullptr, FUTEX_BITSET_MATCH_ANY);
  return rc == 0 || errno != ETIMEDOUT;
}

void futex_wake_all(const std::atomic<std::uint32_t>& word) {
  g_wake_count.fetch_add(1, std::memory_order_relaxed);  // a statistic; orders nothing
  syscall(SYS_futex, futex_address(word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

std::uint64_t futex_wake_count() noexcept {
  return g_wake_count.load(std::memory_order_relaxed);
}

}  // namespace shmrpc::detail
