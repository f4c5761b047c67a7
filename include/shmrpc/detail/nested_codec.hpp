#pragma once
/// Nested values as C++ objects (docs/SPEC.md, section 6.7): vectors of any value type,
/// optionals and tuples holding strings or vectors, maps. One encoder and one decoder for both
/// sides of a call; each side supplies what differs, its memory:
///
///   Memory::piece(slot, size, align)  validated elements a handle points to (server: the heap or a
///                                 buffer the call holds; client: the result's window or buffers)
///   Memory::leaf<T>(bytes)        a value with a form of its own on that side (server: spans,
///                                 ArrayViews; client: SharedArray, SharedNdArray)
///   Memory::repeated_key(entry)   a map entry repeats a key (throws)
///   Memory::info<T>()             the wire type of C++ type T (a client's SharedArray<T> is a
///                                 vector<T> on the wire)
///
/// and, when encoding, a Leaf for the values it writes itself (server: ResultArray handles).

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "shmrpc/detail/slot_codec.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/piece_writer.hpp"
#include "shmrpc/types.hpp"
#include "shmrpc/value_codec.hpp"

namespace shmrpc::detail {

template <class T>
T load_handle(const std::byte* bytes) {
  T handle{};
  std::memcpy(&handle, bytes, sizeof handle);  // read once: the other side may change it
  return handle;
}

/// Decodes the value of type T whose slot bytes are at `bytes`. Element slots are copied out of
/// shared memory before they are read; every value is checked (throws InvalidValue).
template <class T, class Memory>
T decode_nested(Memory& memory, const std::byte* bytes) {
  if constexpr (is_slot_type<T>()) {
    return read_slot<T>(bytes, true);
  } else if constexpr (std::is_same_v<T, std::string_view> || std::is_same_v<T, std::string>) {
    const auto slot = load_handle<layout::VarSlot>(bytes);
    const std::byte* data = memory.piece(slot, 1, 1);
    return T(reinterpret_cast<const char*>(data), static_cast<std::size_t>(slot.length));
  } else if constexpr (IsVector<T>::value) {
    using Element = typename T::value_type;
    const TypeInfo& element = Memory::template info<Element>();
    const auto slot = load_handle<layout::VarSlot>(bytes);
    const std::byte* data = memory.piece(slot, element.size, element.align);
    const auto count = static_cast<std::size_t>(slot.length);
    T values;
    if constexpr (is_fixed_type<Element>()) {
      values.resize(count);
      if (count != 0) {
        std::memcpy(static_cast<void*>(values.data()), data, count * sizeof(Element));
      }
      check_values(element, reinterpret_cast<const std::byte*>(values.data()), count);
    } else {
      const std::vector<std::byte> slots(data, data + count * element.size);
      values.reserve(count);
      for (std::size_t i = 0; i < count; ++i) {
        values.push_back(decode_nested<Element>(memory, slots.data() + i * element.size));
      }
    }
    return values;
  } else if constexpr (IsOptional<T>::value) {
    const std::byte* value = optional_value(Memory::template info<T>(), bytes);
    if (value == nullptr) {
      return T{};
    }
    return T(decode_nested<typename T::value_type>(memory, value));
  } else if constexpr (IsTuple<T>::value) {
    const TypeInfo& type = Memory::template info<T>();
    return [&]<std::size_t... I>(std::index_sequence<I...> /*elements*/) {
      return T{decode_nested<std::tuple_element_t<I, T>>(memory, bytes + type.members[I].value)...};
    }
    (std::make_index_sequence<std::tuple_size_v<T>>{});
  } else if constexpr (IsMap<T>::value) {
    const TypeInfo& type = Memory::template info<T>();
    const ValueLayout entry = map_entry_layout(type);
    const auto slot = load_handle<layout::VarSlot>(bytes);
    const std::byte* data = memory.piece(slot, entry.size, entry.align);
    const std::vector<std::byte> entries(data, data + slot.length * entry.size);
    T map;
    for (std::size_t i = 0; i < slot.length; ++i) {
      const std::byte* at = entries.data() + i * entry.size;
      const bool inserted =
          map.emplace(decode_nested<typename T::key_type>(memory, at + type.members[0].value),
                      decode_nested<typename T::mapped_type>(memory, at + type.members[1].value))
              .second;
      if (!inserted) {
        memory.repeated_key(i);
      }
    }
    return map;
  } else {
    return memory.template leaf<T>(bytes);
  }
}

/// Encodes `value` of type T into its slot bytes at `out` (type_info_of<T>().size bytes),
/// adding what lies outside the slot to `pieces`; `leaf(out, value)` writes the values this
/// encoder does not know.
template <class T, class Leaf>
void encode_nested(PieceWriter& pieces, std::byte* out, const T& value, Leaf& leaf) {
  if constexpr (is_slot_type<T>()) {
    write_slot(out, value);
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    pieces.add_copy(out, value.data(), value.size(), 1, value.size());
  } else if constexpr (IsVector<T>::value) {
    using Element = typename T::value_type;
    const TypeInfo& element = type_info_of<Element>();
    if constexpr (is_fixed_type<Element>()) {
      pieces.add_copy(out, value.data(), value.size() * sizeof(Element), alignof(Element),
                      value.size());
    } else {
      std::byte* slots = pieces.add(out, value.size() * element.size, element.align, value.size());
      for (std::size_t i = 0; i < value.size(); ++i) {
        encode_nested(pieces, slots + i * element.size, value[i], leaf);
      }
    }
  } else if constexpr (IsOptional<T>::value) {
    std::byte* slot = write_optional(type_info_of<T>(), out, value.has_value());
    if (value.has_value()) {
      encode_nested(pieces, slot, *value, leaf);
    }
  } else if constexpr (IsTuple<T>::value) {
    const TypeInfo& type = type_info_of<T>();
    std::memset(out, 0, type.size);
    [&]<std::size_t... I>(std::index_sequence<I...> /*elements*/) {
      (encode_nested(pieces, out + type.members[I].value, std::get<I>(value), leaf), ...);
    }
    (std::make_index_sequence<std::tuple_size_v<T>>{});
  } else if constexpr (IsMap<T>::value) {
    const TypeInfo& type = type_info_of<T>();
    const ValueLayout entry = map_entry_layout(type);
    std::byte* entries = pieces.add(out, value.size() * entry.size, entry.align, value.size());
    for (const auto& [key, mapped] : value) {
      encode_nested(pieces, entries + type.members[0].value, key, leaf);
      encode_nested(pieces, entries + type.members[1].value, mapped, leaf);
      entries += entry.size;
    }
  } else {
    leaf(out, value);
  }
}

}  // namespace shmrpc::detail
