#pragma once
/// The call protocol on a channel's state word (layout::CommandBlock::state).
///
///   state     | written by | next states            | who waits for it
///   ----------+------------+------------------------+-----------------------------------------
///   kIdle     | client     | kRequest               | server waits for kRequest
///   kRequest  | client     | kRunning (server),     | client waits for kDone / kFailed
///             |            | kIdle (client cancels) |
///   kRunning  | server     | kDone, kFailed,        | client waits for kDone / kFailed
///             |            | kRequest (client probe |
///             |            | of a late call)        |
///   kDone     | server     | kIdle, kRequest        | server waits for kRequest
///   kFailed   | server     | kIdle, kRequest        | server waits for kRequest
///
/// At most one side sleeps on the word at a time. Before sleeping it sets layout::kSleeperBit by
/// CAS and passes the value with the bit to FUTEX_WAIT. A transition the sleeper waits for is an
/// exchange that clears the bit, and only if the old value had it does the writer call FUTEX_WAKE:
/// a pair of spinning peers makes no syscall at all. Other transitions keep the bit.
/// Every change of the word is a read-modify-write, so a sleeper's CAS and the peer's exchange are
/// totally ordered: either the CAS fails (the state moved on) or the exchange sees the bit.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "shmrpc/detail/futex.hpp"
#include "shmrpc/layout.hpp"

namespace shmrpc::detail {

using layout::CallState;
using StateWord = std::atomic<std::uint32_t>;

constexpr CallState state_of(std::uint32_t word) {
  return static_cast<CallState>(word & ~layout::kSleeperBit);
}

constexpr std::uint32_t word_of(CallState state) {
  return static_cast<std::uint32_t>(state);
}

/// Which states a waiter is waiting for.
enum class WaitFor : std::uint8_t {
  kRequest,     ///< the server: a call to run
  kCompletion,  ///< the client: kDone or kFailed
};

constexpr bool satisfies(CallState state, WaitFor what) {
  return what == WaitFor::kRequest ? state == CallState::kRequest
                                   : state == CallState::kDone || state == CallState::kFailed;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Spins for up to `spin`, and not past `deadline`, until the state satisfies `what` (it looks at
/// least once); makes no syscall. Returns the state, or nullopt when the spin ran out. Inline,
/// and the clock is first read after some spins, because this is the whole wait of a fast call.
/// Acquire: the peer's writes before its transition are visible on return.
inline std::optional<CallState> spin_for_state(const StateWord& word, WaitFor what,
                                               std::chrono::nanoseconds spin,
                                               Deadline deadline = Deadline::max()) {
  constexpr unsigned kSpinsPerClockRead = 64;  // a clock read costs about as much as a spin
  std::chrono::steady_clock::time_point spin_end{};
  for (unsigned i = 1;; ++i) {
    // Acquire pairs with the peer's release in post_state / change_state_quietly.
    const CallState state = state_of(word.load(std::memory_order_acquire));
    if (satisfies(state, what)) {
      return state;
    }
    if (spin.count() <= 0) {
      return std::nullopt;
    }
    cpu_relax();
    if (i % kSpinsPerClockRead == 0) {
      const auto now = std::chrono::steady_clock::now();
      if (i == kSpinsPerClockRead) {
        spin_end = deadline - now > spin ? now + spin : deadline;
      }
      if (now >= spin_end) {
        return std::nullopt;
      }
    }
  }
}

/// Sleeps in FUTEX_WAIT until the state satisfies `what`, the peer wakes us, or `deadline`.
/// Returns the state seen, or nullopt when the deadline passed or the sleeper was woken without
/// the awaited state (the owner's stop(), a spurious wake): the caller decides whether to wait
/// again. Acquire, as above.
std::optional<CallState> sleep_for_state(StateWord& word, WaitFor what, Deadline deadline);

/// spin_for_state, then sleep_for_state.
inline std::optional<CallState> wait_for_state(StateWord& word, WaitFor what,
                                               std::chrono::nanoseconds spin, Deadline deadline) {
  if (const auto state = spin_for_state(word, what, spin, deadline)) {
    return state;
  }
  return sleep_for_state(word, what, deadline);
}

/// Moves the state to `to` and wakes the peer if it sleeps. Release: pairs with the acquire in
/// wait_for_state, publishing everything written before (arguments, results, status).
inline void post_state(StateWord& word, CallState to) {
  const std::uint32_t old = word.exchange(word_of(to), std::memory_order_acq_rel);
  if ((old & layout::kSleeperBit) != 0) {
    futex_wake_all(word);
  }
}

/// Moves the state from `from` to `to` if it is still `from`, and wakes the peer if it sleeps.
/// Returns false if the state was not `from`. Release, as post_state.
inline bool post_state_if(StateWord& word, CallState from, CallState to) {
  std::uint32_t seen = word.load(std::memory_order_relaxed);
  do {
    if (state_of(seen) != from) {
      return false;
    }
  } while (!word.compare_exchange_weak(seen, word_of(to), std::memory_order_acq_rel,
                                       std::memory_order_relaxed));
  if ((seen & layout::kSleeperBit) != 0) {
    futex_wake_all(word);
  }
  return true;
}

/// Moves the state from `from` to `to` if it is still `from`, keeping a sleeper's bit set (the
/// sleeper does not wait for `to`). Returns false if the state was not `from`.
inline bool change_state_quietly(StateWord& word, CallState from, CallState to) {
  std::uint32_t seen = word.load(std::memory_order_relaxed);
  do {
    if (state_of(seen) != from) {
      return false;
    }
    // acq_rel: acquire the peer's writes made before it posted `from`; release ours.
  } while (!word.compare_exchange_weak(seen, word_of(to) | (seen & layout::kSleeperBit),
                                       std::memory_order_acq_rel, std::memory_order_relaxed));
  return true;
}

}  // namespace shmrpc::detail
