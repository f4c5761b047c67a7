#pragma once
/// Names that C++ cannot tell shmrpc by itself: the field names of a struct (Boost 1.81's PFR
/// reflects fields by position only) and the enumerators of an enum. Declare them once, next to
/// the type, in the type's namespace:
///
///     struct Particle {
///       std::array<double, 3> pos;
///       std::array<double, 3> vel;
///       float mass;
///     };
///     SHMRPC_FIELDS(Particle, pos, vel, mass);
///
///     enum class Side : std::uint8_t { kBuy, kSell };
///     SHMRPC_ENUM(Side, kBuy, kSell);
///
/// SHMRPC_FIELDS must name every field in declaration order (checked: the count at compile time,
/// each name's offset against the field's when the type is first described). A struct without
/// it crosses with fields named f0, f1, ... An enum without SHMRPC_ENUM cannot cross: its
/// enumerators are part of the published metadata.

#include <array>
#include <boost/pfr/core.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shmrpc {

/// A field name declared with SHMRPC_FIELDS and the offset the compiler gives that field.
struct FieldName {
  std::string_view name;
  std::size_t offset;
};

/// An enumerator declared with SHMRPC_ENUM: its name and value (the underlying integer's bits).
struct EnumMember {
  std::string_view name;
  std::uint64_t value;
};

}  // namespace shmrpc

// The macros below cannot be templates: they stringize field and enumerator names (#field),
// which only the preprocessor can.
// NOLINTBEGIN(cppcoreguidelines-macro-usage)

// Applies macro(context, x) to every further argument: the __VA_OPT__ recursion of C++20, with
// four levels of re-scanning (up to 4^4 = 256 arguments).
#define SHMRPC_DETAIL_PARENS ()
#define SHMRPC_DETAIL_EXPAND(...) \
  SHMRPC_DETAIL_EXPAND3(          \
      SHMRPC_DETAIL_EXPAND3(SHMRPC_DETAIL_EXPAND3(SHMRPC_DETAIL_EXPAND3(__VA_ARGS__))))
#define SHMRPC_DETAIL_EXPAND3(...) \
  SHMRPC_DETAIL_EXPAND2(           \
      SHMRPC_DETAIL_EXPAND2(SHMRPC_DETAIL_EXPAND2(SHMRPC_DETAIL_EXPAND2(__VA_ARGS__))))
#define SHMRPC_DETAIL_EXPAND2(...) \
  SHMRPC_DETAIL_EXPAND1(           \
      SHMRPC_DETAIL_EXPAND1(SHMRPC_DETAIL_EXPAND1(SHMRPC_DETAIL_EXPAND1(__VA_ARGS__))))
#define SHMRPC_DETAIL_EXPAND1(...) __VA_ARGS__
#define SHMRPC_DETAIL_FOR_EACH(macro, context, ...) \
  __VA_OPT__(SHMRPC_DETAIL_EXPAND(SHMRPC_DETAIL_FOR_EACH_STEP(macro, context, __VA_ARGS__)))
#define SHMRPC_DETAIL_FOR_EACH_STEP(macro, context, first, ...) \
  macro(context, first)                                         \
      __VA_OPT__(SHMRPC_DETAIL_FOR_EACH_AGAIN SHMRPC_DETAIL_PARENS(macro, context, __VA_ARGS__))
#define SHMRPC_DETAIL_FOR_EACH_AGAIN() SHMRPC_DETAIL_FOR_EACH_STEP

#define SHMRPC_DETAIL_FIELD(Type, field) ::shmrpc::FieldName{#field, offsetof(Type, field)},
#define SHMRPC_DETAIL_ENUMERATOR(Type, enumerator) \
  ::shmrpc::EnumMember{#enumerator, static_cast<std::uint64_t>(Type::enumerator)},

/// Names the fields of aggregate `Type`, every one, in declaration order. Use it at namespace
/// scope in the namespace of `Type` (shmrpc finds it by argument-dependent lookup).
#define SHMRPC_FIELDS(Type, ...)                                                \
  [[maybe_unused]] constexpr auto shmrpc_field_names(const Type* /*tag*/) {     \
    return std::to_array<::shmrpc::FieldName>(                                  \
        {SHMRPC_DETAIL_FOR_EACH(SHMRPC_DETAIL_FIELD, Type, __VA_ARGS__)});      \
  }                                                                             \
  static_assert(shmrpc_field_names(static_cast<const Type*>(nullptr)).size() == \
                    ::boost::pfr::tuple_size_v<Type>,                           \
                "SHMRPC_FIELDS(" #Type ", ...) must name every field of " #Type \
                ", in declaration order")

/// Names the enumerators of enum `Type` (scoped or not) that may cross. Use it at namespace scope
/// in the namespace of `Type`.
#define SHMRPC_ENUM(Type, ...)                                                  \
  [[maybe_unused]] constexpr auto shmrpc_enum_members(const Type* /*tag*/) {    \
    return std::to_array<::shmrpc::EnumMember>(                                 \
        {SHMRPC_DETAIL_FOR_EACH(SHMRPC_DETAIL_ENUMERATOR, Type, __VA_ARGS__)}); \
  }                                                                             \
  static_assert(true, "a semicolon may follow")

// NOLINTEND(cppcoreguidelines-macro-usage)
