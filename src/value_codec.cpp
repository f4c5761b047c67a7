#include "shmrpc/value_codec.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

namespace shmrpc {
namespace {

template <class Wire, class Value>
bool store_number(Value value, std::byte* out) noexcept {
  if constexpr (std::is_same_v<Wire, bool>) {
    return false;  // a bool is not a number
  } else if constexpr (std::is_integral_v<Wire>) {
    if (!std::in_range<Wire>(value)) {
      return false;
    }
  }
  const auto wire = static_cast<Wire>(value);
  std::memcpy(out, &wire, sizeof wire);
  return true;
}

template <class Value>
bool store_integer(TypeKind kind, Value value, std::byte* out) noexcept {
  if (!is_integer(kind) && !is_floating(kind)) {
    return false;
  }
  return *visit_scalar(kind, [&]<class Wire>(std::type_identity<Wire> /*wire*/) {
    return store_number<Wire>(value, out);
  });
}

void check_bools(const std::byte* bytes, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if (std::to_integer<unsigned>(bytes[i]) > 1) {
      throw InvalidValue(fmt::format("a bool holds byte {}; a bool is 0 or 1",
                                     std::to_integer<unsigned>(bytes[i])));
    }
  }
}

}  // namespace

void check_value(const TypeInfo& type, const std::byte* bytes) {
  if (!type.checked) {
    return;
  }
  switch (kind_traits(type.kind).kind_class) {
    case KindClass::kBool:
      check_bools(bytes, 1);
      return;
    case KindClass::kEnum: {
      const std::uint64_t value = decode_integer(type.element->kind, bytes);
      if (find_enumerator(type, value) == nullptr) {
        throw InvalidValue(fmt::format("{} holds {}, which is none of its enumerators ({})",
                                       type.name, enumerator_value_text(type, value),
                                       enumerator_list(type)));
      }
      return;
    }
    case KindClass::kArray:
      check_values(*type.element, bytes, type.count);
      return;
    case KindClass::kOptional: {
      const std::byte* value = optional_value(type, bytes);
      if (value != nullptr) {
        check_value(*type.element, value);
      }
      return;
    }
    case KindClass::kStruct:
    case KindClass::kTuple:
      for (const MemberInfo& member : type.members) {
        check_value(*member.type, bytes + member.value);
      }
      return;
    default:
      return;
  }
}

void check_values(const TypeInfo& type, const std::byte* bytes, std::size_t count) {
  if (!type.checked) {
    return;
  }
  if (type.kind == TypeKind::kBool) {
    check_bools(bytes, count);
    return;
  }
  for (std::size_t i = 0; i < count; ++i) {
    check_value(type, bytes + i * type.size);
  }
}

bool encode_integer(TypeKind kind, std::int64_t value, std::byte* out) noexcept {
  return store_integer(kind, value, out);
}

bool encode_integer(TypeKind kind, std::uint64_t value, std::byte* out) noexcept {
  return store_integer(kind, value, out);
}

bool encode_float(TypeKind kind, double value, std::byte* out) noexcept {
  if (kind == TypeKind::kFloat64) {
    return store_number<double>(value, out);
  }
  if (kind != TypeKind::kFloat32) {
    return false;
  }
  constexpr double kMax = std::numeric_limits<float>::max();
  // Round to nearest takes doubles below max + half an ulp (2^128 - 2^103) to max, and that one
  // and all above to inf. Converting a double beyond max is undefined behaviour in C++, though,
  // so those that round to max are clamped first.
  constexpr double kRoundsToInfinity = 0x1.ffffffp127;
  if (std::isfinite(value) && std::abs(value) > kMax) {
    if (std::abs(value) >= kRoundsToInfinity) {
      return false;
    }
    value = std::copysign(kMax, value);
  }
  return store_number<float>(value, out);
}

std::uint64_t decode_integer(TypeKind kind, const std::byte* bytes) noexcept {
  const auto widened = visit_scalar(kind, [&]<class Wire>(std::type_identity<Wire> /*wire*/) {
    Wire wire{};
    std::memcpy(&wire, bytes, sizeof wire);
    if constexpr (std::is_integral_v<Wire>) {
      // Converting to the 64-bit type of the same signedness sign-extends; then to unsigned.
      using Wide = std::conditional_t<std::is_signed_v<Wire>, std::int64_t, std::uint64_t>;
      return static_cast<std::uint64_t>(static_cast<Wide>(wire));
    } else {
      return std::uint64_t{0};
    }
  });
  return widened.value_or(0);
}

std::string enumerator_value_text(const TypeInfo& enum_type, std::uint64_t value) {
  const bool is_signed = enum_type.element != nullptr && is_signed_integer(enum_type.element->kind);
  return is_signed ? fmt::format("{}", static_cast<std::int64_t>(value)) : fmt::format("{}", value);
}

std::string enumerator_list(const TypeInfo& enum_type) {
  std::string text;
  for (const MemberInfo& member : enum_type.members) {
    text += fmt::format("{}{} = {}", text.empty() ? "" : ", ", member.name,
                        enumerator_value_text(enum_type, member.value));
  }
  return text;
}

const MemberInfo* find_enumerator(const TypeInfo& enum_type, std::uint64_t value) noexcept {
  for (const MemberInfo& member : enum_type.members) {
    if (member.value == value) {
      return &member;
    }
  }
  return nullptr;
}

const std::byte* optional_value(const TypeInfo& type, const std::byte* bytes) {
  const auto flag = std::to_integer<unsigned>(bytes[0]);
  if (flag > 1) {
    throw InvalidValue(
        fmt::format("the has-value flag of an {} holds {}; it is 0 or 1", type_name(type), flag));
  }
  return flag == 0 ? nullptr : bytes + optional_value_offset(type.element->align);
}

std::byte* write_optional(const TypeInfo& type, std::byte* out, bool has_value) noexcept {
  std::memset(out, 0, type.size);
  if (!has_value) {
    return nullptr;
  }
  out[0] = std::byte{1};
  return out + optional_value_offset(type.element->align);
}

}  // namespace shmrpc
