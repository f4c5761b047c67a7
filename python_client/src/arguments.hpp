#pragma once
/// Python values as call arguments. Which DynamicCall primitive a value goes to depends on its
/// Python type (bool, int, float, str, bytes, numpy scalar, numpy array, sequence) and, for
/// structs, enums, optionals and tuples, on the parameter's type (values.hpp); the primitive
/// then checks it against the parameter's wire type, so the C++ and Python clients accept the
/// same things.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "numpy_types.hpp"
#include "shmrpc/connection.hpp"
#include "shmrpc/dynamic_call.hpp"

namespace shmrpc::python {

/// What the arguments of one call need besides the call, from the first argument put until the
/// call is over (the caller's thread, with the GIL).
struct ArgumentContext {
  const Connection& connection;  ///< the call's connection: where its heap lies
  TypeMapper& types;
  std::vector<pybind11::object> temporaries;  ///< arrays made for the call
  /// (original, copy) for views into the heap that were misaligned for a span the function
  /// writes to: the copy went to the call instead, and its contents go back after it.
  std::vector<std::pair<pybind11::array, pybind11::array>> copy_backs;

  /// Copies what the function wrote into each copy back into its original; after a call that
  /// succeeded.
  void copy_back();
};

/// Writes `value` as argument `index` of `call`. Throws std::invalid_argument (a value of the
/// wrong type: the caller raises TypeError), std::out_of_range (an integer or float that does not
/// fit: OverflowError), std::length_error (larger than the heap), or py::error_already_set (from
/// the shmrpc._convert helpers for array-likes; UnicodeDecodeError / UnicodeEncodeError for text
/// that is not UTF-8, naming the argument). Nothing is written to the call for a value that fails
/// its checks.
void put_argument(DynamicCall& call, std::size_t index, pybind11::handle value,
                  ArgumentContext& context);

/// Writes every argument of `call` from `args`, one per parameter; a wrong type raises TypeError,
/// the rest as put_argument.
void put_arguments(DynamicCall& call, const pybind11::tuple& args, ArgumentContext& context);

}  // namespace shmrpc::python
