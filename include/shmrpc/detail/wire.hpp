#pragma once
/// Values of the slot types (types.hpp) as bytes: fixed types are their object representation;
/// std::optional and std::tuple / std::pair have the wire form of docs/SPEC.md. The server checks
/// every value a client wrote before it reads it as a C++ object: a bool is 0 or 1, an enum holds
/// one of its declared enumerators, an optional's flag is 0 or 1.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "shmrpc/types.hpp"

namespace shmrpc::detail {

/// The request bytes are malformed. The call fails with Status::kBadRequest.
class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws BadRequest unless every byte is 0 or 1 (bool is only defined for those).
void check_bool_bytes(const std::byte* bytes, std::size_t count);

/// Throws BadRequest naming `type` and its enumerators: `value` is none of them.
[[noreturn]] void throw_bad_enumerator(const TypeInfo& type, std::uint64_t value);

template <class T, std::size_t... I>
constexpr bool any_field_checked(std::index_sequence<I...> /*fields*/);

/// True when some bytes of a T may be invalid for it: it holds a bool or an enum.
template <class T>
constexpr bool needs_check() {
  if constexpr (std::is_same_v<T, bool> || std::is_enum_v<T>) {
    return true;
  } else if constexpr (IsStdArray<T>::value) {
    return needs_check<typename T::value_type>();
  } else if constexpr (Aggregate<T>) {
    return any_field_checked<T>(std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});
  } else {
    return false;
  }
}

template <class T, std::size_t... I>
constexpr bool any_field_checked(std::index_sequence<I...> /*fields*/) {
  return (needs_check<boost::pfr::tuple_element_t<I, T>>() || ...);
}

/// Throws BadRequest unless the bytes at `bytes` are a valid value of fixed type T.
template <class T>
void check_fixed(const std::byte* bytes) {
  if constexpr (!needs_check<T>()) {
    return;
  } else if constexpr (std::is_same_v<T, bool>) {
    check_bool_bytes(bytes, 1);
  } else if constexpr (std::is_enum_v<T>) {
    std::underlying_type_t<T> raw;
    std::memcpy(&raw, bytes, sizeof raw);
    const auto value = static_cast<std::uint64_t>(raw);
    for (const EnumMember& member : shmrpc_enum_members(static_cast<const T*>(nullptr))) {
      if (member.value == value) {
        return;
      }
    }
    throw_bad_enumerator(type_info_of<T>(), value);
  } else if constexpr (IsStdArray<T>::value) {
    using Element = typename T::value_type;
    for (std::size_t i = 0; i < std::tuple_size_v<T>; ++i) {
      check_fixed<Element>(bytes + i * sizeof(Element));
    }
  } else {
    const auto& fields = type_info_of<T>().members;
    [&]<std::size_t... I>(std::index_sequence<I...> /*fields*/) {
      (check_fixed<boost::pfr::tuple_element_t<I, T>>(bytes + fields[I].value), ...);
    }
    (std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});
  }
}

/// Checks `count` consecutive values of fixed type T.
template <class T>
void check_fixed_range(const std::byte* bytes, std::size_t count) {
  if constexpr (std::is_same_v<T, bool>) {
    check_bool_bytes(bytes, count);
  } else if constexpr (needs_check<T>()) {
    for (std::size_t i = 0; i < count; ++i) {
      check_fixed<T>(bytes + i * sizeof(T));
    }
  }
}

/// Reads the slot value of type T at `bytes`, checking it first when `checked`.
template <class T>
T read_slot(const std::byte* bytes, bool checked) {
  const TypeInfo& type = type_info_of<T>();
  if constexpr (is_fixed_type<T>()) {
    if (checked) {
      check_fixed<T>(bytes);
    }
    T value;
    std::memcpy(static_cast<void*>(&value), bytes, sizeof(T));
    return value;
  } else if constexpr (IsOptional<T>::value) {
    using Value = typename T::value_type;
    const auto flag = std::to_integer<unsigned>(bytes[0]);
    if (checked && flag > 1) {
      throw BadRequest("the has-value flag of an " + type_name(type) + " holds " +
                       std::to_string(flag) + "; it is 0 or 1");
    }
    if (flag == 0) {
      return std::nullopt;
    }
    return read_slot<Value>(bytes + optional_value_offset(alignof(Value)), checked);
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
    using Value = typename T::value_type;
    std::memset(bytes, 0, type.size);
    if (value.has_value()) {
      bytes[0] = std::byte{1};
      write_slot<Value>(bytes + optional_value_offset(alignof(Value)), *value);
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
