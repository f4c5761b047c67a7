#pragma once
/// Python objects to and from the bytes of fixed-size wire values: scalars, complex numbers,
/// enums, std::arrays, structs (records), optionals and tuples. Both directions follow the
/// metadata's description of the type, so no C++ header is needed.

#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>

#include "numpy_types.hpp"
#include "shmrpc/types.hpp"
#include "shmrpc/value_codec.hpp"

namespace shmrpc::python {

/// Writes `value` as a value of `type` into `out` (type.size bytes; padding zeroed). `where`
/// names the argument in errors. Throws std::invalid_argument (wrong Python type, missing or
/// extra field: TypeError), std::out_of_range (an integer that does not fit: OverflowError),
/// std::domain_error (not an enumerator: ValueError), or py::error_already_set.
void encode_value(const TypeInfo& type, pybind11::handle value, std::byte* out,
                  const std::string& where, TypeMapper& types);

/// The Python object for the value of `type` at `bytes`: bool, int, float, complex, an IntEnum
/// member, a numpy array (copied) for a std::array, a record for a struct, None or the value for
/// an optional, a tuple. The bytes are a valid value: check_value (value_codec.hpp) passed them.
pybind11::object decode_value(const TypeInfo& type, const std::byte* bytes, TypeMapper& types);

}  // namespace shmrpc::python
