#include "shmrpc/detail/frame_codec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "shmrpc/detail/call_buffers.hpp"

namespace shmrpc::detail {
namespace {

// Wide enough that no shape or stride a client sends can overflow a sum of their products.
__extension__ typedef __int128 Wide;            // NOLINT(modernize-use-using)
__extension__ typedef unsigned __int128 UWide;  // NOLINT(modernize-use-using)

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
  // Mapped until the call ends: the client may release the buffer while the function reads it.
  return call.buffers->find(slot.buffer, slot.offset, slot.length * element_size, element_align);
}

// A result of `size` bytes too large for the window: a buffer of its own, the client's once the
// call succeeds; `zeroed` as for CallBuffers::make(). Throws ResultTooLarge when the server takes
// no buffers, OutOfSharedMemoryError when /dev/shm (or the client's quota) has no room.
Buffer make_buffer_for_result(const CallFrame& call, std::uint64_t size, bool zeroed) {
  if (call.buffers == nullptr || call.buffers->table == nullptr) {
    throw ResultTooLarge(fmt::format(
        "the result is {} bytes but only {} bytes of the channel heap were free for it (heap size "
        "{} bytes)",
        size, call.result_capacity, call.heap_size));
  }
  Buffer buffer = call.buffers->make(size, zeroed);
  call.buffers->made.push_back(buffer.id);
  call.buffers->given.push_back(buffer.id);
  return buffer;
}

}  // namespace

std::byte* var_range(const CallFrame& call, const layout::VarSlot& slot, std::size_t element_size,
                     std::size_t element_align) {
  return slot.buffer == layout::kHeapBuffer ? heap_range(call, slot, element_size, element_align)
                                            : buffer_range(call, slot, element_size, element_align);
}

NdRange nd_range(const CallFrame& call, const layout::NdSlot& slot, std::size_t element_size,
                 std::size_t element_align, std::size_t rank) {
  if (slot.rank > layout::kMaxRank || (rank != 0 && slot.rank != rank)) {
    throw BadRequest(fmt::format("an array of rank {} was sent; {} allowed", slot.rank,
                                 rank != 0 ? fmt::format("rank {} is", rank)
                                           : fmt::format("at most rank {} is", layout::kMaxRank)));
  }
  NdRange range;
  range.rank = slot.rank;
  // The bytes the elements reach, relative to element [0, ..., 0]: [low, high).
  Wide low = 0;
  Wide high = static_cast<Wide>(element_size);
  UWide count = 1;
  for (std::size_t i = 0; i < slot.rank; ++i) {
    const std::uint64_t extent = slot.shape.at(i);
    const std::int64_t stride = slot.strides.at(i);
    if (stride % static_cast<std::int64_t>(element_size) != 0) {
      throw BadRequest(
          fmt::format("stride {} of dimension {} is not a whole number of {}-byte "
                      "elements",
                      stride, i, element_size));
    }
    count *= extent;
    if (count > std::numeric_limits<std::uint64_t>::max()) {
      throw BadRequest(fmt::format("the shape holds more than 2^64 elements (dimension {})", i));
    }
    if (extent != 0) {
      const Wide reach = static_cast<Wide>(extent - 1) * stride;
      (reach < 0 ? low : high) += reach;
      if (high - low > static_cast<Wide>(std::numeric_limits<std::uint64_t>::max())) {
        // Checked at every dimension, so that the sums stay far from overflowing.
        throw BadRequest(fmt::format("dimension {} reaches past 2^64 bytes", i));
      }
    }
    range.shape.at(i) = extent;
    range.strides.at(i) =
        static_cast<std::ptrdiff_t>(stride / static_cast<std::int64_t>(element_size));
  }
  if (count != slot.data.length) {
    throw BadRequest(fmt::format("the shape holds {} elements but the array says {}",
                                 static_cast<std::uint64_t>(count), slot.data.length));
  }
  if (slot.data.offset % element_align != 0) {
    throw BadRequest(
        fmt::format("offset {} is not aligned to {} bytes", slot.data.offset, element_align));
  }
  if (count == 0) {
    return range;  // no element to reach: data stays null
  }
  if (-low > static_cast<Wide>(slot.data.offset)) {
    throw BadRequest(
        fmt::format("strides reach before the start of the memory at offset {}", slot.data.offset));
  }
  // The whole reach, as bytes, checked like any other value.
  const layout::VarSlot reach{.offset = slot.data.offset - static_cast<std::uint64_t>(-low),
                              .length = static_cast<std::uint64_t>(high - low),
                              .buffer = slot.data.buffer};
  range.data = var_range(call, reach, 1, 1) + static_cast<std::ptrdiff_t>(-low);
  return range;
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
  count_result_bytes(call, size);
  if (size <= call.result_capacity) {
    if (size != 0) {
      std::memcpy(call.heap + call.result_offset, bytes, size);
    }
    return {.offset = call.result_offset, .length = size, .buffer = layout::kHeapBuffer};
  }
  const Buffer buffer = make_buffer_for_result(call, size, false);  // every byte copied next
  std::memcpy(buffer.data(), bytes, size);
  return {.offset = 0, .length = size, .buffer = buffer.id};
}

void place_result_pieces(const CallFrame& call, const PieceWriter& pieces) {
  if (pieces.size() == 0) {
    pieces.place(layout::kHeapBuffer, 0, nullptr);
    return;
  }
  check_result_window(call, pieces.align());
  count_result_bytes(call, pieces.size());
  if (pieces.size() <= call.result_capacity) {
    pieces.place(layout::kHeapBuffer, call.result_offset, call.heap + call.result_offset);
    return;
  }
  const Buffer buffer = make_buffer_for_result(call, pieces.size(), true);  // padding too
  pieces.place(buffer.id, 0, buffer.data());
}

const std::byte* ArgumentMemory::piece(const layout::VarSlot& slot, std::size_t size,
                                       std::size_t align) {
  const std::byte* data = var_range(call, slot, size, align);
  if (slot.length == 0) {
    return data;
  }
  if (std::find(memories.begin(), memories.end(), slot.buffer) == memories.end()) {
    memories.push_back(slot.buffer);
    // var_range found the buffer last.
    named +=
        slot.buffer == layout::kHeapBuffer ? call.heap_size : call.buffers->found_last().size();
  }
  decoded += slot.length * size;  // var_range checked that this many bytes exist
  if (decoded > named) {
    throw BadRequest(fmt::format(
        "the handles of an argument reach {} bytes, more than the {} bytes of the memory they "
        "name: its pieces overlap",
        decoded, named));
  }
  return data;
}

void ArgumentMemory::repeated_key(std::size_t entry) {
  throw BadRequest(fmt::format("entry {} of a map repeats the key of an earlier entry", entry));
}

}  // namespace shmrpc::detail
