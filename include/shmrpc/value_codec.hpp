#pragma once
/// Checking and converting values of wire types at run time, driven by their TypeInfo. The one
/// place that knows which bytes are valid values (a bool is 0 or 1, an enum holds a declared
/// enumerator, an optional's flag is 0 or 1), which integers fit which kind, and where the value
/// of an optional lies. The server checks every argument with it, the C++ client its results and
/// the integers it writes, the Python binding every value it converts.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "shmrpc/type_kinds.hpp"
#include "shmrpc/types.hpp"

namespace shmrpc {

/// Bytes that are not a valid value of their type. The server fails such a request with
/// Status::kBadRequest; a client that reads such a result throws ProtocolError.
class InvalidValue : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// True when some bytes are no valid value of `type`: it holds a bool, an enum or an optional.
bool has_invalid_values(const TypeInfo& type) noexcept;

/// Throws InvalidValue, naming the type and what it allows, unless `bytes` hold a valid value of
/// `type` (a slot type: fixed or composite). Any thread; reads type.size bytes.
void check_value(const TypeInfo& type, const std::byte* bytes);

/// Checks `count` consecutive values of fixed type `type`.
void check_values(const TypeInfo& type, const std::byte* bytes, std::size_t count);

/// Writes `value` at `out` as a value of `kind`, an integer or floating-point kind (an integer
/// converts to the nearest float). Returns false, writing nothing, when the kind is neither or
/// the integer does not fit it.
bool encode_integer(TypeKind kind, std::int64_t value, std::byte* out) noexcept;
bool encode_integer(TypeKind kind, std::uint64_t value, std::byte* out) noexcept;

/// Writes `value` at `out` as a value of floating-point kind `kind`, rounded to nearest. Returns
/// false, writing nothing, for another kind or a finite value that would round to infinity
/// (kFloat32Range says which values fit float32).
bool encode_float(TypeKind kind, double value, std::byte* out) noexcept;

/// The values encode_float takes for float32, as error messages say it.
inline constexpr std::string_view kFloat32Range =
    "finite values from -3.4028234663852886e+38 to 3.4028234663852886e+38; inf and nan are "
    "allowed";

/// The integer of kind `kind` at `bytes` as 64-bit two's complement (sign-extended), the form of
/// an enumerator's value. `kind` is an integer kind.
std::uint64_t decode_integer(TypeKind kind, const std::byte* bytes) noexcept;

/// An enumerator's value as text: signed when the enum's underlying type is.
std::string enumerator_value_text(const TypeInfo& enum_type, std::uint64_t value);

/// "A = 0, B = 1": the enumerators of `enum_type`.
std::string enumerator_list(const TypeInfo& enum_type);

/// The enumerator of `enum_type` with `value`, or nullptr.
const MemberInfo* find_enumerator(const TypeInfo& enum_type, std::uint64_t value) noexcept;

/// Where the value of optional type `type` lies in its wire form at `bytes`, or nullptr when it
/// holds none. Throws InvalidValue when its has-value flag is neither 0 nor 1.
const std::byte* optional_value(const TypeInfo& type, const std::byte* bytes);

/// Writes the wire form of an optional of type `type` at `out` (type.size bytes, padding zeroed)
/// with or without a value; returns where the caller writes the value, or nullptr.
std::byte* write_optional(const TypeInfo& type, std::byte* out, bool has_value) noexcept;

}  // namespace shmrpc
