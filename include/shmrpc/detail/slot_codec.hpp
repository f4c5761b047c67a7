#pragma once
/// Values of the slot types (types.hpp) as C++ objects: fixed types are their object
/// representation; std::optional and std::tuple / std::pair have the wire form of docs/SPEC.md.
/// The typed counterpart of value_codec.hpp, whose checks and offsets it uses: whoever reads
/// bytes another process wrote checks them before reading them as a C++ object.

#include <cstddef>
#include <cstring>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "shmrpc/types.hpp"
#include "shmrpc/value_codec.hpp"

namespace shmrpc::detail {

/// Reads the slot value of type T at `bytes`, checking it first when `checked` (throws
/// InvalidValue).
template <class T>
T read_slot(const std::byte* bytes, bool checked) {
  const TypeInfo& type = type_info_of<T>();
  if constexpr (is_fixed_type<T>()) {
    if (checked) {
      check_value(type, bytes);
    }
    T value{};
    std::memcpy(static_cast<void*>(&value), bytes, sizeof(T));
    return value;
  } else if constexpr (IsOptional<T>::value) {
    const std::byte* value = checked ? optional_value(type, bytes)
                             : bytes[0] == std::byte{0}
                                 ? nullptr
                                 : bytes + optional_value_offset(type.element->align);
    if (value == nullptr) {
      return std::nullopt;
    }
    return read_slot<typename T::value_type>(value, checked);
  } else {
    return [&]<std::size_t... I>(std::index_sequence<I...> /*elements*/) {
      return T{read_slot<std::tuple_element_t<I, T>>(bytes + type.members[I].value, checked)...};
    }
    (std::make_index_sequence<std::tuple_size_v<T>>{});
  }
}

/// Writes slot value `value` of type T at `bytes` (type_info_of<T>().size bytes), padding zeroed.
template <class T>
void write_slot(std::byte* bytes, const T& value) {
  const TypeInfo& type = type_info_of<T>();
  if constexpr (is_fixed_type<T>()) {
    std::memcpy(bytes, static_cast<const void*>(&value), sizeof(T));
  } else if constexpr (IsOptional<T>::value) {
    std::byte* slot = write_optional(type, bytes, value.has_value());
    if (value.has_value()) {
      write_slot<typename T::value_type>(slot, *value);
    }
  } else {
    std::memset(bytes, 0, type.size);
    [&]<std::size_t... I>(std::index_sequence<I...> /*elements*/) {
      (write_slot(bytes + type.members[I].value, std::get<I>(value)), ...);
    }
    (std::make_index_sequence<std::tuple_size_v<T>>{});
  }
}

}  // namespace shmrpc::detail
