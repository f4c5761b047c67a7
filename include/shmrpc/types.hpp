#pragma once
/// The wire type system: which C++ types can cross, and how each is described.
///
/// A C++ type maps to a TypeInfo tree (kind, size, alignment, element, members). The server
/// writes these trees into the segment's type table; a client rebuilds them from the table and
/// compares them with the C++ types it passes, so both sides agree on every byte without sharing
/// headers.
///
/// Fixed types are copied as the compiler lays them out (sizeof, alignof, and the field offsets
/// Boost.PFR finds): scalars, std::complex, enums declared with SHMRPC_ENUM, std::array of fixed
/// types, and aggregates whose fields are fixed types. std::optional and std::tuple/std::pair
/// have a wire form of their own (docs/SPEC.md), because the standard leaves their layout to the
/// implementation. Strings, vectors, maps and ndarrays are a handle in the slot to memory
/// outside it (the heap or a buffer); they nest: a vector of strings is a handle to handles.

#include <array>
#include <bit>
#include <boost/pfr/core.hpp>
#include <complex>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "shmrpc/array_view.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/reflect.hpp"
#include "shmrpc/type_kinds.hpp"

namespace shmrpc {

struct TypeInfo;
template <class T>
class ResultArray;
template <class T, std::size_t Rank>
class ResultNdArray;

/// A field of a struct or tuple (name, offset in the value, type), or an enumerator (name,
/// value as the underlying integer's 64-bit two's complement; no type).
struct MemberInfo {
  std::string name;
  std::uint64_t value = 0;  ///< field offset, or enumerator value
  const TypeInfo* type = nullptr;
};

/// Description of one wire type. Element and member types are referenced, not owned.
struct TypeInfo {
  TypeKind kind = TypeKind::kVoid;
  bool is_mutable = false;  ///< span<T> (written in place) rather than span<const T>
  std::uint64_t count = 0;  ///< N of std::array
  std::uint32_t size = 0;   ///< bytes of a frame slot
  std::uint32_t align = 1;
  /// Array, span and vector elements; the value of an optional; the underlying type of an enum.
  const TypeInfo* element = nullptr;
  std::string name;                 ///< the C++ name of a struct or enum, e.g. "demo::Particle"
  std::vector<MemberInfo> members;  ///< struct fields, tuple elements or enumerators
  /// Some bytes of its slot are no valid value of this type: it holds a bool, an enum or an
  /// optional (value_codec.hpp checks those). Derived from the rest by finish_type().
  bool checked = false;
  /// The value, or a part of it, lies outside its slot: the slot holds handles (layout::VarSlot)
  /// to the heap or a buffer (strings, vectors, maps, ndarrays, and optionals or tuples of them).
  /// Derived by finish_type().
  bool indirect = false;
};

/// The layout of one entry of map type `map`: its key and value where a tuple puts them.
ValueLayout map_entry_layout(const TypeInfo& map) noexcept;

/// Sets the derived fields of `type`, whose element and member types are finished.
TypeInfo finish_type(TypeInfo type);

/// True when `a` and `b` describe the same wire type, members and names included.
bool same_type(const TypeInfo& a, const TypeInfo& b) noexcept;

/// Display name: "int64", "array<float64, 4>", "span<const Particle>", "optional<int32>", ...
std::string type_name(const TypeInfo& type);

/// Everything a wire type is, as text: names, sizes, alignments, offsets, enumerator values.
/// Two types have the same layout text exactly when same_type holds; it feeds the layout hash.
std::string type_layout(const TypeInfo& type);

/// "name(a: int64, b: int64) -> int64": the display form of a signature; with `streams`, the
/// result is the element type of a stream: "frames(n: int32) -> stream<float32[3]>".
std::string format_signature(std::string_view name, const std::vector<std::string>& argument_names,
                             const std::vector<const TypeInfo*>& argument_types,
                             const TypeInfo& return_type, bool streams = false);

/// The signature with every type's full layout (type_layout); its hash is the function's
/// signature hash, so that a changed struct changes the hash even when its name stays.
std::string format_layout_key(std::string_view name, const std::vector<std::string>& argument_names,
                              const std::vector<const TypeInfo*>& argument_types,
                              const TypeInfo& return_type, bool streams = false);

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

/// ResultArray<T> (result_array.hpp): a vector<T> result the server made in shared memory.
template <class T>
struct IsResultArray : std::false_type {};
template <class T>
struct IsResultArray<ResultArray<T>> : std::true_type {};

/// ArrayView<T, Rank> arguments and ResultNdArray<T, Rank> results: ndarrays on the wire.
template <class T>
struct NdArrayTraits {
  static constexpr bool kIsNdArray = false;
};
template <class T, std::size_t Rank>
struct NdArrayTraits<ArrayView<T, Rank>> {
  static constexpr bool kIsNdArray = true;
  using Element = T;
  static constexpr std::size_t kRank = Rank;
};
template <class T, std::size_t Rank>
struct NdArrayTraits<ResultNdArray<T, Rank>> {
  static constexpr bool kIsNdArray = true;
  using Element = T;
  static constexpr std::size_t kRank = Rank;
};

template <class T>
struct IsMap : std::false_type {};
template <class K, class V>
struct IsMap<std::map<K, V>> : std::true_type {};

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class T>
struct IsTuple : std::false_type {};
template <class... T>
struct IsTuple<std::tuple<T...>> : std::true_type {};
template <class A, class B>
struct IsTuple<std::pair<A, B>> : std::true_type {};

template <class T>
struct IsComplex : std::false_type {};
template <class T>
struct IsComplex<std::complex<T>> : std::true_type {};

template <class T>
inline constexpr bool kIsCharacter =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

/// A plain number: what an ndarray holds (is_nd_element).
template <class T>
inline constexpr bool kIsNdElement =
    (std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !kIsCharacter<T>) ||
    std::is_same_v<T, std::complex<float>> || std::is_same_v<T, std::complex<double>>;

/// An enum whose enumerators were declared with SHMRPC_ENUM.
template <class T>
concept DeclaredEnum = std::is_enum_v<T> && requires {
  shmrpc_enum_members(static_cast<const T*>(nullptr));
};

/// A struct whose field names were declared with SHMRPC_FIELDS.
template <class T>
concept NamedFields = requires {
  shmrpc_field_names(static_cast<const T*>(nullptr));
};

/// A class that Boost.PFR reflects: an aggregate (public fields only, no constructors, no virtual
/// functions, no bases).
template <class T>
concept Aggregate = std::is_class_v<T> && std::is_aggregate_v<T> && !std::is_union_v<T> &&
                    !IsStdArray<T>::value && !std::is_polymorphic_v<T>;

template <class T>
constexpr bool is_fixed_type();

template <class T, std::size_t... I>
constexpr bool all_fields_fixed(std::index_sequence<I...> /*fields*/) {
  return sizeof...(I) > 0 && (is_fixed_type<boost::pfr::tuple_element_t<I, T>>() && ...);
}

/// Fixed-size values copied byte for byte: stored inline in a frame slot or as heap elements.
template <class T>
constexpr bool is_fixed_type() {
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, float> || std::is_same_v<T, double>) {
    return true;
  } else if constexpr (std::is_integral_v<T>) {
    return !kIsCharacter<T>;
  } else if constexpr (IsComplex<T>::value) {
    return std::is_same_v<T, std::complex<float>> || std::is_same_v<T, std::complex<double>>;
  } else if constexpr (std::is_enum_v<T>) {
    return DeclaredEnum<T>;
  } else if constexpr (IsStdArray<T>::value) {
    return std::tuple_size_v<T> > 0 && is_fixed_type<typename T::value_type>();
  } else if constexpr (Aggregate<T>) {
    if constexpr (std::is_trivially_copyable_v<T>) {
      return all_fields_fixed<T>(std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});
    } else {
      return false;
    }
  } else {
    return false;
  }
}

template <class T>
constexpr bool all_fixed_types(std::type_identity<T> /*type*/) {
  return false;
}
template <class... T>
constexpr bool all_fixed_types(std::type_identity<std::tuple<T...>> /*type*/) {
  return sizeof...(T) > 0 && (is_fixed_type<T>() && ...);
}
template <class A, class B>
constexpr bool all_fixed_types(std::type_identity<std::pair<A, B>> /*type*/) {
  return is_fixed_type<A>() && is_fixed_type<B>();
}

/// Values of a fixed frame slot that shmrpc converts to and from a wire form of its own:
/// std::optional<F> and std::tuple / std::pair of fixed types F.
template <class T>
constexpr bool is_composite_type() {
  if constexpr (IsOptional<T>::value) {
    return is_fixed_type<typename T::value_type>();
  } else if constexpr (IsTuple<T>::value) {
    return all_fixed_types(std::type_identity<T>{});
  } else {
    return false;
  }
}

/// Fixed-size values of a frame slot: fixed or composite types.
template <class T>
constexpr bool is_slot_type() {
  return is_fixed_type<T>() || is_composite_type<T>();
}

template <class T>
constexpr bool is_value_type();

template <class T>
constexpr bool all_value_types(std::type_identity<T> /*type*/) {
  return false;
}
template <class... T>
constexpr bool all_value_types(std::type_identity<std::tuple<T...>> /*type*/) {
  return sizeof...(T) > 0 && (is_value_type<T>() && ...);
}
template <class A, class B>
constexpr bool all_value_types(std::type_identity<std::pair<A, B>> /*type*/) {
  return is_value_type<A>() && is_value_type<B>();
}

/// A vector of elements that are not fixed: each element is a slot of its own (a vector of
/// strings is a handle to string handles). std::vector<bool>, which packs its bits, is refused.
template <class T>
constexpr bool is_vector_of_values() {
  if constexpr (IsVector<T>::value) {
    using Element = typename T::value_type;
    return !std::is_same_v<Element, bool> && is_value_type<Element>();
  } else {
    return false;
  }
}

/// A vector of fixed elements: its elements are copied byte for byte.
template <class T>
constexpr bool is_vector_of_fixed() {
  if constexpr (IsVector<T>::value) {
    return is_fixed_type<typename T::value_type>() && !std::is_same_v<typename T::value_type, bool>;
  } else {
    return false;
  }
}

/// Values whose slot holds handles to memory outside it, built of other values: vectors of any
/// value type (other than bool), optionals and tuples of value types, maps. The rest of
/// is_value_type (fixed and composite values, strings, ResultArray, ndarrays) has a form of its
/// own.
template <class T>
constexpr bool is_nested_type() {
  if constexpr (IsVector<T>::value) {
    return is_vector_of_values<T>() && !is_vector_of_fixed<T>();
  } else if constexpr (IsOptional<T>::value) {
    return !is_slot_type<T>() && is_value_type<typename T::value_type>();
  } else if constexpr (IsTuple<T>::value) {
    return !is_slot_type<T>() && all_value_types(std::type_identity<T>{});
  } else if constexpr (IsMap<T>::value) {
    return is_value_type<typename T::key_type>() && is_value_type<typename T::mapped_type>();
  } else {
    return false;
  }
}

/// Types that cross as an argument, a result, or a part of either (an element, a member):
/// everything but void, spans (arguments only, never nested) and types shmrpc does not know.
template <class T>
constexpr bool is_value_type() {
  if constexpr (is_slot_type<T>() || std::is_same_v<T, std::string> ||
                std::is_same_v<T, std::string_view>) {
    return true;
  } else if constexpr (IsVector<T>::value) {
    return is_vector_of_values<T>();
  } else if constexpr (IsResultArray<T>::value) {
    return is_fixed_type<typename T::value_type>() && !std::is_same_v<typename T::value_type, bool>;
  } else if constexpr (NdArrayTraits<T>::kIsNdArray) {
    return kIsNdElement<std::remove_const_t<typename NdArrayTraits<T>::Element>>;
  } else {
    return is_nested_type<T>();
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
  } else if constexpr (std::is_same_v<T, std::complex<float>>) {
    return TypeKind::kComplex64;
  } else if constexpr (std::is_same_v<T, std::complex<double>>) {
    return TypeKind::kComplex128;
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
  // An enum without SHMRPC_ENUM is reported by UndeclaredEnum, with the fix.
  static_assert(std::is_enum_v<T> || kAlwaysFalse<T>,
                "shmrpc: unsupported type in a registered or called function signature (the type "
                "is the T of shmrpc::detail::UnsupportedType<T> in this error). Supported: bool, "
                "fixed-width integers, float, double, std::complex<float/double>, enums declared "
                "with SHMRPC_ENUM, std::array<T, N> of those, and aggregates (structs with public "
                "fields only: no constructors, bases, virtual functions or pointers) whose fields "
                "are any of these; std::span<const T> / std::span<T> of those as arguments (read "
                "and written in place); shmrpc::ArrayView<T, Rank> arguments; std::string, "
                "std::string_view arguments; and, nesting freely, std::vector<T> (not bool), "
                "std::optional<T>, std::tuple / std::pair, std::map<K, V> of any of these and of "
                "std::string; void results. A struct's fields must be fixed-size: for "
                "std::string or std::vector fields use a std::tuple.");
  static TypeInfo make() { return {}; }
};

/// An aggregate that is not fixed, all of whose fields are value types: one with a string or
/// vector field, which its compiler layout cannot carry.
template <class T>
constexpr bool fields_are_values() {
  if constexpr (Aggregate<T> && !is_fixed_type<T>()) {
    return []<std::size_t... I>(std::index_sequence<I...> /*fields*/) {
      return (is_value_type<boost::pfr::tuple_element_t<I, T>>() && ...);
    }
    (std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});
  } else {
    return false;
  }
}

/// Instantiated for an aggregate with a field that is not fixed-size; the compiler names T.
template <class T>
struct StructWithIndirectField {
  static_assert(kAlwaysFalse<T>,
                "shmrpc: a struct crosses only when every field is fixed-size (copied byte for "
                "byte: numbers, enums, std::array, structs of those); a std::string, "
                "std::vector or std::optional field cannot be laid out in place. Use a "
                "std::tuple of the fields instead, or pass them as separate arguments (the "
                "struct is the T of shmrpc::detail::StructWithIndirectField<T> in this error).");
  static TypeInfo make() { return {}; }
};

/// Instantiated for an enum without SHMRPC_ENUM; the compiler names T in the note.
template <class T>
struct UndeclaredEnum {
  static_assert(kAlwaysFalse<T>,
                "shmrpc: an enum crosses only with its enumerators declared: add "
                "SHMRPC_ENUM(Type, enumerator1, enumerator2, ...) after the enum, in its "
                "namespace (the enum is the T of shmrpc::detail::UndeclaredEnum<T> in this "
                "error).");
  static TypeInfo make() { return {}; }
};

template <class T>
TypeInfo make_type_info();

/// The value type a parameter of declared type A is passed as.
template <class A>
using ArgumentValue = std::remove_cvref_t<A>;

/// The C++ name of T as the compiler spells it, without "(anonymous namespace)::".
std::string clean_type_name(std::string_view pretty_function);

template <class T>
std::string cxx_type_name() {
  return clean_type_name(static_cast<const char*>(__PRETTY_FUNCTION__));
}

}  // namespace detail

/// The wire description of the C++ value type T (already decayed: no references, no cv).
/// Unsupported types fail to compile with a message naming what is supported.
template <class T>
const TypeInfo& type_info_of() {
  static const TypeInfo info = finish_type(detail::make_type_info<T>());
  return info;
}

namespace detail {

/// A TypeInfo without name or members.
inline TypeInfo basic_type(TypeKind kind, std::uint32_t size, std::uint32_t align,
                           const TypeInfo* element = nullptr) {
  TypeInfo info;
  info.kind = kind;
  info.size = size;
  info.align = align;
  info.element = element;
  return info;
}

/// Checks SHMRPC_FIELDS against the offsets PFR finds; throws std::logic_error naming the field.
void check_field_names(const TypeInfo& type, const std::vector<std::size_t>& declared_offsets);

template <class T, std::size_t... I>
std::vector<MemberInfo> struct_fields(std::index_sequence<I...> /*fields*/) {
  // Field offsets as the compiler laid them out, read off a value-initialised object.
  static const T object{};
  const auto* base = reinterpret_cast<const std::byte*>(&object);
  const auto offset = [&]<std::size_t J>(std::integral_constant<std::size_t, J> /*field*/) {
#ifdef __clang_analyzer__
    // clang-tidy's analyzer takes the fields PFR reads of `object` for uninitialised values
    // (clang-analyzer-core.CallAndMessage inside boost/pfr, where no NOLINT reaches); it checks
    // the rest without reading them.
    return std::uint64_t{0};
#else
    return static_cast<std::uint64_t>(
        reinterpret_cast<const std::byte*>(&boost::pfr::get<J>(object)) - base);
#endif
  };
  std::vector<MemberInfo> fields{{"f" + std::to_string(I),
                                  offset(std::integral_constant<std::size_t, I>{}),
                                  &type_info_of<boost::pfr::tuple_element_t<I, T>>()}...};
  return fields;
}

template <class T>
TypeInfo make_struct_info() {
  TypeInfo info = basic_type(TypeKind::kStruct, sizeof(T), alignof(T));
  info.name = cxx_type_name<T>();
  info.members = struct_fields<T>(std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});
  if constexpr (NamedFields<T>) {
    constexpr auto kNames = shmrpc_field_names(static_cast<const T*>(nullptr));
    std::vector<std::size_t> offsets;
    for (std::size_t i = 0; i < kNames.size(); ++i) {
      info.members[i].name = kNames.at(i).name;
      offsets.push_back(kNames.at(i).offset);
    }
    check_field_names(info, offsets);
  }
  return info;
}

template <class T>
TypeInfo make_enum_info() {
  using Underlying = std::underlying_type_t<T>;
  TypeInfo info = basic_type(TypeKind::kEnum, sizeof(T), alignof(T), &type_info_of<Underlying>());
  info.name = cxx_type_name<T>();
  for (const EnumMember& member : shmrpc_enum_members(static_cast<const T*>(nullptr))) {
    info.members.push_back({std::string(member.name), member.value, nullptr});
  }
  return info;
}

/// Wire form of a tuple: TupleLayout (type_kinds.hpp).
template <class... E>
TypeInfo make_tuple_info() {
  TypeInfo info = basic_type(TypeKind::kTuple, 0, 1);
  TupleLayout tuple;
  const auto add = [&](const TypeInfo& element) {
    info.members.push_back({"", tuple.add({element.size, element.align}), &element});
  };
  (add(type_info_of<E>()), ...);
  info.size = static_cast<std::uint32_t>(tuple.total().size);
  info.align = tuple.total().align;
  return info;
}

template <class T>
struct TupleInfo;
template <class... E>
struct TupleInfo<std::tuple<E...>> {
  static TypeInfo make() { return make_tuple_info<E...>(); }
};
template <class A, class B>
struct TupleInfo<std::pair<A, B>> {
  static TypeInfo make() { return make_tuple_info<A, B>(); }
};

// std::vector (of any value type) and ResultArray (of a fixed type); not of bool.
template <class T>
TypeInfo make_vector_type_info() {
  using Element = typename T::value_type;
  if constexpr (is_value_type<T>()) {
    return basic_type(TypeKind::kVector, sizeof(layout::VarSlot), alignof(layout::VarSlot),
                      &type_info_of<Element>());
  } else {
    return UnsupportedType<T>::make();
  }
}

// std::map<K, V>: a handle to entries laid out as a tuple<K, V> is.
template <class T>
TypeInfo make_map_type_info() {
  TypeInfo info = basic_type(TypeKind::kMap, sizeof(layout::VarSlot), alignof(layout::VarSlot));
  TupleLayout entry;
  const auto add = [&](const TypeInfo& part) {
    info.members.push_back({"", entry.add({part.size, part.align}), &part});
  };
  add(type_info_of<typename T::key_type>());
  add(type_info_of<typename T::mapped_type>());
  return info;
}

// Optionals, tuples, maps and vectors of values that are not fixed.
template <class T>
TypeInfo make_container_info() {
  if constexpr (IsOptional<T>::value) {
    const TypeInfo& value = type_info_of<typename T::value_type>();
    const ValueLayout wire = optional_layout({value.size, value.align});
    return basic_type(TypeKind::kOptional, static_cast<std::uint32_t>(wire.size), wire.align,
                      &value);
  } else if constexpr (IsTuple<T>::value) {
    return TupleInfo<T>::make();
  } else if constexpr (IsMap<T>::value) {
    return make_map_type_info<T>();
  } else {
    return make_vector_type_info<T>();
  }
}

// ArrayView and ResultNdArray: an ndarray of numbers.
template <class T>
TypeInfo make_nd_type_info() {
  using Element = typename NdArrayTraits<T>::Element;
  using Value = std::remove_const_t<Element>;
  if constexpr (kIsNdElement<Value>) {
    TypeInfo info = basic_type(TypeKind::kNdArray, sizeof(layout::NdSlot), alignof(layout::NdSlot),
                               &type_info_of<Value>());
    constexpr std::size_t kRank = NdArrayTraits<T>::kRank;
    info.count = kRank == kDynamicRank ? 0 : kRank;
    info.is_mutable = !std::is_const_v<Element>;
    return info;
  } else {
    return UnsupportedType<T>::make();
  }
}

template <class T>
TypeInfo make_type_info() {
  if constexpr (std::is_void_v<T>) {
    return {};
  } else if constexpr (std::is_enum_v<T> && !DeclaredEnum<T>) {
    return UndeclaredEnum<T>::make();
  } else if constexpr (is_fixed_type<T>() && std::is_enum_v<T>) {
    return make_enum_info<T>();
  } else if constexpr (is_fixed_type<T>() && IsStdArray<T>::value) {
    TypeInfo info = basic_type(TypeKind::kArray, sizeof(T), alignof(T),
                               &type_info_of<typename T::value_type>());
    info.count = std::tuple_size_v<T>;
    return info;
  } else if constexpr (is_fixed_type<T>() && Aggregate<T>) {
    return make_struct_info<T>();
  } else if constexpr (is_fixed_type<T>()) {
    return basic_type(scalar_kind<T>(), sizeof(T), alignof(T));
  } else if constexpr (fields_are_values<T>()) {
    return StructWithIndirectField<T>::make();
  } else if constexpr (is_composite_type<T>() || is_nested_type<T>()) {
    return make_container_info<T>();
  } else if constexpr (IsDynamicSpan<T>::value) {
    using Element = typename T::element_type;
    if constexpr (is_fixed_type<std::remove_const_t<Element>>()) {
      TypeInfo info = basic_type(TypeKind::kSpan, sizeof(layout::VarSlot), alignof(layout::VarSlot),
                                 &type_info_of<std::remove_const_t<Element>>());
      info.is_mutable = !std::is_const_v<Element>;
      return info;
    } else {
      return UnsupportedType<T>::make();
    }
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    return basic_type(TypeKind::kString, sizeof(layout::VarSlot), alignof(layout::VarSlot));
  } else if constexpr (NdArrayTraits<T>::kIsNdArray) {
    return make_nd_type_info<T>();
  } else if constexpr (IsVector<T>::value || IsResultArray<T>::value) {
    return make_vector_type_info<T>();
  } else {
    return UnsupportedType<T>::make();
  }
}

}  // namespace detail
}  // namespace shmrpc
