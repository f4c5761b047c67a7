#pragma once
/// One call slot of a client: the mapped segment, the validated schema, and the channel it owns,
/// with that channel's heap allocator and the buffers the server made for it. A Client holds
/// several and gives each call one (call_slots.hpp). The channel is released when the last
/// holder of the Connection (its Client, a SharedArray in its heap, a Python array) is gone.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shmrpc/client_options.hpp"
#include "shmrpc/detail/buffer_mappings.hpp"
#include "shmrpc/detail/call_protocol.hpp"
#include "shmrpc/detail/heap_allocator.hpp"
#include "shmrpc/detail/process.hpp"
#include "shmrpc/detail/spin_limit.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/schema.hpp"
#include "shmrpc/segment.hpp"
#include "shmrpc/shared_block.hpp"

namespace shmrpc {

class CallSlots;

/// One channel of a server, for one call at a time. Client holds several, one per call in flight;
/// language bindings and tools that call by schema drive DynamicCall on one (dynamic_call.hpp).
/// Shared (std::shared_ptr) by its Client and the SharedArrays in its heap. Not for two calls at
/// once: threads share a Client, not a Connection.
class Connection : public std::enable_shared_from_this<Connection> {
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
  /// The options it was made with, and the timeout set since.
  ClientOptions options() const;
  /// Sets the timeout of later calls (nullopt: none). Any thread.
  void set_timeout(std::optional<std::chrono::nanoseconds> timeout) noexcept;
  std::uint32_t channel() const noexcept { return channel_; }
  /// The server process, as identified when the connection was made.
  ProcessIdentity server() const noexcept { return server_; }

  /// Whether the server still runs: its state is ready and it holds its segment. Any thread.
  bool server_alive() const noexcept;

  /// The function `name` taking `arity` arguments; std::invalid_argument naming what exists.
  const FunctionSchema& function(std::string_view name, std::size_t arity) const;

  /// Where this channel's heap is mapped, and its size.
  std::byte* heap() const noexcept { return heap_; }
  std::uint64_t heap_size() const noexcept { return schema_.channels().heap_size; }
  /// Whether [data, data + bytes) lies whole in this channel's heap. Any thread.
  bool in_heap(const void* data, std::size_t bytes) const noexcept;
  /// Free bytes of the heap, for diagnostics.
  std::uint64_t heap_free_bytes() const noexcept { return allocator_.free_bytes(); }
  /// Values up to this many bytes go into the channel heap when it has room; larger ones, and
  /// any the heap cannot hold, into buffer segments.
  std::uint64_t inline_limit() const noexcept;

  /// A block of `bytes` of shared memory for an array the caller fills: in the heap if it is
  /// small and fits, else a buffer the server makes for this client (one request, which waits
  /// out a late call first). Called by the calling thread, between calls. Throws
  /// OutOfSharedMemoryError (/dev/shm full, quota), ServerGoneError, TimeoutError.
  SharedBlock allocate(std::uint64_t bytes);
  /// Gives back a block of allocate() or keep_result_block(): of a SharedArray, a Python array or
  /// a call. From any thread, never blocks on the server. While a late call is pending the
  /// server may still read or write any block it was handed, so the free is deferred until the
  /// calling thread sees that call end; a buffer is released to the server by the calling thread
  /// at its next call (or when the connection closes). A block that cannot be queued stays
  /// allocated (safe, only lost until the connection closes).
  void free_block(const SharedBlock& block) noexcept;

  /// Where [data, data + bytes) lies in shared memory this client can name to the server: a slot
  /// (offset and buffer; length 0) for the channel heap or one of its buffer mappings, or nullopt.
  /// The calling thread's, as a call is: it remembers the buffer it found last.
  std::optional<layout::VarSlot> locate(const void* data, std::size_t bytes) const;
  /// Buffer `id`, which must hold at least `bytes` bytes, mapped (cached after the first time).
  /// Throws ProtocolError when it cannot be mapped or is smaller.
  std::shared_ptr<const Segment> map_buffer(std::uint64_t id, std::uint64_t bytes);
  /// Buffers this client has mapped, for diagnostics and tests.
  std::size_t mapped_buffers() const { return mappings_->count(); }

  /// Whether a late (timed-out or interrupted) call may still run: the next call waits it out.
  bool has_late_call() const noexcept { return !late_call_.empty(); }
  /// Whether a late call still runs, without waiting: one seen to have ended is ended here (its
  /// deferred frees done). By the thread that holds the connection for its next call.
  bool late_call_running() noexcept;

 private:
  friend class DynamicCall;
  friend class CallSlots;

  // A call slot of a Client: shares `mappings` with its other slots, so that an array in any of
  // the client's buffers passes through any of them without a copy, and spins only with a
  // ticket of `spin_limit`.
  Connection(std::string_view name, const ClientOptions& options,
             std::shared_ptr<detail::BufferMappings> mappings,
             std::shared_ptr<detail::SpinLimit> spin_limit);
  using Deadline = std::chrono::steady_clock::time_point;

  // The call protocol, driven by DynamicCall on the calling thread.
  layout::CommandBlock& block() const noexcept { return *block_; }
  std::byte* frame() const noexcept { return frame_; }
  detail::HeapAllocator& allocator() noexcept { return allocator_; }
  // Before writing a call, on the calling thread: throws ServerGoneError if the server is gone,
  // and waits out a late (timed-out or interrupted) call, throwing TimeoutError if it still runs
  // at `deadline`. Then performs the frees deferred while the late call was pending, and
  // releases the buffers freed since the last call. A late call
  // whose state word shows kRunning or kIdle a liveness_interval after it became late may be a
  // word that another process rewrote while the server waits for a request: the wait then posts
  // a probe, a request for no function (index 0xFFFFFFFF), which an idle server fails at once
  // and a server that really runs the call overwrites with its end (docs/SPEC.md, section 7.5).
  void prepare(Deadline deadline);
  // Posts the request already written to the frame, with the call's deadline for the server.
  void post(const FunctionSchema& function, Deadline deadline);
  // Waits for the end of the call posted. Returns kDone or kFailed; nullopt when `deadline`
  // passed and the call was cancelled before it started. Throws ServerGoneError; TimeoutError
  // when the deadline passed while the server runs the call, and what interrupt_check throws:
  // then the call is late, and free_block() defers every free until it ends.
  std::optional<layout::CallState> await_end(std::string_view name, Deadline deadline);
  // Whether the call posted has ended, without waiting. Acquire, as await_end.
  bool call_ended() const noexcept;
  // Waits until the call posted ends or `until` passes, without giving it up: true once it has
  // ended. Throws ServerGoneError, and what interrupt_check throws (the call goes on).
  bool wait_for_end(std::string_view name, Deadline until);
  // Gives up the call posted: withdrawn if the server has not taken it, else late (the slot is
  // set aside until the server is done with it). Nothing once it has ended.
  void give_up(std::string_view name);
  // For a stream posted on this channel: waits until `word` (a counter of its ring) moves from
  // `seen`, for one liveness slice at most (to `deadline` if sooner), spinning first if `spin`.
  // Returns the new value; or `seen` after checking the server and interrupt_check. Throws
  // ServerGoneError, and what interrupt_check throws.
  std::uint32_t await_counter(std::atomic<std::uint32_t>& word, std::uint32_t seen,
                              Deadline deadline, bool spin, std::string_view name);
  // One buffer id freed since the last call, taken from the queue of ids to release (a stream
  // hands them back through its ring), or nullopt.
  std::optional<std::uint64_t> take_released();
  // Puts ids back into that queue, for the next call to release.
  void requeue_released(const std::vector<std::uint64_t>& ids);
  // Throws the exception that the failed request's status and error text in the command block
  // stand for; `what` names the request ("call to 'add'").
  [[noreturn]] void throw_failure(std::string_view function_name) const;

  // A scratch buffer of at least `bytes` for a copied argument, from the pool or new; back to
  // the pool with return_scratch() when the call is over (deferred while a late call runs).
  SharedBlock take_scratch(std::uint64_t bytes);
  void return_scratch(SharedBlock block) noexcept;

  // The deadline of a call starting now.
  Deadline call_deadline() const;

  // The buffer requests (layout::kMakeBufferIndex, kReleaseBufferIndex), on the calling thread
  // between calls.
  SharedBlock make_buffer(std::uint64_t bytes);
  void release_buffer(std::uint64_t id);
  void release_freed_buffers();
  // Runs a request that calls no function and returns its reply word; throws as a call does.
  std::uint64_t run_buffer_request(std::uint32_t index, std::uint64_t operand,
                                   std::string_view what);
  void free_now(const SharedBlock& block) noexcept;

  void claim_channel();
  bool try_claim_channel();
  [[noreturn]] void server_gone(std::string_view during);
  void check_server(std::string_view during);
  std::optional<layout::CallState> await(Deadline deadline, std::string_view during, bool late);
  void post_request(std::uint32_t index, Deadline deadline);
  std::optional<layout::CallState> post_and_await(std::uint32_t index, std::string_view name,
                                                  Deadline deadline);
  void abandon(std::string_view name);
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
  std::shared_ptr<detail::BufferMappings> mappings_;  // shared by the slots of one Client
  std::shared_ptr<detail::SpinLimit> spin_limit_;     // of the slots of one Client; may be null
  mutable detail::LocatedBuffer located_;    // the buffer locate() found last; the calling thread's
  std::atomic<std::int64_t> timeout_ns_;     // of later calls; -1: none (set_timeout, any thread)
  std::chrono::nanoseconds spin_;            // options_.spin, at most check_interval_
  std::chrono::nanoseconds check_interval_;  // options_.liveness_interval / 2
  bool gone_ = false;
  // The late call, touched by the calling thread only.
  std::string late_call_;  // name of a timed-out call the server may still run
  Deadline next_probe_{};  // when its wait may post a probe (again)
  bool probed_ = false;    // a probe was posted for it
  // Frees while a late call is pending, from any thread (SharedArrays, Python arrays), and
  // buffers freed since the last call.
  std::mutex free_mutex_;
  bool defer_frees_ = false;  // guarded by free_mutex_
  struct Deferred {
    SharedBlock block;
    bool scratch = false;  // back to the scratch pool, not freed
  };
  std::vector<Deferred> deferred_;         // guarded by free_mutex_
  std::vector<std::uint64_t> released_;    // guarded by free_mutex_: buffer ids to release
  std::atomic<bool> has_released_{false};  // released_ is not empty: checked on every call
  // Idle scratch buffers for copied arguments, by the calling thread only.
  std::vector<SharedBlock> scratch_;
  std::uint64_t scratch_bytes_ = 0;  // bytes in scratch_
};

}  // namespace shmrpc
