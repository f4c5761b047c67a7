#include "shmrpc/connection.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <system_error>
#include <thread>

#include "shmrpc/detail/stream_ring.hpp"
#include "shmrpc/errors.hpp"

namespace shmrpc {

using detail::CallState;
using detail::change_state_quietly;
using detail::current_process;
using detail::futex_wake_all;
using detail::owner_word;
using detail::post_state;
using detail::satisfies;
using detail::sleep_for_state;
using detail::spin_for_state;
using detail::state_of;
using detail::WaitFor;
using detail::word_of;

namespace {

using Clock = std::chrono::steady_clock;
using layout::ServerState;

// The function index of a probe (a request for no function): the server rejects an index past
// its function table with kBadRequest before running anything (docs/SPEC.md, section 10.3).
using layout::kProbeIndex;

// Values up to this many bytes go into the heap when it has room: a buffer costs a request and a
// mapping, which only pays off for larger values.
constexpr std::uint64_t kMaxInlineBytes = std::uint64_t{64} << 10U;
// Scratch buffers for copied arguments are made in multiples of this, so that a few sizes serve
// many calls.
constexpr std::uint64_t kScratchGranule = std::uint64_t{1} << 20U;
// Idle scratch buffers kept for later calls, at most this many bytes besides the last one used,
// which is always kept: a loop that copies one large array per call pays the copy only.
constexpr std::uint64_t kScratchPoolBytes = std::uint64_t{256} << 20U;

const layout::SegmentHeader& header_of(const Segment& segment) {
  return *reinterpret_cast<const layout::SegmentHeader*>(segment.data());
}

ServerState server_state(const layout::SegmentHeader& header) {
  // Acquire pairs with the server's release store of the state.
  return static_cast<ServerState>(header.state.load(std::memory_order_acquire));
}

[[noreturn]] void no_server(std::string_view name, std::string_view why) {
  throw NoServerError(fmt::format("shmrpc: no server named '{}' is running ({})", name, why));
}

// The segment `name`, or nullopt while it is being created and still empty.
std::optional<Segment> open_segment(std::string_view name) {
  try {
    return Segment::open(name);
  } catch (const std::system_error& error) {
    if (error.code().value() == ENOENT) {
      no_server(name, fmt::format("there is no {} in /dev/shm", shm_object_name(name).substr(1)));
    }
    if (error.code().value() == ENODATA) {
      return std::nullopt;
    }
    throw;
  }
}

// True when the segment's server is ready; false while its header is still being written.
// Throws NoServerError for a dead or stopping server, ProtocolError for another format version.
bool server_ready(const Segment& segment, std::string_view name) {
  if (segment.size() < sizeof(layout::SegmentHeader)) {
    return false;
  }
  const layout::SegmentHeader& header = header_of(segment);
  if (header.magic != layout::kMagic) {
    return false;
  }
  if (header.format_version != layout::kFormatVersion) {
    (void)Schema::read(segment.data(), segment.size(), name);  // throws, naming both versions
  }
  const ProcessIdentity server{header.server_pid, header.server_start_time};
  const ServerState state = server_state(header);
  if (state == ServerState::kStopping || state == ServerState::kStopped) {
    no_server(name, fmt::format("the server with pid {} is stopping", server.pid));
  }
  // The holder lock, not the pid: it means the same in every pid namespace (SPEC 9.3).
  if (!segment.held()) {
    no_server(name, fmt::format("its segment was left by pid {}, which has died; a new server of "
                                "that name replaces it",
                                server.pid));
  }
  return state == ServerState::kReady;
}

// A segment of another user could be a server impersonating ours: by default attach only to our
// own user's (SPEC 10.1).
void check_owner(const Segment& segment, const ClientOptions& options) {
  const uid_t expected = options.server_uid.value_or(::geteuid());
  if (segment.owner_uid() != expected) {
    throw std::system_error(
        EACCES, std::generic_category(),
        fmt::format("shmrpc: {} belongs to uid {}, not to uid {}{}", segment_path(segment.name()),
                    segment.owner_uid(), expected,
                    options.server_uid ? " (ClientOptions::server_uid)"
                                       : ", this client's user; set ClientOptions::server_uid to "
                                         "attach to another user's server"));
  }
}

// Opens the segment of a running server, waiting up to connect_timeout for one still starting.
Segment open_server_segment(std::string_view name, const ClientOptions& options) {
  validate_name(name);
  const auto give_up = Clock::now() + options.connect_timeout;
  for (;;) {
    std::optional<Segment> segment = open_segment(name);
    if (segment) {
      check_owner(*segment, options);
    }
    if (segment && server_ready(*segment, name)) {
      return std::move(*segment);
    }
    if (Clock::now() >= give_up) {
      const auto waited =
          std::chrono::duration_cast<std::chrono::milliseconds>(options.connect_timeout);
      no_server(name,
                fmt::format("a segment exists but its server did not become ready within {} ms",
                            waited.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

Connection::Connection(std::string_view name, const ClientOptions& options)
    : Connection(name, options, std::make_shared<detail::BufferMappings>(std::string(name)),
                 nullptr) {}

Connection::Connection(std::string_view name, const ClientOptions& options,
                       std::shared_ptr<detail::BufferMappings> mappings,
                       std::shared_ptr<detail::SpinLimit> spin_limit)
    : options_(options),
      segment_(open_server_segment(name, options)),
      header_(&header_of(segment_)),
      server_{header_->server_pid, header_->server_start_time},
      schema_(Schema::read(segment_.data(), segment_.size(), name)),
      allocator_(schema_.channels().heap_size),
      mappings_(std::move(mappings)),
      spin_limit_(std::move(spin_limit)),
      timeout_ns_(options.timeout ? options.timeout->count() : -1),
      spin_(std::min(options.spin, options.liveness_interval / 2)),
      check_interval_(options.liveness_interval / 2) {
  claim_channel();
}

Connection::~Connection() {
  if (late_call_.empty() && !gone_) {
    // Give back what the server holds for us; what it still holds then (buffers of arrays still
    // alive, which keep their own mappings) it frees when it stops.
    try {
      for (const SharedBlock& block : scratch_) {
        free_block(block);
      }
      scratch_.clear();
      if (server_state(*header_) == ServerState::kReady && segment_.held()) {
        release_freed_buffers();
      }
    } catch (...) {  // the server went away meanwhile: it freed everything itself
    }
  }
  if (!late_call_.empty() && !probed_) {
    // A late call the server took cannot be in kRequest: that is a word someone rewrote, so take
    // it back. Our own probe stays: a server running the late call overwrites it with its end,
    // an idle one fails it, and until then no client claims the channel (section 8). A call the
    // server runs ends in kDone, which the next owner accepts.
    change_state_quietly(block_->state, CallState::kRequest, CallState::kIdle);
  }
  std::uint64_t me = owner_word(current_process());
  // Release: our last writes to the channel happen before another client claims it.
  block_->owner.compare_exchange_strong(me, 0, std::memory_order_release,
                                        std::memory_order_relaxed);
  segment_.unlock(layout::channel_lock_byte(channel_));
}

void Connection::claim_channel() {
  const auto start = Clock::now();
  const auto give_up = start + options_.channel_wait.value_or(std::chrono::nanoseconds(0));
  auto next_check = start + check_interval_;
  while (!try_claim_channel()) {
    // The server may end while we wait: look at the header's state every round (one load) and
    // at its holder lock every check_interval_ (one fcntl), as a waiting call does.
    const bool stopped = server_state(*header_) != ServerState::kReady;
    const auto now = Clock::now();
    if (stopped || (now >= next_check && !segment_.held())) {
      no_server(server_name(),
                fmt::format("the server with pid {} {} while this client waited for a free channel",
                            server_.pid, stopped ? "stopped" : "died"));
    }
    if (now >= next_check) {
      next_check = now + check_interval_;
    }
    if (now >= give_up) {
      throw ChannelsBusyError(
          fmt::format("shmrpc: all {} channels of server '{}' are in use by live clients{}",
                      schema_.channels().count, server_name(),
                      options_.channel_wait ? " (waited for one to be released)" : ""));
    }
    if (options_.interrupt_check) {
      options_.interrupt_check();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

bool Connection::try_claim_channel() {
  const ChannelGeometry& geometry = schema_.channels();
  const std::uint64_t me = owner_word(current_process());
  for (std::uint32_t channel = 0; channel < geometry.count; ++channel) {
    // The channel's byte lock decides who owns it (SPEC 8): the kernel drops it when its owner
    // dies, in whatever pid namespace, so a dead owner's channel is free and a live one's is not.
    const std::uint64_t lock_byte = layout::channel_lock_byte(channel);
    if (!segment_.try_lock(lock_byte)) {
      continue;
    }
    std::byte* base = segment_.data() + geometry.table_offset + channel * geometry.stride;
    auto& block = *reinterpret_cast<layout::CommandBlock*>(base);
    // Acquire: the previous owner's writes (released when it let go, or made before it died and
    // seen through the lock's syscall) happen before ours.
    const CallState state = state_of(block.state.load(std::memory_order_acquire));
    if (state == CallState::kRequest || state == CallState::kRunning) {
      // A dead client's call is still being served; leave the channel to a later claim.
      segment_.unlock(lock_byte);
      continue;
    }
    change_state_quietly(block.state, state, CallState::kIdle);
    // Release: pairs with the acquire loads of tools and of the server's reclaim, which read the
    // owner word for display and for "whose channel is this".
    block.owner.store(me, std::memory_order_release);
    channel_ = channel;
    block_ = &block;
    frame_ = base + layout::kFrameOffset;
    heap_ = base + geometry.heap_offset;
    return true;
  }
  return false;
}

std::uint64_t Connection::inline_limit() const noexcept {
  return std::min(kMaxInlineBytes, heap_size() / 4);
}

SharedBlock Connection::allocate(std::uint64_t bytes) {
  if (bytes <= inline_limit()) {
    auto offset = allocator_.allocate(bytes);
    if (!offset && has_late_call() && !late_call_running()) {
      // The late call has ended, and late_call_running() performed its deferred frees: they
      // may make room.
      offset = allocator_.allocate(bytes);
    }
    if (offset) {
      return {
          .buffer = layout::kHeapBuffer, .offset = *offset, .data = heap_ + *offset, .mapping = {}};
    }
  }
  prepare(call_deadline());
  return make_buffer(bytes);
}

void Connection::free_block(const SharedBlock& block) noexcept {
  const std::lock_guard lock(free_mutex_);
  if (defer_frees_) {
    try {
      deferred_.push_back({block, false});
    } catch (...) {
      // No memory to note it: the block stays allocated, which is safe, only lost.
    }
    return;
  }
  free_now(block);
}

void Connection::free_now(const SharedBlock& block) noexcept {
  if (block.in_heap()) {
    allocator_.free(block.offset);
    return;
  }
  mappings_->forget(block.buffer);
  try {
    released_.push_back(block.buffer);
    // Relaxed: the calling thread reads released_ under free_mutex_; the flag only says "look".
    has_released_.store(true, std::memory_order_relaxed);
  } catch (...) {
    // Not released until the connection closes or the client dies: safe, only held longer.
  }
}

SharedBlock Connection::take_scratch(std::uint64_t bytes) {
  auto best = scratch_.end();
  for (auto it = scratch_.begin(); it != scratch_.end(); ++it) {
    if (it->mapping->size() >= bytes &&
        (best == scratch_.end() || it->mapping->size() < best->mapping->size())) {
      best = it;
    }
  }
  if (best == scratch_.end()) {
    return make_buffer(layout::align_up(bytes, kScratchGranule));
  }
  SharedBlock block = std::move(*best);
  scratch_.erase(best);
  scratch_bytes_ -= block.mapping->size();
  return block;
}

void Connection::return_scratch(SharedBlock block) noexcept {
  const std::lock_guard lock(free_mutex_);
  try {
    if (defer_frees_) {
      deferred_.push_back({std::move(block), true});
      return;
    }
    scratch_bytes_ += block.mapping->size();
    scratch_.push_back(std::move(block));
    // The oldest go first; the one just returned stays.
    while (scratch_bytes_ - scratch_.back().mapping->size() > kScratchPoolBytes) {
      scratch_bytes_ -= scratch_.front().mapping->size();
      free_now(scratch_.front());
      scratch_.erase(scratch_.begin());
    }
  } catch (...) {
    free_now(block);  // only when push_back could not grow: then `block` was not moved from
  }
}

SharedBlock Connection::make_buffer(std::uint64_t bytes) {
  std::uint64_t id = 0;
  try {
    id = run_buffer_request(layout::kMakeBufferIndex, bytes,
                            fmt::format("make a buffer of {} bytes", bytes));
  } catch (const OutOfSharedMemoryError& error) {
    throw OutOfSharedMemoryError(error.what(), bytes);  // the server's text, with the size
  }
  try {
    auto mapping = map_buffer(id, bytes);
    std::byte* data = mapping->data();
    return {.buffer = id, .offset = 0, .data = data, .mapping = std::move(mapping)};
  } catch (...) {
    release_buffer(id);
    throw;
  }
}

void Connection::release_buffer(std::uint64_t id) {
  try {
    run_buffer_request(layout::kReleaseBufferIndex, id, fmt::format("release buffer {}", id));
  } catch (const ProtocolError&) {
    // The server refused: it does not know the buffer (any more). Nothing is held.
  }
}

void Connection::release_freed_buffers() {
  std::vector<std::uint64_t> ids;
  {
    const std::lock_guard lock(free_mutex_);
    ids.swap(released_);
    has_released_.store(false, std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    try {
      release_buffer(ids[i]);
    } catch (...) {
      // The rest stay to be released at the next call.
      const std::lock_guard lock(free_mutex_);
      released_.insert(released_.end(), ids.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                       ids.end());
      has_released_.store(!released_.empty(), std::memory_order_relaxed);
      throw;
    }
  }
}

std::uint64_t Connection::run_buffer_request(std::uint32_t index, std::uint64_t operand,
                                             std::string_view what) {
  // The operands lie in the command block, so a call whose arguments are half written keeps
  // its frame (layout::kMakeBufferIndex).
  block_->result_offset = index == layout::kMakeBufferIndex ? 0 : operand;
  block_->result_capacity = index == layout::kMakeBufferIndex ? operand : 0;
  const auto state = post_and_await(index, what, call_deadline());
  if (!state) {
    throw TimeoutError(fmt::format("shmrpc: server '{}' did not take the request to {} in time",
                                   server_name(), what));
  }
  if (*state != CallState::kDone) {
    throw_failure(what);
  }
  // The reply was written before kDone was posted (acquire in await()).
  return block_->result_offset;
}

bool Connection::in_heap(const void* data, std::size_t bytes) const noexcept {
  const auto begin = reinterpret_cast<std::uintptr_t>(heap_);
  const auto p = reinterpret_cast<std::uintptr_t>(data);
  return p >= begin && p - begin <= heap_size() && bytes <= heap_size() - (p - begin);
}

std::optional<layout::VarSlot> Connection::locate(const void* data, std::size_t bytes) const {
  if (in_heap(data, bytes)) {
    const auto offset =
        reinterpret_cast<std::uintptr_t>(data) - reinterpret_cast<std::uintptr_t>(heap_);
    return layout::VarSlot{.offset = offset, .length = 0, .buffer = layout::kHeapBuffer};
  }
  if (const auto found = mappings_->locate(data, bytes, located_)) {
    return layout::VarSlot{.offset = found->second, .length = 0, .buffer = found->first};
  }
  return std::nullopt;
}

std::shared_ptr<const Segment> Connection::map_buffer(std::uint64_t id, std::uint64_t bytes) {
  try {
    return mappings_->map(id, bytes);
  } catch (const std::system_error& error) {
    throw ProtocolError(fmt::format("shmrpc: cannot map buffer {} of server '{}': {}", id,
                                    server_name(), error.what()));
  }
}

void Connection::throw_failure(std::string_view function_name) const {
  using layout::Status;
  // The server wrote status and text before posting kFailed (acquire in await()).
  const auto status = static_cast<Status>(block_->status);
  const auto text = [](const auto& chars) {
    return std::string(chars.data(), strnlen(chars.data(), chars.size()));
  };
  const std::string type = text(block_->error_type);
  const std::string message = text(block_->error_message);
  switch (status) {
    case Status::kRemoteException:
      throw RemoteError(std::string(function_name), type, message);
    case Status::kResultTooLarge:
      throw std::length_error(fmt::format("shmrpc: {}", message));
    case Status::kServerStopping:
      throw ServerGoneError(fmt::format("shmrpc: {}", message));
    case Status::kBadRequest:
      throw ProtocolError(
          fmt::format("shmrpc: server '{}' rejected the request: {}", server_name(), message));
    case Status::kOutOfMemory:
      throw OutOfSharedMemoryError(message, 0);
    case Status::kOk:
      break;
  }
  throw ProtocolError(fmt::format("shmrpc: server '{}' failed a call with unknown status {}",
                                  server_name(), static_cast<std::uint32_t>(status)));
}

const FunctionSchema& Connection::function(std::string_view name, std::size_t arity) const {
  const FunctionSchema* function = schema_.find(name);
  if (function == nullptr) {
    throw std::invalid_argument(fmt::format("shmrpc: server '{}' has no function '{}'; it has: {}",
                                            server_name(), name, schema_.function_names()));
  }
  if (function->arguments.size() != arity) {
    throw std::invalid_argument(fmt::format("shmrpc: {} takes {} arguments, {} given",
                                            function->signature, function->arguments.size(),
                                            arity));
  }
  return *function;
}

ClientOptions Connection::options() const {
  ClientOptions options = options_;
  const std::int64_t timeout = timeout_ns_.load(std::memory_order_relaxed);
  options.timeout = timeout < 0 ? std::nullopt : std::optional(std::chrono::nanoseconds(timeout));
  return options;
}

void Connection::set_timeout(std::optional<std::chrono::nanoseconds> timeout) noexcept {
  // Relaxed: a timeout set on one thread applies to calls that start after it, on any thread;
  // nothing else is published with it.
  timeout_ns_.store(timeout ? std::max<std::int64_t>(timeout->count(), 0) : -1,
                    std::memory_order_relaxed);
}

Connection::Deadline Connection::call_deadline() const {
  const std::int64_t timeout = timeout_ns_.load(std::memory_order_relaxed);
  return timeout < 0 ? Deadline::max() : Clock::now() + std::chrono::nanoseconds(timeout);
}

bool Connection::late_call_running() noexcept {
  if (late_call_.empty()) {
    return false;
  }
  if (!call_ended()) {
    return true;
  }
  end_late_call();
  return false;
}

void Connection::server_gone(std::string_view during) {
  gone_ = true;
  const bool stopped = server_state(*header_) != ServerState::kReady;
  const std::string call = during.empty() ? "" : fmt::format(" during the call to '{}'", during);
  throw ServerGoneError(fmt::format("shmrpc: server '{}' (pid {}) {}{}", server_name(), server_.pid,
                                    stopped ? "stopped" : "died", call));
}

bool Connection::server_alive() const noexcept {
  return server_state(*header_) == ServerState::kReady && segment_.held();
}

void Connection::check_server(std::string_view during) {
  if (gone_ || server_state(*header_) == ServerState::kStopped || !segment_.held()) {
    server_gone(during);
  }
}

void Connection::prepare(Deadline deadline) {
  if (gone_ || server_state(*header_) != ServerState::kReady) {
    server_gone("");
  }
  if (!late_call_.empty()) {
    if (!await(deadline, late_call_, true)) {
      throw TimeoutError(
          fmt::format("shmrpc: the previous call to '{}' on server '{}' is still running",
                      late_call_, server_name()));
    }
    end_late_call();
  }
  // Relaxed: a flag set by another thread's free is seen at this call or a later one.
  if (has_released_.load(std::memory_order_relaxed)) {
    release_freed_buffers();
  }
}

void Connection::post(const FunctionSchema& function, Deadline deadline) {
  post_request(function.index, deadline);
}

void Connection::post_request(std::uint32_t index, Deadline deadline) {
  block_->function_index = index;
  // The deadline for the server's CallContext, on the steady clock both processes read; the
  // cancel bit of an earlier call cleared. Published with the request by post_state's release.
  const bool timed = deadline != Deadline::max();
  if (timed) {
    block_->deadline_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count());
  }
  block_->call_flags.store(timed ? layout::kCallHasDeadline : 0, std::memory_order_relaxed);
  // Release (in post_state): the arguments written to the frame and heap reach the server.
  post_state(block_->state, CallState::kRequest);
}

std::optional<layout::CallState> Connection::await_end(std::string_view name, Deadline deadline) {
  std::optional<CallState> state;
  try {
    state = await(deadline, name, false);
  } catch (const ServerGoneError&) {
    throw;
  } catch (...) {
    abandon(name);  // interrupted: the call goes on without us
    throw;
  }
  if (state || change_state_quietly(block_->state, CallState::kRequest, CallState::kIdle)) {
    return state;  // done, or withdrawn before the server took it
  }
  abandon(name);
  throw TimeoutError(fmt::format(
      "shmrpc: call to '{}' on server '{}' timed out; the server still runs it, and its call "
      "slot is set aside until it ends",
      name, server_name()));
}

bool Connection::call_ended() const noexcept {
  // Acquire pairs with the server's release when it posts the end.
  return satisfies(state_of(block_->state.load(std::memory_order_acquire)), WaitFor::kCompletion);
}

std::uint32_t Connection::await_counter(std::atomic<std::uint32_t>& word, std::uint32_t seen,
                                        Deadline deadline, bool spin, std::string_view name) {
  const auto slice_end = std::min(deadline, Clock::now() + check_interval_);
  std::uint32_t now = 0;
  if (!spin) {
    now = detail::wait_for_counter(word, seen, std::chrono::nanoseconds(0), slice_end);
  } else if (spin_limit_) {
    const detail::SpinLimit::Ticket ticket(*spin_limit_);
    now = detail::wait_for_counter(word, seen, ticket ? spin_ : std::chrono::nanoseconds(0),
                                   slice_end);
  } else {
    now = detail::wait_for_counter(word, seen, spin_, slice_end);
  }
  if (now == seen) {
    check_server(name);
    if (options_.interrupt_check) {
      options_.interrupt_check();
    }
  }
  return now;
}

std::optional<std::uint64_t> Connection::take_released() {
  const std::lock_guard lock(free_mutex_);
  if (released_.empty()) {
    return std::nullopt;
  }
  const std::uint64_t id = released_.back();
  released_.pop_back();
  // Relaxed: as in free_block; the flag only says "look".
  has_released_.store(!released_.empty(), std::memory_order_relaxed);
  return id;
}

void Connection::requeue_released(const std::vector<std::uint64_t>& ids) {
  const std::lock_guard lock(free_mutex_);
  released_.insert(released_.end(), ids.begin(), ids.end());
  has_released_.store(!released_.empty(), std::memory_order_relaxed);
}

bool Connection::wait_for_end(std::string_view name, Deadline until) {
  for (;;) {
    const auto slice_end = std::min(until, Clock::now() + check_interval_);
    if (sleep_for_state(block_->state, WaitFor::kCompletion, slice_end)) {
      return true;
    }
    check_server(name);
    if (options_.interrupt_check) {
      options_.interrupt_check();
    }
    if (Clock::now() >= until) {
      return call_ended();
    }
  }
}

void Connection::give_up(std::string_view name) {
  if (!call_ended()) {
    abandon(name);
  }
}

std::optional<layout::CallState> Connection::post_and_await(std::uint32_t index,
                                                            std::string_view name,
                                                            Deadline deadline) {
  post_request(index, deadline);
  return await_end(name, deadline);
}

void Connection::abandon(std::string_view name) {
  if (change_state_quietly(block_->state, CallState::kRequest, CallState::kIdle)) {
    return;  // never started: its blocks are free again when the caller's scope ends
  }
  // Tell the server's CallContext: a function that checks may stop early. Release: a stream's
  // writer that sees the flag (with acquire) also sees the reader's last count.
  block_->call_flags.fetch_or(layout::kCallCancelled, std::memory_order_release);
  // From here until the call is seen to end, no block of the heap is reused: the server may use
  // the call's own blocks and any array the caller handed it, which the caller may now free.
  {
    const std::lock_guard lock(free_mutex_);
    defer_frees_ = true;
  }
  late_call_ = name;
  next_probe_ = Clock::now() + options_.liveness_interval;
  probed_ = false;
}

void Connection::end_late_call() noexcept {
  late_call_.clear();
  probed_ = false;
  std::vector<Deferred> deferred;
  {
    const std::lock_guard lock(free_mutex_);
    defer_frees_ = false;
    deferred.swap(deferred_);
  }
  for (Deferred& item : deferred) {
    if (item.scratch) {
      return_scratch(std::move(item.block));
    } else {
      free_block(item.block);
    }
  }
}

void Connection::probe_late_call() {
  const auto now = Clock::now();
  if (now < next_probe_) {
    return;
  }
  next_probe_ = now + options_.liveness_interval;
  // Acquire pairs with the server's release of its last transition.
  std::uint32_t seen = block_->state.load(std::memory_order_acquire);
  const CallState state = state_of(seen);
  if (state != CallState::kRunning && state != CallState::kIdle) {
    return;  // ended (the caller sees it), or a request the server takes by itself
  }
  // The server does not wait for kRunning or kIdle: if it is idle, the word was rewritten and
  // the late call would never end. Ask for no function: an idle server fails that at once; a
  // server that runs the late call read its index when it took it, and overwrites our request
  // with the call's end (an exchange).
  block_->function_index = kProbeIndex;
  // acq_rel: the release publishes the index to the server's acquire when it takes the request
  // (its CAS kRequest -> kRunning). A failed CAS means the state moved on (to an end): nothing to
  // probe.
  if (!block_->state.compare_exchange_strong(seen, word_of(CallState::kRequest),
                                             std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
    return;
  }
  probed_ = true;
  // Wake the channel thread whether or not the old word had the sleeper bit: a rewrite may have
  // cleared the bit of a thread asleep on the word. Pairs with the server's FUTEX_WAIT in
  // sleep_for_state, which then re-reads the word and finds the request.
  futex_wake_all(block_->state);
}

std::optional<layout::CallState> Connection::await(Deadline deadline, std::string_view during,
                                                   bool late) {
  const auto spin = [&](std::chrono::nanoseconds length) {
    return spin_for_state(block_->state, WaitFor::kCompletion, length, deadline);
  };
  std::optional<CallState> spun;
  if (spin_limit_) {
    const detail::SpinLimit::Ticket ticket(*spin_limit_);
    spun = spin(ticket ? spin_ : std::chrono::nanoseconds(0));
  } else {
    spun = spin(spin_);
  }
  if (spun) {
    return spun;
  }
  // The first check comes check_interval_ after the wait began: the spin took spin_ of it. So a
  // server that dies at any moment of the wait is looked at within check_interval_.
  auto slice_end = Clock::now() + (check_interval_ - spin_);
  for (;;) {
    if (const auto state =
            sleep_for_state(block_->state, WaitFor::kCompletion, std::min(deadline, slice_end))) {
      return state;
    }
    check_server(during);
    if (options_.interrupt_check) {
      options_.interrupt_check();
    }
    if (late) {
      probe_late_call();
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      return std::nullopt;
    }
    // A wake-up before the slice's end (the server's stop(), a spurious one) checked early; the
    // next slice starts now.
    slice_end = now + check_interval_;
  }
}

}  // namespace shmrpc
