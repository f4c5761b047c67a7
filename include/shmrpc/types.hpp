#pragma once
/// The wire type system: which C++ types can cross, and how each is described.
///
/// A C++ type maps to a TypeInfo tree (kind, size, alignment, element). The server writes these
/// trees into the segment's type table; a client rebuilds them from the table and compares them
/// with the C++ types it passes, so both sides agree on every byte without sharing headers.

#include <array>
#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "shmrpc/layout.hpp"

namespace shmrpc {

using layout::TypeKind;

/// Description of one wire type. Element types are referenced, not owned.
struct TypeInfo {
  TypeKind kind = TypeKind::kVoid;
  bool is_mutable = false;  ///< span<T> (written in place) rather than span<const T>
  std::uint64_t count = 0;  ///< N of std::array
  std::uint32_t size = 0;   ///< bytes of a frame slot
  std::uint32_t align = 1;
  const TypeInfo* element = nullptr;
};

/// True when `a` and `b` describe the same wire type.
bool same_type(const TypeInfo& a, const TypeInfo& b) noexcept;

/// Display name: "int64", "array<float64, 4>", "span<const float64>", "string", ...
std::string type_name(const TypeInfo& type);

/// "name(a: int64, b: int64) -> int64": the display form of a signature, hashed into the
/// segment's layout hash.
std::string format_signature(std::string_view name, const std::vector<std::string>& argument_names,
                             const std::vector<const TypeInfo*>& argument_types,
                             const TypeInfo& return_type);

/// True for the kinds whose value lives in the heap (the slot holds a layout::VarSlot).
constexpr bool is_variable(TypeKind kind) {
  return kind == TypeKind::kSpan || kind == TypeKind::kString || kind == TypeKind::kVector;
}

/// True for bool, integers and floating point.
constexpr bool is_scalar(TypeKind kind) {
  return kind >= TypeKind::kBool && kind <= TypeKind::kFloat64;
}

namespace detail {

template <class T>
inline constexpr bool kAlwaysFalse = false;

template <class T>
struct IsStdArray : std::false_type {};
template <class T, std::size_t N>
struct IsStdArray<std::array<T, N>> : std::true_type {};

template <class T>
struct IsDynamicSpan : std::false_type {};
template <class T>
struct IsDynamicSpan<std::span<T, std::dynamic_extent>> : std::true_type {};

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

template <class T>
inline constexpr bool kIsCharacter =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

/// Fixed-size values: stored inline in a frame slot or as heap elements.
template <class T>
constexpr bool is_fixed_type() {
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, float> || std::is_same_v<T, double>) {
    return true;
  } else if constexpr (std::is_integral_v<T>) {
    return !kIsCharacter<T>;
  } else if constexpr (IsStdArray<T>::value) {
    return std::tuple_size_v<T> > 0 && is_fixed_type<typename T::value_type>();
  } else {
    return false;
  }
}

template <class T>
constexpr TypeKind scalar_kind() {
  if constexpr (std::is_same_v<T, bool>) {
    return TypeKind::kBool;
  } else if constexpr (std::is_same_v<T, float>) {
    return TypeKind::kFloat32;
  } else if constexpr (std::is_same_v<T, double>) {
    return TypeKind::kFloat64;
  } else if constexpr (std::is_signed_v<T>) {
    constexpr std::array kKinds{TypeKind::kInt8, TypeKind::kInt16, TypeKind::kInt32,
                                TypeKind::kInt64};
    return kKinds[std::bit_width(sizeof(T)) - 1];
  } else {
    constexpr std::array kKinds{TypeKind::kUInt8, TypeKind::kUInt16, TypeKind::kUInt32,
                                TypeKind::kUInt64};
    return kKinds[std::bit_width(sizeof(T)) - 1];
  }
}

/// Instantiated for a type shmrpc cannot carry; the compiler names T in the note below the error.
template <class T>
struct UnsupportedType {
  static_assert(kAlwaysFalse<T>,
                "shmrpc: unsupported type in a registered or called function signature (the type "
                "is the T of shmrpc::detail::UnsupportedType<T> in this error). Supported: bool, "
                "fixed-width integers, float, double, std::array<T, N> of those; "
                "std::span<const T> / std::span<T> of those as arguments (read and written in "
                "place); std::string_view / std::string arguments; std::string, std::vector<T> "
                "and void results.");
  static TypeInfo make() { return {}; }
};

template <class T>
TypeInfo make_type_info();

/// The value type a parameter of declared type A is passed as.
template <class A>
using ArgumentValue = std::remove_cvref_t<A>;

}  // namespace detail

/// The wire description of the C++ value type T (already decayed: no references, no cv).
/// Unsupported types fail to compile with a message naming what is supported.
template <class T>
const TypeInfo& type_info_of() {
  static const TypeInfo info = detail::make_type_info<T>();
  return info;
}

namespace detail {

template <class T>
TypeInfo make_type_info() {
  if constexpr (std::is_void_v<T>) {
    return {};
  } else if constexpr (is_fixed_type<T>() && !IsStdArray<T>::value) {
    return {.kind = scalar_kind<T>(), .size = sizeof(T), .align = alignof(T)};
  } else if constexpr (is_fixed_type<T>()) {
    return {.kind = TypeKind::kArray,
            .count = std::tuple_size_v<T>,
            .size = sizeof(T),
            .align = alignof(T),
            .element = &type_info_of<typename T::value_type>()};
  } else if constexpr (IsDynamicSpan<T>::value) {
    using Element = typename T::element_type;
    if constexpr (is_fixed_type<std::remove_const_t<Element>>()) {
      return {.kind = TypeKind::kSpan,
              .is_mutable = !std::is_const_v<Element>,
              .size = sizeof(layout::VarSlot),
              .align = alignof(layout::VarSlot),
              .element = &type_info_of<std::remove_const_t<Element>>()};
    } else {
      return UnsupportedType<T>::make();
    }
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    return {.kind = TypeKind::kString,
            .size = sizeof(layout::VarSlot),
            .align = alignof(layout::VarSlot)};
  } else if constexpr (IsVector<T>::value) {
    using Element = typename T::value_type;
    if constexpr (is_fixed_type<Element>() && !std::is_same_v<Element, bool>) {
      return {.kind = TypeKind::kVector,
              .size = sizeof(layout::VarSlot),
              .align = alignof(layout::VarSlot),
              .element = &type_info_of<Element>()};
    } else {
      return UnsupportedType<T>::make();
    }
  } else {
    return UnsupportedType<T>::make();
  }
}

}  // namespace detail
}  // namespace shmrpc
