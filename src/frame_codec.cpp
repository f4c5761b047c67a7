#include "shmrpc/detail/frame_codec.hpp"

#include <fmt/format.h>

#include <cstring>

namespace shmrpc::detail {

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
  if (size > call.result_capacity) {
    throw ResultTooLarge(fmt::format(
        "the result is {} bytes but only {} bytes of the channel heap were free for it (heap size "
        "{} bytes; see ServerOptions::arena_size)",
        size, call.result_capacity, call.heap_size));
  }
  if (size != 0) {
    std::memcpy(call.heap + call.result_offset, bytes, size);
  }
  return {call.result_offset, size};
}

}  // namespace shmrpc::detail
