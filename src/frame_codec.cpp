#include "shmrpc/detail/frame_codec.hpp"

#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "shmrpc/detail/call_buffers.hpp"

namespace shmrpc::detail {
namespace {

std::byte* heap_range(const CallFrame& call, const layout::VarSlot& slot, std::size_t element_size,
                      std::size_t element_align) {
  if (slot.offset > call.heap_size) {
    throw BadRequest(fmt::format("heap offset {} is past the end of the {}-byte heap", slot.offset,
                                 call.heap_size));
  }
  if (slot.length > (call.heap_size - slot.offset) / element_size) {
    throw BadRequest(fmt::format(
        "{} elements of {} bytes at heap offset {} run past the end of the {}-byte heap",
        slot.length, element_size, slot.offset, call.heap_size));
  }
  if (slot.offset % element_align != 0) {
    throw BadRequest(
        fmt::format("heap offset {} is not aligned to {} bytes", slot.offset, element_align));
  }
  return call.heap + slot.offset;
}

std::byte* buffer_range(const CallFrame& call, const layout::VarSlot& slot,
                        std::size_t element_size, std::size_t element_align) {
  if (call.buffers == nullptr || call.buffers->table == nullptr) {
    throw BadRequest(
        fmt::format("buffer {} was named, but this server takes no buffers", slot.buffer));
  }
  if (slot.length > std::numeric_limits<std::uint64_t>::max() / element_size) {
    throw BadRequest(fmt::format("{} elements of {} bytes is more bytes than a buffer can hold",
                                 slot.length, element_size));
  }
  BufferRange range = call.buffers->table->find(slot.buffer, slot.offset,
                                                slot.length * element_size, element_align);
  // Held until the call ends: the client may release the buffer while the function reads it.
  call.buffers->held.push_back(std::move(range.mapping));
  return range.data;
}

}  // namespace

std::byte* var_range(const CallFrame& call, const layout::VarSlot& slot, std::size_t element_size,
                     std::size_t element_align) {
  return slot.buffer == layout::kHeapBuffer ? heap_range(call, slot, element_size, element_align)
                                            : buffer_range(call, slot, element_size, element_align);
}

void check_result_window(const CallFrame& call, std::size_t element_align) {
  const bool window_valid = call.result_offset <= call.heap_size &&
                            call.result_capacity <= call.heap_size - call.result_offset &&
                            call.result_offset % element_align == 0;
  if (!window_valid) {
    throw BadRequest(fmt::format(
        "the result window (offset {}, {} bytes) is not inside the {}-byte heap or is misaligned",
        call.result_offset, call.result_capacity, call.heap_size));
  }
}

layout::VarSlot write_result_bytes(const CallFrame& call, const void* bytes, std::size_t size,
                                   std::size_t element_align) {
  check_result_window(call, element_align);
  if (size <= call.result_capacity) {
    if (size != 0) {
      std::memcpy(call.heap + call.result_offset, bytes, size);
    }
    return {.offset = call.result_offset, .length = size, .buffer = layout::kHeapBuffer};
  }
  if (call.buffers == nullptr || call.buffers->table == nullptr) {
    throw ResultTooLarge(fmt::format(
        "the result is {} bytes but only {} bytes of the channel heap were free for it (heap size "
        "{} bytes)",
        size, call.result_capacity, call.heap_size));
  }
  // Too large for the window: a buffer of its own, the client's once the call succeeds. Throws
  // OutOfSharedMemoryError when /dev/shm (or the client's quota) has no room.
  const Buffer buffer = call.buffers->table->make(call.buffers->client, size);
  call.buffers->made.push_back(buffer.id);
  call.buffers->given.push_back(buffer.id);
  std::memcpy(buffer.data(), bytes, size);
  return {.offset = 0, .length = size, .buffer = buffer.id};
}

}  // namespace shmrpc::detail
