#pragma once
/// The wire-type kinds, each described once. Every layer that treats kinds differently reads
/// this table instead of switching on TypeKind: the type table reader and writer (sizes,
/// alignments, which kinds have an element or members), display names, the JSON schema (its
/// "kinds" section carries the table to Python and to codegen), the value codec, and the numpy
/// mapping of the Python binding. Adding a kind starts here (CONTRIBUTING.md, "Adding a type").

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "shmrpc/layout.hpp"

namespace shmrpc {

using layout::TypeKind;

/// How a value of a kind is stored in a frame slot.
enum class Storage : std::uint8_t {
  kNone,       ///< void: no value
  kFixed,      ///< its bytes are its value; may be a struct field, array or heap element
  kComposite,  ///< a slot value with a wire form of its own (optional, tuple); slots only
  kVariable,   ///< a layout::VarSlot in the slot, the value in the channel heap
};

/// Which values a kind holds, as the language bindings see them.
enum class KindClass : std::uint8_t {
  kVoid,
  kBool,
  kSignedInteger,
  kUnsignedInteger,
  kFloat,
  kComplex,
  kString,    ///< UTF-8 text
  kArray,     ///< `count` elements inline (std::array)
  kSpan,      ///< elements in the heap, an argument (std::span)
  kVector,    ///< elements in the heap or a buffer (std::vector)
  kStruct,    ///< fields at the offsets the compiler chose
  kEnum,      ///< one of the declared enumerators of an integer type
  kOptional,  ///< a value or none
  kTuple,     ///< elements in order, each at the next offset its alignment allows
  kNdArray,   ///< elements in the heap or a buffer, with a shape and strides (ArrayView)
  kMap,       ///< key-value entries in the heap or a buffer, ordered by key (std::map)
};

/// What TypeInfo::members holds for types of a kind.
enum class Members : std::uint8_t {
  kNone,
  kFields,       ///< named, typed, at the offsets the compiler chose (struct)
  kElements,     ///< unnamed, typed, at the offsets TupleLayout gives (tuple; map: key, value)
  kEnumerators,  ///< named values of no type (enum)
};

/// The size and alignment that the type table reader requires of a type of a kind, given its
/// element, count and members (docs/SPEC.md, the type table).
enum class SizeRule : std::uint8_t {
  kEmpty,        ///< 0 bytes aligned to 1 (void)
  kScalar,       ///< scalar_size, aligned to scalar_align()
  kHeapSlot,     ///< a layout::VarSlot; a span's element is fixed, a vector's any value type
  kRepeated,     ///< `count` elements of a fixed type, aligned as one (array)
  kOptional,     ///< optional_layout() of a value type
  kUnderlying,   ///< that of its element, an integer (enum)
  kFieldLayout,  ///< a compiler's layout of fixed fields (struct)
  kTupleLayout,  ///< TupleLayout of value types
  kEntries,      ///< a layout::VarSlot to entries: a key and a value at TupleLayout offsets
  kNdSlot,       ///< a layout::NdSlot; the element is a number, the count (rank) at most 8
};

/// One kind: everything about it that does not depend on a particular type of the kind.
struct KindTraits {
  TypeKind kind;
  /// The wire name: the "kind" of the JSON schema, and the display name of a scalar.
  std::string_view name;
  KindClass kind_class;
  Storage storage;
  /// Bytes of a scalar, or 0 when each type of the kind has its own size. A scalar is aligned
  /// to its size, a complex number to the size of one part.
  std::uint32_t scalar_size;
  bool has_element;     ///< TypeInfo::element names a type (array, span, vector, optional, enum)
  Members members;      ///< what TypeInfo::members lists
  bool has_count;       ///< TypeInfo::count is the TypeDesc::count of the type table (array)
  bool can_be_mutable;  ///< TypeInfo::is_mutable may be set: the callee writes into it (span)
  bool is_checked;      ///< some bytes of such a value are invalid (bool, enum, optional flag)
  bool in_arguments;    ///< a function may take one (all but void)
  bool in_results;      ///< a function may return one (all but span, an argument)
  SizeRule size_rule;
  /// The display name (type_name) as a fmt pattern of named arguments: {element} and {members}
  /// (their display names), {count}, {rank} (", N" for a count N, empty for 0), {const}
  /// ("const " unless mutable) and {name} (the C++ name); empty for the wire name.
  std::string_view display;
  /// The layout text (type_layout) as a pattern like `display`, whose {element} and {members}
  /// are layout texts, and with {size} (" /size,align"); empty when it is `display`.
  std::string_view layout_text;
  std::string_view numpy;   ///< numpy dtype name of a scalar, e.g. "int32"; empty otherwise
  std::string_view python;  ///< the Python class of a scalar or string value, e.g. "int"
  std::string_view cxx;     ///< the C++ spelling of a scalar or string, e.g. "std::int32_t"
};

/// The kinds, in TypeKind order.
inline constexpr std::array<KindTraits, 24> kKinds = [] {
  using enum Members;
  using enum SizeRule;
  // Column shorthands.
  constexpr bool kElem = true;   // has_element
  constexpr bool kCount = true;  // has_count
  constexpr bool kMut = true;    // can_be_mutable
  constexpr bool kChk = true;    // is_checked
  constexpr bool kArg = true;    // in_arguments
  constexpr bool kRes = true;    // in_results
  constexpr bool kNo = false;
  return std::array<KindTraits, 24>{{
      // clang-format off
      // kind                  name          class                       storage              size elem   members       count   mutable checked args  results size rule      display                      layout text                             numpy         python     cxx
      {TypeKind::kVoid,       "void",       KindClass::kVoid,            Storage::kNone,      0,  kNo,   kNone,        kNo,    kNo,    kNo,    kNo,  kRes,   kEmpty,       "",                          "",                                     "",           "None",    "void"},
      {TypeKind::kBool,       "bool",       KindClass::kBool,            Storage::kFixed,     1,  kNo,   kNone,        kNo,    kNo,    kChk,   kArg, kRes,   kScalar,      "",                          "",                                     "bool",       "bool",    "bool"},
      {TypeKind::kInt8,       "int8",       KindClass::kSignedInteger,   Storage::kFixed,     1,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "int8",       "int",     "std::int8_t"},
      {TypeKind::kInt16,      "int16",      KindClass::kSignedInteger,   Storage::kFixed,     2,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "int16",      "int",     "std::int16_t"},
      {TypeKind::kInt32,      "int32",      KindClass::kSignedInteger,   Storage::kFixed,     4,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "int32",      "int",     "std::int32_t"},
      {TypeKind::kInt64,      "int64",      KindClass::kSignedInteger,   Storage::kFixed,     8,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "int64",      "int",     "std::int64_t"},
      {TypeKind::kUInt8,      "uint8",      KindClass::kUnsignedInteger, Storage::kFixed,     1,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "uint8",      "int",     "std::uint8_t"},
      {TypeKind::kUInt16,     "uint16",     KindClass::kUnsignedInteger, Storage::kFixed,     2,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "uint16",     "int",     "std::uint16_t"},
      {TypeKind::kUInt32,     "uint32",     KindClass::kUnsignedInteger, Storage::kFixed,     4,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "uint32",     "int",     "std::uint32_t"},
      {TypeKind::kUInt64,     "uint64",     KindClass::kUnsignedInteger, Storage::kFixed,     8,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "uint64",     "int",     "std::uint64_t"},
      {TypeKind::kFloat32,    "float32",    KindClass::kFloat,           Storage::kFixed,     4,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "float32",    "float",   "float"},
      {TypeKind::kFloat64,    "float64",    KindClass::kFloat,           Storage::kFixed,     8,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "float64",    "float",   "double"},
      {TypeKind::kComplex64,  "complex64",  KindClass::kComplex,         Storage::kFixed,     8,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "complex64",  "complex", "std::complex<float>"},
      {TypeKind::kComplex128, "complex128", KindClass::kComplex,         Storage::kFixed,    16,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kScalar,      "",                          "",                                     "complex128", "complex", "std::complex<double>"},
      {TypeKind::kArray,      "array",      KindClass::kArray,           Storage::kFixed,     0,  kElem, kNone,        kCount, kNo,    kNo,    kArg, kRes,   kRepeated,    "array<{element}, {count}>", "",                                     "",           "",        ""},
      {TypeKind::kSpan,       "span",       KindClass::kSpan,            Storage::kVariable,  0,  kElem, kNone,        kNo,    kMut,   kNo,    kArg, kNo,    kHeapSlot,    "span<{const}{element}>",    "",                                     "",           "",        ""},
      {TypeKind::kString,     "string",     KindClass::kString,          Storage::kVariable,  0,  kNo,   kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kHeapSlot,    "",                          "",                                     "",           "str",     "std::string"},
      {TypeKind::kVector,     "vector",     KindClass::kVector,          Storage::kVariable,  0,  kElem, kNone,        kNo,    kNo,    kNo,    kArg, kRes,   kHeapSlot,    "vector<{element}>",         "",                                     "",           "",        ""},
      {TypeKind::kStruct,     "struct",     KindClass::kStruct,          Storage::kFixed,     0,  kNo,   kFields,      kNo,    kNo,    kNo,    kArg, kRes,   kFieldLayout, "{name}",                    "struct {name} {{{members}}}{size}",    "",           "",        ""},
      {TypeKind::kEnum,       "enum",       KindClass::kEnum,            Storage::kFixed,     0,  kElem, kEnumerators, kNo,    kNo,    kChk,   kArg, kRes,   kUnderlying,  "{name}",                    "enum {name}: {element} {{{members}}}", "",           "",        ""},
      {TypeKind::kOptional,   "optional",   KindClass::kOptional,        Storage::kComposite, 0,  kElem, kNone,        kNo,    kNo,    kChk,   kArg, kRes,   kOptional,    "optional<{element}>",       "",                                     "",           "",        ""},
      {TypeKind::kTuple,      "tuple",      KindClass::kTuple,           Storage::kComposite, 0,  kNo,   kElements,    kNo,    kNo,    kNo,    kArg, kRes,   kTupleLayout, "tuple<{members}>",          "tuple<{members}>{size}",               "",           "",        ""},
      {TypeKind::kNdArray,    "ndarray",    KindClass::kNdArray,         Storage::kVariable,  0,  kElem, kNone,        kCount, kMut,   kNo,    kArg, kRes,   kNdSlot,      "ndarray<{const}{element}{rank}>", "",                               "",           "",        ""},
      {TypeKind::kMap,        "map",        KindClass::kMap,             Storage::kVariable,  0,  kNo,   kElements,    kNo,    kNo,    kNo,    kArg, kRes,   kEntries,     "map<{members}>",            "map<{members}>",                       "",           "",        ""},
      // clang-format on
  }};
}();

namespace detail {
// Index into kKinds by TypeKind value; 0xFF where no kind has that value.
inline constexpr std::array<std::uint8_t, 256> kKindIndex = [] {
  std::array<std::uint8_t, 256> index{};
  index.fill(0xFF);
  for (std::size_t i = 0; i < kKinds.size(); ++i) {
    index.at(static_cast<std::uint8_t>(kKinds.at(i).kind)) = static_cast<std::uint8_t>(i);
  }
  return index;
}();
}  // namespace detail

/// The description of the kind stored as `raw` (a TypeDesc::kind byte), or nullptr when no kind
/// has that value: a type table from another process may hold anything.
constexpr const KindTraits* find_kind(std::uint8_t raw) {
  const std::uint8_t index = detail::kKindIndex.at(raw);
  return index == 0xFF ? nullptr : &kKinds.at(index);
}

/// The kind named `name` (the wire name), or nullptr.
constexpr const KindTraits* find_kind(std::string_view name) {
  for (const KindTraits& traits : kKinds) {
    if (traits.name == name) {
      return &traits;
    }
  }
  return nullptr;
}

/// The description of `kind`, a TypeKind enumerator.
constexpr const KindTraits& kind_traits(TypeKind kind) {
  return *find_kind(static_cast<std::uint8_t>(kind));
}

constexpr bool is_scalar(TypeKind kind) {
  return kind_traits(kind).scalar_size != 0;
}
constexpr bool is_integer(TypeKind kind) {
  const KindClass c = kind_traits(kind).kind_class;
  return c == KindClass::kSignedInteger || c == KindClass::kUnsignedInteger;
}
constexpr bool is_signed_integer(TypeKind kind) {
  return kind_traits(kind).kind_class == KindClass::kSignedInteger;
}
constexpr bool is_floating(TypeKind kind) {
  return kind_traits(kind).kind_class == KindClass::kFloat;
}
/// Copied byte for byte: what a span, vector, array or struct field may hold.
constexpr bool is_fixed(TypeKind kind) {
  return kind_traits(kind).storage == Storage::kFixed;
}
/// The value lives in the heap or a buffer; the slot holds a layout::VarSlot (or, for an
/// ndarray, a layout::NdSlot, which starts with one).
constexpr bool is_variable(TypeKind kind) {
  return kind_traits(kind).storage == Storage::kVariable;
}

/// What a vector, optional, tuple or map may hold: any kind but void and span (an argument
/// that is a view of the caller's memory, never a part of a value).
constexpr bool is_value_kind(TypeKind kind) {
  return kind != TypeKind::kVoid && kind != TypeKind::kSpan;
}

/// What an ndarray may hold: plain numbers (integers, floats, complex; not bool, which has
/// invalid bytes that a strided view would make costly to check).
constexpr bool is_nd_element(TypeKind kind) {
  const KindClass c = kind_traits(kind).kind_class;
  return c == KindClass::kSignedInteger || c == KindClass::kUnsignedInteger ||
         c == KindClass::kFloat || c == KindClass::kComplex;
}

/// Types of the kind have a C++ name and a definition of their own (struct, enum).
constexpr bool is_named(TypeKind kind) {
  const KindClass c = kind_traits(kind).kind_class;
  return c == KindClass::kStruct || c == KindClass::kEnum;
}

/// The name of a kind class in the JSON schema's "kinds" table: "signed_integer", ...
constexpr std::string_view kind_class_name(KindClass kind_class) {
  constexpr std::array<std::string_view, 16> kNames{
      "void",    "bool", "signed_integer", "unsigned_integer", "float", "complex",  "string",
      "array",   "span", "vector",         "struct",           "enum",  "optional", "tuple",
      "ndarray", "map"};
  return kNames.at(static_cast<std::size_t>(kind_class));
}

/// The name of a storage in the JSON schema's "kinds" table: "none", "fixed", ...
constexpr std::string_view storage_name(Storage storage) {
  constexpr std::array<std::string_view, 4> kNames{"none", "fixed", "composite", "variable"};
  return kNames.at(static_cast<std::size_t>(storage));
}

/// Alignment of a scalar of `kind`: its size, or a part's for complex numbers.
constexpr std::uint32_t scalar_align(TypeKind kind) {
  const KindTraits& traits = kind_traits(kind);
  return traits.kind_class == KindClass::kComplex ? traits.scalar_size / 2 : traits.scalar_size;
}

/// Calls `visit(std::type_identity<T>{})` with the C++ type T of scalar kind `kind` (bool, the
/// fixed-width integers, float, double, or the Number of std::complex<Number>, with `complex`
/// true); returns nullopt for a kind that is not a scalar.
template <class Visit>
constexpr auto visit_scalar(TypeKind kind, Visit&& visit)
    -> std::optional<decltype(visit(std::type_identity<bool>{}))> {
  switch (kind) {
    case TypeKind::kBool:
      return visit(std::type_identity<bool>{});
    case TypeKind::kInt8:
      return visit(std::type_identity<std::int8_t>{});
    case TypeKind::kInt16:
      return visit(std::type_identity<std::int16_t>{});
    case TypeKind::kInt32:
      return visit(std::type_identity<std::int32_t>{});
    case TypeKind::kInt64:
      return visit(std::type_identity<std::int64_t>{});
    case TypeKind::kUInt8:
      return visit(std::type_identity<std::uint8_t>{});
    case TypeKind::kUInt16:
      return visit(std::type_identity<std::uint16_t>{});
    case TypeKind::kUInt32:
      return visit(std::type_identity<std::uint32_t>{});
    case TypeKind::kUInt64:
      return visit(std::type_identity<std::uint64_t>{});
    case TypeKind::kFloat32:
    case TypeKind::kComplex64:
      return visit(std::type_identity<float>{});
    case TypeKind::kFloat64:
    case TypeKind::kComplex128:
      return visit(std::type_identity<double>{});
    default:
      return std::nullopt;
  }
}

/// Size and alignment of a value of a type.
struct ValueLayout {
  std::uint64_t size = 0;
  std::uint32_t align = 1;
};

/// Where the value of an optional lies in its wire form: [has_value: uint8][pad][value].
constexpr std::uint32_t optional_value_offset(std::uint32_t value_align) {
  return value_align;
}

/// The wire form of an optional of a value of `value` layout.
constexpr ValueLayout optional_layout(ValueLayout value) {
  return {layout::align_up(optional_value_offset(value.align) + value.size, value.align),
          value.align};
}

/// Lays out a tuple's elements one after the other, each at the next offset its alignment
/// allows: add() returns an element's offset, total() the tuple's size and alignment.
class TupleLayout {
 public:
  constexpr std::uint64_t add(ValueLayout element) {
    const std::uint64_t offset = layout::align_up(end_, element.align);
    end_ = offset + element.size;
    align_ = align_ > element.align ? align_ : element.align;
    return offset;
  }
  constexpr ValueLayout total() const { return {layout::align_up(end_, align_), align_}; }

 private:
  std::uint64_t end_ = 0;
  std::uint32_t align_ = 1;
};

}  // namespace shmrpc
