#pragma once
/// A client's attachment to one server: the mapped segment, the validated schema, and the channel
/// it owns, with that channel's heap allocator. The channel is released when the last holder of
/// the Connection (Client, SharedArray, Function, Python array) is gone.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shmrpc/client_options.hpp"
#include "shmrpc/detail/call_protocol.hpp"
#include "shmrpc/detail/heap_allocator.hpp"
#include "shmrpc/detail/process.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/schema.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc {

/// A client's attachment to one server. Client holds one; language bindings and tools that call
/// by schema drive DynamicCall on it (dynamic_call.hpp). Shared (std::shared_ptr) by the Client
/// and the SharedArrays in its heap.
class Connection {
 public:
  /// Attaches to server `name`, validates its segment and claims a free channel. Throws
  /// NoServerError (also when the server dies or stops during a channel_wait), ProtocolError,
  /// ChannelsBusyError, std::invalid_argument (bad name), and what interrupt_check throws.
  Connection(std::string_view name, const ClientOptions& options);
  /// Releases the channel.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&&) = delete;
  Connection& operator=(Connection&&) = delete;

  const std::string& server_name() const noexcept { return segment_.name(); }
  const Schema& schema() const noexcept { return schema_; }
  const ClientOptions& options() const noexcept { return options_; }
  void set_timeout(std::optional<std::chrono::nanoseconds> timeout) { options_.timeout = timeout; }
  std::uint32_t channel() const noexcept { return channel_; }
  /// The server process, as identified when the connection was made.
  ProcessIdentity server() const noexcept { return server_; }

  /// The function `name` taking `arity` arguments; std::invalid_argument naming what exists.
  const FunctionSchema& function(std::string_view name, std::size_t arity) const;

  /// Where this channel's heap is mapped, and its size.
  std::byte* heap() const noexcept { return heap_; }
  std::uint64_t heap_size() const noexcept { return schema_.channels().heap_size; }
  /// Free bytes of the heap, for diagnostics.
  std::uint64_t heap_free_bytes() const noexcept { return allocator_.free_bytes(); }
  /// A block of `bytes` in the heap, for an array the caller fills; returns its heap offset.
  /// Called by the calling thread. Throws std::length_error with the sizes when no free piece is
  /// that big (after finishing a late call that has ended, whose deferred frees may make room).
  std::uint64_t allocate(std::uint64_t bytes);
  /// Gives back the heap block at `offset`: of a SharedArray, a Python array or a call. From any
  /// thread, never blocks on the server. While a late call is pending the server may still read
  /// or write any block of the heap (an array it was handed lies where the caller made it), so
  /// the free is deferred until the calling thread sees that call end (prepare(), allocate());
  /// until then the block is not reused. A block that cannot be queued stays allocated.
  void free_block(std::uint64_t offset) noexcept;

  /// True when [data, data + bytes) lies inside this channel's heap.
  bool in_heap(const void* data, std::size_t bytes) const noexcept;

  /// Whether a late (timed-out or interrupted) call may still run: the next call waits it out.
  bool has_late_call() const noexcept { return !late_call_.empty(); }

 private:
  friend class DynamicCall;
  using Deadline = std::chrono::steady_clock::time_point;

  // The call protocol, driven by DynamicCall on the calling thread.
  layout::CommandBlock& block() const noexcept { return *block_; }
  std::byte* frame() const noexcept { return frame_; }
  detail::HeapAllocator& allocator() noexcept { return allocator_; }
  // Before writing a call, on the calling thread: throws ServerGoneError if the server is gone,
  // and waits out a late (timed-out or interrupted) call, throwing TimeoutError if it still runs
  // at `deadline`. Then performs the frees deferred while the late call was pending. A late call
  // whose state word shows kRunning or kIdle a liveness_interval after it became late may be a
  // word that another process rewrote while the server waits for a request: the wait then posts
  // a probe, a request for no function (index 0xFFFFFFFF), which an idle server fails at once
  // and a server that really runs the call overwrites with its end (docs/SPEC.md, section 7.5).
  void prepare(Deadline deadline);
  // Posts the request already written to the frame and waits for its end. Returns kDone or
  // kFailed; nullopt when `deadline` passed and the call was cancelled before it started.
  // Throws ServerGoneError; TimeoutError when the deadline passed while the server runs the call,
  // and what interrupt_check throws: then the call is late, and free_block() defers every free
  // until it ends.
  std::optional<layout::CallState> run(const FunctionSchema& function, Deadline deadline);

  // The deadline of a call starting now.
  Deadline call_deadline() const;

  void claim_channel();
  bool try_claim_channel();
  [[noreturn]] void server_gone(std::string_view during);
  void check_server(std::string_view during);
  std::optional<layout::CallState> await(Deadline deadline, std::string_view during, bool late);
  void abandon(const FunctionSchema& function);
  void probe_late_call();
  void end_late_call() noexcept;

  ClientOptions options_;
  Segment segment_;
  const layout::SegmentHeader* header_ = nullptr;
  ProcessIdentity server_;
  Schema schema_;
  std::uint32_t channel_ = 0;
  layout::CommandBlock* block_ = nullptr;
  std::byte* frame_ = nullptr;
  std::byte* heap_ = nullptr;
  detail::HeapAllocator allocator_;
  std::chrono::nanoseconds spin_;            // options_.spin, at most check_interval_
  std::chrono::nanoseconds check_interval_;  // options_.liveness_interval / 2
  bool gone_ = false;
  // The late call, touched by the calling thread only.
  std::string late_call_;  // name of a timed-out call the server may still run
  Deadline next_probe_{};  // when its wait may post a probe (again)
  bool probed_ = false;    // a probe was posted for it
  // Frees while a late call is pending, from any thread (SharedArrays, Python arrays).
  std::mutex free_mutex_;
  bool defer_frees_ = false;             // guarded by free_mutex_
  std::vector<std::uint64_t> deferred_;  // guarded by free_mutex_
};

}  // namespace shmrpc
