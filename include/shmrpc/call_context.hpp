#pragma once
/// CallContext: what a server function may learn of the call it serves. A function that takes a
/// `shmrpc::CallContext&` (or `const CallContext&`) as its first parameter gets it; clients do
/// not see that parameter (it is not part of the signature).
///
///   server.def("crunch", [](shmrpc::CallContext& call, std::int32_t steps) {
///     for (std::int32_t i = 0; i < steps; ++i) {
///       if (call.cancelled()) return i;  // the client gave up: stop early
///       step();
///     }
///     return steps;
///   });

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "shmrpc/layout.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc {

class CallContext {
 public:
  /// The context of the call whose request lies in `block`, for its serving thread.
  explicit CallContext(const layout::CommandBlock& block) noexcept : block_(&block) {}
  /// The same, for the call on channel `channel` of the server's `segment`, whose client
  /// client_alive() can then check.
  CallContext(const layout::CommandBlock& block, const Segment* segment,
              std::uint32_t channel) noexcept
      : block_(&block), segment_(segment), channel_(channel) {}

  /// Whether the client gave the call up (its timeout passed, it was interrupted, or it called
  /// cancel()): its result will not be read, so a function that checks may return early. Cheap
  /// (one load), for checking often.
  bool cancelled() const noexcept {
    // Acquire pairs with the client's release when it sets the flag: a stream's writer that
    // sees it also sees the reader's last count (docs/SPEC.md, section 7.8). A plain load on
    // x86, as cheap as relaxed.
    return (block_->call_flags.load(std::memory_order_acquire) & layout::kCallCancelled) != 0;
  }

  /// When the client gives the call up if it has not ended (its ClientOptions::timeout counted
  /// from the call's start), or nullopt for a call without a timeout. On the steady clock,
  /// which processes of one machine share (not across time namespaces).
  std::optional<std::chrono::steady_clock::time_point> deadline() const noexcept {
    if ((block_->call_flags.load(std::memory_order_relaxed) & layout::kCallHasDeadline) == 0) {
      return std::nullopt;
    }
    return std::chrono::steady_clock::time_point(
        std::chrono::nanoseconds(static_cast<std::int64_t>(block_->deadline_ns)));
  }

  /// Whether the calling client's process still holds its channel (true when unknown). A
  /// system call: for a function waiting on the client (a stream's writer), not for every
  /// step.
  bool client_alive() const noexcept {
    return segment_ == nullptr || segment_->locked(layout::channel_lock_byte(channel_));
  }

  /// The calling client's process id (in its pid namespace, as it wrote it).
  pid_t caller_pid() const noexcept {
    // Acquire pairs with the client's release store of its owner word when it claimed the
    // channel (SPEC 8).
    return static_cast<pid_t>(block_->owner.load(std::memory_order_acquire) & 0xFFFF'FFFFU);
  }

 private:
  const layout::CommandBlock* block_;
  const Segment* segment_ = nullptr;
  std::uint32_t channel_ = 0;
};

}  // namespace shmrpc
