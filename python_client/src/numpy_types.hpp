#pragma once
/// How wire types look from Python: the numpy dtype and shape of a fixed-size type, the record
/// and enum classes of structs and enums, and the description of a type that the shmrpc package
/// turns into annotations, FunctionInfo and those classes.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // every file that converts STL types must see the same casters

#include <string>
#include <unordered_map>
#include <vector>

#include "shmrpc/types.hpp"

namespace shmrpc::python {

/// A fixed-size wire type as numpy sees it: the element (a scalar, enum or struct) and one
/// dimension per std::array level (std::array<std::array<float, 2>, 3> is float32 with dims
/// {3, 2}).
struct NumpyShape {
  const TypeInfo* scalar = nullptr;  ///< the innermost non-array type
  std::vector<pybind11::ssize_t> dims;
};

/// The numpy view of fixed-size type `type` (std::arrays peeled off).
NumpyShape numpy_shape(const TypeInfo& type);

/// True for bool, integers, floating point and complex: the types numpy converts sequences to
/// with the checks of shmrpc._convert.
bool is_plain_number(const TypeInfo& type);

/// The Python side of one connection's types: numpy dtypes (built once per type) and the record
/// and enum classes that the shmrpc package made for its structs and enums.
class TypeMapper {
 public:
  /// The numpy dtype of fixed-size type `type`: a scalar, an enum's underlying integer, a
  /// subarray for std::array, a structured dtype with the metadata's names, offsets and size for
  /// a struct.
  const pybind11::dtype& dtype(const TypeInfo& type);

  /// The record class of struct type or the IntEnum class of enum type `type`.
  pybind11::object python_class(const TypeInfo& type) const;

  /// Sets the classes, by C++ type name.
  void set_classes(pybind11::dict classes) { classes_ = std::move(classes); }

 private:
  std::unordered_map<const TypeInfo*, pybind11::dtype> dtypes_;
  pybind11::dict classes_;
};

/// A dict describing `type` for the Python package: name (the C++ display name), category
/// ("void", "bool", "int", "float", "complex", "str", "array", "span", "vector", "struct",
/// "enum", "optional" or "tuple"), dtype and dims (for fixed-size types and span/vector elements:
/// of the whole value for fixed types, of one element for "span"/"vector"; else None), mutable
/// (span<T>), type (the C++ name of the struct or enum a value, array or element is, else None),
/// element (description of an optional's value), elements (of a tuple's).
pybind11::dict describe_type(const TypeInfo& type, TypeMapper& types);

/// Descriptions of the structs and enums reachable from `roots`, each once, members before the
/// types that use them: dicts of kind ("struct" or "enum"), name, size, align, dtype, and fields
/// (name, offset, description) or members (name, value).
pybind11::list describe_named_types(const std::vector<const TypeInfo*>& roots, TypeMapper& types);

}  // namespace shmrpc::python
