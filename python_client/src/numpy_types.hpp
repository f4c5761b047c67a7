#pragma once
/// How wire types look from Python: the numpy dtype and shape of a fixed-size type, and the
/// description of a type that the shmrpc package turns into annotations and FunctionInfo.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // every file that converts STL types must see the same casters

#include <vector>

#include "shmrpc/types.hpp"

namespace shmrpc::python {

/// A fixed-size wire type as numpy sees it: a scalar has no dimensions, and each std::array
/// level adds one (std::array<std::array<float, 2>, 3> is float32 with dims {3, 2}).
struct NumpyShape {
  const TypeInfo* scalar = nullptr;  ///< bool, integer or floating-point type
  std::vector<pybind11::ssize_t> dims;
};

/// The numpy view of fixed-size type `type` (a scalar, or std::arrays of them).
NumpyShape numpy_shape(const TypeInfo& type);

/// The numpy dtype of scalar wire type `scalar` (native byte order).
pybind11::dtype numpy_dtype(const TypeInfo& scalar);

/// A dict describing `type` for the Python package: name (the C++ display name), category
/// ("void", "bool", "int", "float", "str", "array", "span" or "vector"), dtype and dims (for the
/// array-like categories: of the whole value for "array", of one element for "span"/"vector";
/// else None), mutable (span<T>).
pybind11::dict describe_type(const TypeInfo& type);

}  // namespace shmrpc::python
