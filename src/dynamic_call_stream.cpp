// The reader's side of a stream call (docs/SPEC.md, section 7.8): DynamicCall's start_stream,
// next_element and cancel_stream.

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "shmrpc/detail/stream_ring.hpp"
#include "shmrpc/dynamic_call.hpp"
#include "shmrpc/errors.hpp"

namespace shmrpc {
namespace {

// Bytes of pieces an entry holds in place (strings, small arrays); larger ones come in buffers.
constexpr std::uint32_t kEntryWindow = 1024;
constexpr std::uint32_t kEntryAlign = layout::kStreamEntryAlign;
constexpr std::uint32_t kMaxEntries = layout::kStreamMaxEntries;

// Room for the ids of two elements' buffers per entry: while the writer waits its turn for a
// core, the reader can consume the whole ring and hand back what it freed meanwhile. With room
// for fewer, a slow-scheduled writer would take back fewer buffers than it makes.
std::uint32_t returns_for(std::uint32_t entries) {
  return std::max(2 * entries, 8U);
}

}  // namespace

void DynamicCall::start_stream(std::uint32_t capacity) {
  if (!function_.streams) {
    throw std::logic_error(
        fmt::format("shmrpc: {} does not stream; call it with execute()", function_.signature));
  }
  StreamRead stream;
  stream.window_offset = static_cast<std::uint32_t>(
      layout::align_up(std::max(function_.return_size, 1U), kEntryAlign));
  stream.entry_size = stream.window_offset + (function_.return_type->indirect ? kEntryWindow : 0);
  // As many entries as asked for and the heap holds, at least one.
  std::uint32_t entries = std::clamp(capacity, 1U, kMaxEntries);
  std::optional<std::uint64_t> ring;
  std::uint64_t bytes = 0;
  for (;;) {
    stream.return_capacity = returns_for(entries);
    bytes = layout::stream_entries_offset(stream.return_capacity) +
            std::uint64_t{entries} * stream.entry_size;
    ring = connection_.allocator().allocate(bytes);
    if (ring || entries == 1) {
      break;
    }
    entries = (entries + 1) / 2;
  }
  if (!ring) {
    throw OutOfSharedMemoryError(
        fmt::format(
            "shmrpc: the heap of server '{}' has no room for a stream of {}-byte entries ({} bytes "
            "free)",
            connection_.server_name(), stream.entry_size, connection_.heap_free_bytes()),
        bytes);
  }
  blocks_.push_back(*ring);
  stream.capacity = entries;
  stream.entries = *ring + layout::stream_entries_offset(stream.return_capacity);
  stream.ring = reinterpret_cast<layout::StreamRing*>(connection_.heap() + *ring);
  stream.returns = layout::stream_returns(stream.ring);
  // The heap is shared memory the client owns: the ring's header is written in place.
  std::memset(static_cast<void*>(stream.ring), 0, sizeof(layout::StreamRing));
  stream.ring->capacity = stream.capacity;
  stream.ring->entry_size = stream.entry_size;
  stream.ring->window_offset = stream.window_offset;
  stream.ring->return_capacity = stream.return_capacity;
  layout::CommandBlock& block = connection_.block();
  block.result_offset = *ring;
  block.result_capacity = bytes;
  stream_ = stream;
  // No deadline for the server: a stream runs as long as it is read. The timeout bounds the
  // wait for each element instead.
  connection_.post(function_, std::chrono::steady_clock::time_point::max());
}

bool DynamicCall::next_element() {
  StreamRead& stream = *stream_;
  if (stream.ended) {
    return false;
  }
  drop_element();
  hand_back_buffers();
  const auto deadline = connection_.call_deadline();
  // Acquire pairs with the writer's release of `written`: the entries below it are complete.
  std::uint32_t written =
      stream.ring->written.load(std::memory_order_acquire) & ~layout::kSleeperBit;
  bool spin = true;
  while ((written & layout::kStreamCountMask) == stream.read) {
    // A call that failed before its writer began (the server stopping, a rejected request)
    // ends without marking the ring.
    if ((written & layout::kStreamEnded) != 0 || connection_.call_ended()) {
      end_stream();
      return false;
    }
    const std::uint32_t seen = written;
    try {
      written =
          connection_.await_counter(stream.ring->written, seen, deadline, spin, function_.name);
    } catch (...) {
      stream.ended = true;
      connection_.give_up(function_.name);
      throw;
    }
    spin = false;  // spun once: the rest of the wait sleeps
    if (written == seen && std::chrono::steady_clock::now() >= deadline) {
      stream.ended = true;
      connection_.give_up(function_.name);
      throw TimeoutError(fmt::format(
          "shmrpc: stream '{}' on server '{}' sent no element within the timeout; it was given "
          "up",
          function_.name, connection_.server_name()));
    }
  }
  const std::uint64_t entry =
      stream.entries + std::uint64_t{stream.read % stream.capacity} * stream.entry_size;
  stream.holding = true;
  window_ = entry + stream.window_offset;
  window_capacity_ = stream.entry_size - stream.window_offset;
  window_data_ = connection_.heap() + *window_;
  if (function_.return_type->indirect) {
    try {
      resolve_result();
    } catch (...) {
      cancel_stream();
      throw;
    }
  }
  return true;
}

void DynamicCall::drop_element() {
  StreamRead& stream = *stream_;
  free_result_buffers();  // their ids are handed back by hand_back_buffers
  result_buffers_.clear();
  window_.reset();
  window_data_ = nullptr;
  window_used_ = 0;
  window_kept_ = false;
  if (stream.holding) {
    stream.holding = false;
    stream.read = (stream.read + 1) & layout::kStreamCountMask;
    // Release: done with the entry; the writer may fill it again.
    detail::post_counter(stream.ring->read, stream.read);
  }
}

void DynamicCall::hand_back_buffers() {
  StreamRead& stream = *stream_;
  // Acquire pairs with the writer's release of `taken`: those return slots are free again.
  const std::uint64_t taken = stream.ring->taken.load(std::memory_order_acquire);
  const std::uint64_t before = stream.returned;
  while (stream.returned - taken < stream.return_capacity) {
    const auto id = connection_.take_released();
    if (!id) {
      break;
    }
    stream.returns[stream.returned % stream.return_capacity].store(*id, std::memory_order_relaxed);
    ++stream.returned;
  }
  if (stream.returned != before) {
    // Release: the ids reach the writer with the count.
    stream.ring->returned.store(stream.returned, std::memory_order_release);
  }
}

SharedBlock DynamicCall::keep_element_window() {
  const auto copy = connection_.allocator().allocate(std::max<std::uint64_t>(window_used_, 1));
  if (!copy) {
    throw OutOfSharedMemoryError(
        fmt::format(
            "shmrpc: the heap of server '{}' has no room to keep {} bytes of an element of stream "
            "'{}' ({} bytes free): let go of earlier elements",
            connection_.server_name(), window_used_, function_.name, connection_.heap_free_bytes()),
        window_used_);
  }
  std::byte* data = connection_.heap() + *copy;
  std::memcpy(data, window_data_, window_used_);
  window_data_ = data;
  return {.buffer = layout::kHeapBuffer, .offset = *copy, .data = data, .mapping = {}};
}

void DynamicCall::end_stream() {
  StreamRead& stream = *stream_;
  stream.ended = true;
  // The writer has ended (or never began): the end follows at once, whatever the timeout.
  deadline_ = std::chrono::steady_clock::time_point::max();
  finish();
  // The writer has ended: the ids it did not take back are released at the next call.
  const std::uint64_t taken = stream.ring->taken.load(std::memory_order_acquire);
  std::vector<std::uint64_t> untaken;
  for (std::uint64_t k = taken;
       k != stream.returned && stream.returned - k <= stream.return_capacity; ++k) {
    untaken.push_back(stream.returns[k % stream.return_capacity].load(std::memory_order_relaxed));
  }
  connection_.requeue_released(untaken);
}

void DynamicCall::cancel_stream() noexcept {
  if (!stream_ || stream_->ended) {
    return;
  }
  if (connection_.call_ended()) {
    // The writer is done: reading the rest gives back the buffers of the elements left unread.
    try {
      while (next_element()) {
      }
    } catch (...) {  // its error is nobody's now
    }
    return;
  }
  try {
    drop_element();  // the current element's buffers are ours: consumed before the cancel
  } catch (...) {    // a buffer that could not be queued stays allocated
  }
  stream_->ended = true;
  try {
    connection_.give_up(function_.name);
  } catch (...) {  // no memory to note it: frees are deferred all the same
  }
  // Wake a writer waiting for room: it sees the cancel flag.
  detail::futex_wake_all(stream_->ring->read);
}

}  // namespace shmrpc
