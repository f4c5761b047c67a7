#pragma once
/// Server side of the frame encoding: reads arguments in place from a channel's frame, heap and
/// buffers, writes results. Every offset and length comes from a client and is validated before
/// use; every value is checked (value_codec.hpp) before it is read as a C++ object.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "shmrpc/call_frame.hpp"
#include "shmrpc/detail/call_buffers.hpp"
#include "shmrpc/detail/slot_codec.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/result_array.hpp"
#include "shmrpc/types.hpp"
#include "shmrpc/value_codec.hpp"

namespace shmrpc::detail {

/// Validates `slot` as `element_size`-byte elements aligned to `element_align` inside the heap or
/// the buffer it names (whose mapping the call then holds until it ends); returns where they
/// start. Throws BadRequest.
std::byte* var_range(const CallFrame& call, const layout::VarSlot& slot, std::size_t element_size,
                     std::size_t element_align);

/// Throws BadRequest unless the client's result window lies inside the heap and is aligned.
void check_result_window(const CallFrame& call, std::size_t element_align);

/// Copies `bytes` into the result window, or into a buffer made for the client when they do not
/// fit it, and returns the slot pointing at them. Throws ResultTooLarge (no window, no buffers),
/// OutOfSharedMemoryError.
layout::VarSlot write_result_bytes(const CallFrame& call, const void* bytes, std::size_t size,
                                   std::size_t element_align);

inline layout::VarSlot read_var_slot(const CallFrame& call, std::uint32_t offset) {
  layout::VarSlot slot{};
  std::memcpy(&slot, call.frame + offset, sizeof slot);  // read once: the client may change it
  return slot;
}

template <class T>
auto decode_checked_argument(const CallFrame& call, std::uint32_t offset);

/// Decodes the argument of value type T (decayed) at `offset` in the frame. Throws BadRequest.
template <class T>
auto decode_argument(const CallFrame& call, std::uint32_t offset) {
  try {
    return decode_checked_argument<T>(call, offset);
  } catch (const BadRequest&) {
    throw;
  } catch (const InvalidValue& error) {
    throw BadRequest(error.what());
  }
}

template <class T>
auto decode_checked_argument(const CallFrame& call, std::uint32_t offset) {
  // Copy first, then check the copy: the client may rewrite the frame meanwhile.
  if constexpr (is_fixed_type<T>()) {
    std::array<std::byte, sizeof(T)> bytes{};
    std::memcpy(bytes.data(), call.frame + offset, sizeof(T));
    return read_slot<T>(bytes.data(), true);
  } else if constexpr (is_composite_type<T>()) {
    std::vector<std::byte> bytes(type_info_of<T>().size);
    std::memcpy(bytes.data(), call.frame + offset, bytes.size());
    return read_slot<T>(bytes.data(), true);
  } else if constexpr (IsDynamicSpan<T>::value) {
    using Element = typename T::element_type;
    using Value = std::remove_const_t<Element>;
    const layout::VarSlot slot = read_var_slot(call, offset);
    std::byte* data = var_range(call, slot, sizeof(Value), alignof(Value));
    check_values(type_info_of<Value>(), data, static_cast<std::size_t>(slot.length));
    // The client laid these elements out in shared memory; the server views them where they lie.
    return T(reinterpret_cast<Element*>(data), static_cast<std::size_t>(slot.length));
  } else if constexpr (std::is_same_v<T, std::string_view> || std::is_same_v<T, std::string>) {
    const layout::VarSlot slot = read_var_slot(call, offset);
    const std::byte* data = var_range(call, slot, 1, 1);
    return T(reinterpret_cast<const char*>(data), static_cast<std::size_t>(slot.length));
  } else {
    return UnsupportedType<T>::make();
  }
}

/// Encodes a result of value type T at `offset` in the frame.
template <class T>
void encode_result(const CallFrame& call, std::uint32_t offset, const T& value) {
  if constexpr (is_slot_type<T>()) {
    write_slot(call.frame + offset, value);
  } else if constexpr (std::is_same_v<T, std::string>) {
    const layout::VarSlot slot = write_result_bytes(call, value.data(), value.size(), 1);
    std::memcpy(call.frame + offset, &slot, sizeof slot);
  } else if constexpr (IsResultArray<T>::value) {
    // Filled in place in the client's buffer: only the handle is written.
    const layout::VarSlot slot{.offset = 0, .length = value.size(), .buffer = value.buffer_id()};
    if (slot.buffer != layout::kHeapBuffer) {
      call.buffers->given.push_back(slot.buffer);
    }
    std::memcpy(call.frame + offset, &slot, sizeof slot);
  } else if constexpr (IsVector<T>::value) {
    using Element = typename T::value_type;
    layout::VarSlot slot =
        write_result_bytes(call, value.data(), value.size() * sizeof(Element), alignof(Element));
    slot.length = value.size();
    std::memcpy(call.frame + offset, &slot, sizeof slot);
  } else {
    UnsupportedType<T>::make();
  }
}

}  // namespace shmrpc::detail
