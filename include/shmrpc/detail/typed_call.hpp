#pragma once
/// The typed layer of a call: C++ arguments into a DynamicCall, its result back into a C++ value.
/// Client::call and Function are built from these.

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "shmrpc/connection.hpp"
#include "shmrpc/detail/nested_codec.hpp"
#include "shmrpc/detail/slot_codec.hpp"
#include "shmrpc/dynamic_call.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/result_array.hpp"
#include "shmrpc/shared_array.hpp"
#include "shmrpc/types.hpp"
#include "shmrpc/value_codec.hpp"

namespace shmrpc {
template <class T>
class StreamReader;
}  // namespace shmrpc

namespace shmrpc::detail {

// What a client-side result type R stands for: a StreamReader<T> is a stream of T.
template <class R>
struct StreamElement {
  using type = R;
  static constexpr bool kStreams = false;
};
template <class T>
struct StreamElement<StreamReader<T>> {
  using type = T;
  static constexpr bool kStreams = true;
};

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

// The wire type a C++ result type R is read from: a SharedArray<T> is a vector<T>, a
// SharedNdArray<T, Rank> an ndarray, wherever they lie in R.
template <class R>
struct WireOf {
  using type = R;
};
template <class T>
struct WireOf<SharedArray<T>> {
  using type = std::vector<T>;
};
template <class T, std::size_t Rank>
struct WireOf<SharedNdArray<T, Rank>> {
  using type = ResultNdArray<T, Rank>;
};
template <class T>
struct WireOf<std::vector<T>> {
  using type = std::vector<typename WireOf<T>::type>;
};
template <class T>
struct WireOf<std::optional<T>> {
  using type = std::optional<typename WireOf<T>::type>;
};
template <class... T>
struct WireOf<std::tuple<T...>> {
  using type = std::tuple<typename WireOf<T>::type...>;
};
template <class A, class B>
struct WireOf<std::pair<A, B>> {
  using type = std::pair<typename WireOf<A>::type, typename WireOf<B>::type>;
};
template <class K, class V>
struct WireOf<std::map<K, V>> {
  using type = std::map<typename WireOf<K>::type, typename WireOf<V>::type>;
};

template <class R>
const TypeInfo& result_type_info() {
  return type_info_of<typename WireOf<R>::type>();
}

/// The client's memory for decode_nested (nested_codec.hpp): the result's pieces, which
/// DynamicCall::execute() checked. SharedArrays over one block share it.
struct ResultMemory {
  DynamicCall& call;
  std::vector<std::pair<std::uint64_t, std::shared_ptr<const KeptBlock>>> kept;

  const std::byte* piece(const layout::VarSlot& slot, std::size_t size,
                         std::size_t /*align*/) const {
    return call.result_piece(slot, size).data();
  }

  template <class T>
  static const TypeInfo& info() {
    return result_type_info<T>();
  }

  /// Throws InvalidValue: an entry of a map result repeats an earlier entry's key.
  [[noreturn]] static void repeated_key(std::size_t entry);

  // The block of memory `buffer` of the result, kept once for all the arrays over it.
  std::shared_ptr<const KeptBlock> keep(std::uint64_t buffer);

  template <class T>
  T leaf(const std::byte* bytes) {
    if constexpr (IsSharedNdArray<T>::value) {
      using Element = typename T::element_type;
      const auto slot = load_handle<layout::NdSlot>(bytes);
      const auto elements = call.result_piece(slot.data, sizeof(Element));
      const std::array<std::size_t, layout::kMaxRank> shape =
          result_shape(call.function(), info<T>(), slot, elements.size());
      return T(leaf<SharedArray<Element>>(bytes),
               std::span<const std::size_t>(shape.data(), slot.rank));
    } else if constexpr (IsSharedArray<T>::value) {
      // Kept where it lies, in the heap or the buffer the server made: no copy.
      using Element = typename T::value_type;
      const auto slot = load_handle<layout::VarSlot>(bytes);
      if (call.result_piece(slot, sizeof(Element)).empty()) {
        return T(std::shared_ptr<const KeptBlock>{}, nullptr, 0);
      }
      // The result's memory outlives the call only through the kept block. Kept first: a
      // stream's element moves to a block of its own then.
      std::shared_ptr<const KeptBlock> block = keep(slot.buffer);
      const auto elements = call.result_piece(slot, sizeof(Element));
      check_values(type_info_of<Element>(), elements.data(), slot.length);
      // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
      auto* data = reinterpret_cast<Element*>(const_cast<std::byte*>(elements.data()));
      return T(std::move(block), data, slot.length);
    } else {
      return UnsupportedType<T>::make();
    }
  }
};

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
  } else if constexpr (is_nested_type<T>()) {
    const TypeInfo& type = type_info_of<T>();
    std::vector<std::byte> slot(type.size);
    PieceWriter pieces;
    auto no_leaf = []<class Leaf>(std::byte* /*out*/, const Leaf& /*value*/) {
      UnsupportedType<Leaf>::make();
    };
    encode_nested(pieces, slot.data(), value, no_leaf);
    call.put_pieces(index, type, slot.data(), pieces);
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
  if (function.streams) {
    throw std::invalid_argument("shmrpc: " + function.signature +
                                " streams its results: read them with stream<T>()");
  }
  if (!same_type(result_type_info<R>(), *function.return_type)) {
    throw std::invalid_argument("shmrpc: " + function.signature + " returns " +
                                type_name(*function.return_type) + ", not " +
                                type_name(result_type_info<R>()));
  }
}

/// Throws std::invalid_argument unless the function streams elements of type T.
template <class T>
void check_stream_type(const FunctionSchema& function) {
  if (!function.streams) {
    throw std::invalid_argument("shmrpc: " + function.signature +
                                " does not stream: call it with call<R>()");
  }
  if (!same_type(result_type_info<T>(), *function.return_type)) {
    throw std::invalid_argument("shmrpc: " + function.signature + " streams " +
                                type_name(*function.return_type) + ", not " +
                                type_name(result_type_info<T>()));
  }
}

// The result, checked like the server checks arguments (bools, enums, optional flags).
template <class R>
R read_result(DynamicCall& call) {
  if constexpr (std::is_void_v<R>) {
    return;
  } else if constexpr (is_slot_type<R>()) {
    return read_slot<R>(call.result_slot(), true);
  } else {
    ResultMemory memory{call, {}};
    return decode_nested<R>(memory, call.result_slot());
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

/// A call of `function` on `connection` with `args` written, ready to start (Future, stream).
template <class... Args>
std::unique_ptr<DynamicCall> prepare_call(Connection& connection, const FunctionSchema& function,
                                          Args&&... args) {
  auto call = std::make_unique<DynamicCall>(connection, function);
  std::size_t index = 0;
  (put_argument(*call, index++, std::forward<Args>(args)), ...);
  return call;
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
