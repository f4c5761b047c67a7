#pragma once
/// Python values as call arguments. Which CallScope primitive a value goes to depends on its
/// Python type (bool, int, float, str, bytes, numpy scalar, numpy array, sequence) and, for
/// structs, enums, optionals and tuples, on the parameter's type (values.hpp); the primitive
/// then checks it against the parameter's wire type, so the C++ and Python clients accept the
/// same things.

#include <pybind11/pybind11.h>

#include <cstddef>
#include <vector>

#include "numpy_types.hpp"
#include "shmrpc/detail/call_scope.hpp"

namespace shmrpc::python {

/// Writes `value` as argument `index` of `call`. Throws std::invalid_argument (a value of the
/// wrong type: the caller raises TypeError), std::out_of_range (an integer that does not fit:
/// OverflowError), std::length_error (larger than the heap), or py::error_already_set (from the
/// shmrpc._convert helpers for array-likes). Arrays made on the way are appended to `temporaries`,
/// which must outlive the call.
void put_argument(detail::CallScope& call, std::size_t index, pybind11::handle value,
                  std::vector<pybind11::object>& temporaries, TypeMapper& types);

}  // namespace shmrpc::python
