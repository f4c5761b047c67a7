#include "shmrpc/detail/stream_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "shmrpc/call_context.hpp"
#include "shmrpc/detail/call_buffers.hpp"
#include "shmrpc/detail/stats.hpp"
#include "shmrpc/detail/stream_ring.hpp"
#include "shmrpc/stream.hpp"

namespace shmrpc::detail {
namespace {

// The writer spins this long for the reader to free an entry before it sleeps.
constexpr auto kWriterSpin = std::chrono::microseconds(20);
// Buffers the reader handed back that the writer keeps for its next elements (CallBuffers::
// spares): enough for the element being made and the next ones while the returns trickle in.
constexpr std::size_t kSpares = 4;
// A sleeping writer wakes this often to see whether its client died.
constexpr auto kClientCheckInterval = std::chrono::milliseconds(50);
constexpr std::uint32_t kMaxEntries = layout::kStreamMaxEntries;
constexpr std::uint32_t kEntryAlign = layout::kStreamEntryAlign;

[[noreturn]] void throw_cancelled() {
  throw StreamCancelled("shmrpc: the client stopped reading the stream");
}

}  // namespace

StreamWriter::StreamWriter(const CallFrame& call, std::uint32_t element_size,
                           std::uint32_t element_align)
    : call_(call), entry_(call) {
  const std::uint64_t offset = call.result_offset;
  const std::uint64_t capacity = call.result_capacity;
  if (offset > call.heap_size || capacity > call.heap_size - offset ||
      capacity < sizeof(layout::StreamRing) || offset % kEntryAlign != 0) {
    throw BadRequest(fmt::format(
        "the stream's ring (offset {}, {} bytes) is not inside the {}-byte heap, is smaller "
        "than its {}-byte header or is not {}-byte aligned",
        offset, capacity, call.heap_size, sizeof(layout::StreamRing), kEntryAlign));
  }
  ring_ = reinterpret_cast<layout::StreamRing*>(call.heap + offset);
  // Read once: the client could rewrite them while the stream runs.
  capacity_ = ring_->capacity;
  entry_size_ = ring_->entry_size;
  window_offset_ = ring_->window_offset;
  return_capacity_ = ring_->return_capacity;
  const std::uint64_t entries_at = layout::stream_entries_offset(return_capacity_);
  const std::uint64_t room = capacity >= entries_at ? capacity - entries_at : 0;
  if (capacity_ == 0 || capacity_ > kMaxEntries || return_capacity_ == 0 ||
      return_capacity_ > layout::kStreamMaxReturns || entry_size_ % kEntryAlign != 0 ||
      window_offset_ % kEntryAlign != 0 || window_offset_ < element_size ||
      window_offset_ > entry_size_ || element_align > kEntryAlign ||
      std::uint64_t{capacity_} * entry_size_ > room) {
    throw BadRequest(fmt::format(
        "the stream's ring geometry is invalid: {} entries (1 to {}) of {} bytes (a multiple "
        "of {}) with pieces from byte {} (at least the element's {} bytes, a multiple of {}) "
        "and {} returns (1 to {}) in {} bytes",
        capacity_, kMaxEntries, entry_size_, kEntryAlign, window_offset_, element_size, kEntryAlign,
        return_capacity_, layout::kStreamMaxReturns, capacity));
  }
  returns_ = layout::stream_returns(ring_);
  entries_offset_ = offset + entries_at;
  entries_ = call.heap + entries_offset_;
  // The client starts both counters at 0; the server owns `written` from here on.
  written_ = ring_->written.load(std::memory_order_relaxed) & layout::kStreamCountMask;
  taken_ = ring_->taken.load(std::memory_order_relaxed);
  entry_buffers_.resize(capacity_);
}

StreamWriter::~StreamWriter() {
  end();
}

bool StreamWriter::cancelled() const noexcept {
  return call_.context != nullptr && (call_.context->cancelled() || !call_.context->client_alive());
}

const CallFrame& StreamWriter::begin_element() {
  take_returns();
  // Acquire pairs with the reader's release of `read`: it is done with the entries it consumed.
  std::uint32_t read = ring_->read.load(std::memory_order_acquire) & ~layout::kSleeperBit;
  auto next_check = std::chrono::steady_clock::now() + kClientCheckInterval;
  while (ring_distance(read & layout::kStreamCountMask, written_) >= capacity_) {
    // One load (no client check): the client wakes us after setting the flag.
    if (call_.context != nullptr && call_.context->cancelled()) {
      throw_cancelled();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_check) {
      if (!cancelled()) {
        next_check = now + kClientCheckInterval;
      } else {
        throw_cancelled();
      }
    }
    read = wait_for_counter(ring_->read, read, kWriterSpin, next_check);
    take_returns();
  }
  const std::uint32_t index = written_ % capacity_;
  // The reader has consumed this entry's previous element: its buffers are the client's now.
  entry_buffers_[index].clear();
  const std::uint64_t at = std::uint64_t{index} * entry_size_;
  entry_.frame = entries_ + at;
  entry_.result_offset = entries_offset_ + at + window_offset_;
  entry_.result_capacity = entry_size_ - window_offset_;
  if (call_.buffers != nullptr) {
    call_.buffers->result_bytes = 0;
  }
  return entry_;
}

void StreamWriter::publish() {
  const std::uint32_t index = written_ % capacity_;
  std::uint64_t bytes = window_offset_;
  if (CallBuffers* buffers = call_.buffers) {
    // Handed over with the entry: not released when the call ends, unless the entry is unread.
    for (const std::uint64_t id : buffers->given) {
      std::erase(buffers->made, id);
      entry_buffers_[index].push_back(id);
    }
    buffers->given.clear();
    bytes += buffers->result_bytes;
  }
  if (call_.stats != nullptr) {
    record_element(*call_.stats, bytes);
  }
  written_ = (written_ + 1) & layout::kStreamCountMask;
  // Release: the entry, and the pieces and buffers it names, reach the reader with the count.
  post_counter(ring_->written, written_);
}

void StreamWriter::end() noexcept {
  if (ended_) {
    return;
  }
  ended_ = true;
  take_returns();
  if (cancelled()) {
    // cancelled() read the client's flag with acquire: its last count of `read` is seen.
    // The entries published but not consumed will never be read: their buffers are ours again.
    const std::uint32_t read =
        ring_->read.load(std::memory_order_acquire) & layout::kStreamCountMask;
    const std::uint32_t unread = std::min(ring_distance(read, written_), capacity_);
    for (std::uint32_t i = 0; i < unread; ++i) {
      release(entry_buffers_[(read + i) % capacity_]);
    }
  }
  post_counter(ring_->written, written_ | layout::kStreamEnded);
}

void StreamWriter::take_returns() noexcept {
  // Acquire pairs with the reader's release of `returned`: the ids below it are written.
  const std::uint64_t returned = ring_->returned.load(std::memory_order_acquire);
  if (returned == taken_ || returned - taken_ > return_capacity_) {
    return;  // nothing new, or a count no reader writes: ignored
  }
  std::vector<std::uint64_t> ids;
  try {
    ids.reserve(returned - taken_);
  } catch (...) {
    return;  // no memory now: taken at the next element or wait
  }
  for (; taken_ != returned; ++taken_) {
    ids.push_back(returns_[taken_ % return_capacity_].load(std::memory_order_relaxed));
  }
  // Release: the reader may reuse the return slots once it sees `taken`. Before the releases,
  // which take time (unlink, munmap): the reader can hand back more meanwhile.
  ring_->taken.store(taken_, std::memory_order_release);
  keep_spares(ids);
}

void StreamWriter::keep_spares(std::vector<std::uint64_t>& ids) const noexcept {
  CallBuffers* buffers = call_.buffers;
  if (buffers == nullptr || buffers->table == nullptr) {
    return;
  }
  try {
    buffers->spares.reserve(kSpares);  // so that keeping one below cannot throw
  } catch (...) {
    release(ids);
    return;
  }
  for (const std::uint64_t id : ids) {
    try {
      std::shared_ptr<Segment> spare = buffers->table->release_for_reuse(id, buffers->client);
      if (spare == nullptr) {
        continue;  // still in use by the server: released, not kept
      }
      if (buffers->spares.size() == kSpares) {
        // The latest are kept: the elements to come are likelier of their size.
        BufferTable::discard(*buffers->spares.front());
        buffers->spares.erase(buffers->spares.begin());
      }
      buffers->spares.push_back(std::move(spare));
    } catch (...) {  // not the client's (a bogus id): nothing to give back
    }
  }
  ids.clear();
}

void StreamWriter::release(std::vector<std::uint64_t>& ids) const noexcept {
  if (call_.buffers != nullptr && call_.buffers->table != nullptr) {
    for (const std::uint64_t id : ids) {
      try {
        call_.buffers->table->release(id, call_.buffers->client);
      } catch (...) {  // not the client's (a bogus id): nothing to give back
      }
    }
  }
  ids.clear();
}

}  // namespace shmrpc::detail
