#pragma once
/// The typed layer of a call: C++ arguments into a DynamicCall, its result back into a C++ value.
/// Client::call and Function are built from these.

#include <array>
#include <cstring>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "shmrpc/connection.hpp"
#include "shmrpc/detail/slot_codec.hpp"
#include "shmrpc/dynamic_call.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/result_array.hpp"
#include "shmrpc/shared_array.hpp"
#include "shmrpc/types.hpp"
#include "shmrpc/value_codec.hpp"

namespace shmrpc::detail {

template <class T>
struct IsSharedArray : std::false_type {};
template <class T>
struct IsSharedArray<SharedArray<T>> : std::true_type {};

template <class T>
struct IsSharedNdArray : std::false_type {};
template <class T, std::size_t Rank>
struct IsSharedNdArray<SharedNdArray<T, Rank>> : std::true_type {
  static constexpr std::size_t kRank = Rank;
};

// The wire type a C++ result type R is read from: a SharedArray<T> is a vector<T> result, a
// SharedNdArray<T, Rank> an ndarray result.
template <class R>
const TypeInfo& result_type_info() {
  if constexpr (IsSharedNdArray<R>::value) {
    return type_info_of<ResultNdArray<typename R::element_type, IsSharedNdArray<R>::kRank>>();
  } else if constexpr (IsSharedArray<R>::value) {
    return type_info_of<std::vector<typename R::value_type>>();
  } else {
    return type_info_of<R>();
  }
}

/// Writes one argument of any supported C++ type, checked against the parameter's wire type.
template <class V>
void put_argument(DynamicCall& call, std::size_t index, V&& value) {
  using T = std::remove_cvref_t<V>;
  if constexpr (std::is_same_v<T, bool>) {
    call.put_bool(index, value);
  } else if constexpr (std::is_integral_v<T> && !kIsCharacter<T>) {
    if constexpr (std::is_signed_v<T>) {
      call.put_int(index, value);
    } else {
      call.put_uint(index, value);
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    call.put_float(index, static_cast<double>(value));
  } else if constexpr (std::is_convertible_v<V, std::string_view>) {
    // A string literal converts through its pointer, which is what string_view takes.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-bounds-array-to-pointer-decay)
    call.put_string(index, std::string_view(value));
  } else if constexpr (NdArrayTraits<T>::kIsNdArray) {
    using Element = typename NdArrayTraits<T>::Element;
    using Value = std::remove_const_t<Element>;
    // Written through only when Element is not const.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
    call.put_ndarray(index, type_info_of<Value>(), const_cast<Value*>(value.data()), value.shape(),
                     value.strides(), !std::is_const_v<Element>);
  } else if constexpr (IsStdArray<T>::value && is_fixed_type<T>()) {
    constexpr bool kWritable = !std::is_const_v<std::remove_reference_t<V>>;
    // Written through only when kWritable, i.e. when the caller's array is not const.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
    call.put_fixed(index, type_info_of<T>(), const_cast<T*>(&value), kWritable);
  } else if constexpr (is_fixed_type<T>()) {
    // A struct, enum or complex number: copied as the compiler lays it out.
    call.put_value(index, type_info_of<T>(), &value);
  } else if constexpr (is_composite_type<T>()) {
    std::vector<std::byte> bytes(type_info_of<T>().size);
    write_slot(bytes.data(), value);
    call.put_value(index, type_info_of<T>(), bytes.data());
  } else if constexpr (std::ranges::contiguous_range<V> && std::ranges::sized_range<V>) {
    using Element = std::remove_reference_t<std::ranges::range_reference_t<V>>;
    using Value = std::remove_const_t<Element>;
    static_assert(is_fixed_type<Value>(), "shmrpc: range elements must be a supported fixed type");
    // Written through only when Element is not const.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
    auto* data = const_cast<Value*>(std::ranges::data(value));
    call.put_span(index, type_info_of<Value>(), data, std::ranges::size(value),
                  !std::is_const_v<Element>);
  } else {
    UnsupportedType<T>::make();
  }
}

/// Throws std::invalid_argument unless R is the function's result type.
template <class R>
void check_result_type(const FunctionSchema& function) {
  if (!same_type(result_type_info<R>(), *function.return_type)) {
    throw std::invalid_argument("shmrpc: " + function.signature + " returns " +
                                type_name(*function.return_type) + ", not " +
                                type_name(result_type_info<R>()));
  }
}

/// The shape of an ndarray result, after checking that it describes its bytes in C order.
/// Throws ProtocolError.
std::array<std::size_t, layout::kMaxRank> checked_c_shape(const DynamicCall& call,
                                                          const layout::NdSlot& slot);

// The result, checked like the server checks arguments (bools, enums, optional flags).
template <class R>
R read_result(DynamicCall& call) {
  if constexpr (std::is_void_v<R>) {
    return;
  } else if constexpr (is_slot_type<R>()) {
    return read_slot<R>(call.result_slot(), true);
  } else if constexpr (std::is_same_v<R, std::string>) {
    const auto bytes = call.result_bytes();
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  } else if constexpr (IsSharedNdArray<R>::value) {
    using Element = typename R::element_type;
    layout::NdSlot slot{};
    std::memcpy(&slot, call.result_slot(), sizeof slot);
    const std::array<std::size_t, layout::kMaxRank> shape = checked_c_shape(call, slot);
    return R(read_result<SharedArray<Element>>(call),
             std::span<const std::size_t>(shape.data(), slot.rank));
  } else if constexpr (IsSharedArray<R>::value) {
    // Kept where it lies, in the heap or the buffer the server made: no copy.
    using Element = typename R::value_type;
    const auto bytes = call.result_bytes();
    check_values(type_info_of<Element>(), bytes.data(), bytes.size() / sizeof(Element));
    if (bytes.empty()) {
      return R({}, SharedBlock{}, 0);
    }
    return R(call.connection().shared_from_this(), call.keep_result_block(),
             bytes.size() / sizeof(Element));
  } else if constexpr (IsVector<R>::value) {
    using Element = typename R::value_type;
    const auto bytes = call.result_bytes();
    check_values(type_info_of<Element>(), bytes.data(), bytes.size() / sizeof(Element));
    R values(bytes.size() / sizeof(Element));
    if (!bytes.empty()) {
      std::memcpy(static_cast<void*>(values.data()), bytes.data(), bytes.size());
    }
    return values;
  } else {
    return UnsupportedType<R>::make();
  }
}

template <class R>
R take_result(DynamicCall& call) {
  try {
    return read_result<R>(call);
  } catch (const InvalidValue& error) {
    throw ProtocolError("shmrpc: " + call.function().name + " returned an invalid " +
                        type_name(result_type_info<R>()) + ": " + error.what());
  }
}

template <class R, class... Args>
R invoke(Connection& connection, const FunctionSchema& function, Args&&... args) {
  DynamicCall call(connection, function);
  std::size_t index = 0;
  (put_argument(call, index++, std::forward<Args>(args)), ...);
  call.execute();
  return take_result<R>(call);
}

}  // namespace shmrpc::detail
