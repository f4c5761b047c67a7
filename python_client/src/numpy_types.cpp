#include "numpy_types.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace shmrpc::python {

NumpyShape numpy_shape(const TypeInfo& type) {
  NumpyShape shape;
  const TypeInfo* level = &type;
  while (level->kind == TypeKind::kArray) {
    shape.dims.push_back(static_cast<py::ssize_t>(level->count));
    level = level->element;
  }
  if (!is_scalar(level->kind)) {
    throw std::logic_error("shmrpc: " + type_name(type) + " has no numpy dtype");
  }
  shape.scalar = level;
  return shape;
}

py::dtype numpy_dtype(const TypeInfo& scalar) {
  switch (scalar.kind) {
    case TypeKind::kBool:
      return py::dtype::of<bool>();
    case TypeKind::kInt8:
      return py::dtype::of<std::int8_t>();
    case TypeKind::kInt16:
      return py::dtype::of<std::int16_t>();
    case TypeKind::kInt32:
      return py::dtype::of<std::int32_t>();
    case TypeKind::kInt64:
      return py::dtype::of<std::int64_t>();
    case TypeKind::kUInt8:
      return py::dtype::of<std::uint8_t>();
    case TypeKind::kUInt16:
      return py::dtype::of<std::uint16_t>();
    case TypeKind::kUInt32:
      return py::dtype::of<std::uint32_t>();
    case TypeKind::kUInt64:
      return py::dtype::of<std::uint64_t>();
    case TypeKind::kFloat32:
      return py::dtype::of<float>();
    case TypeKind::kFloat64:
      return py::dtype::of<double>();
    default:
      throw std::logic_error("shmrpc: " + type_name(scalar) + " is not a scalar type");
  }
}

namespace {

const char* category(TypeKind kind) {
  switch (kind) {
    case TypeKind::kVoid:
      return "void";
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kInt8:
    case TypeKind::kInt16:
    case TypeKind::kInt32:
    case TypeKind::kInt64:
    case TypeKind::kUInt8:
    case TypeKind::kUInt16:
    case TypeKind::kUInt32:
    case TypeKind::kUInt64:
      return "int";
    case TypeKind::kFloat32:
    case TypeKind::kFloat64:
      return "float";
    case TypeKind::kString:
      return "str";
    case TypeKind::kArray:
      return "array";
    case TypeKind::kSpan:
      return "span";
    case TypeKind::kVector:
      return "vector";
  }
  return "unknown";
}

}  // namespace

py::dict describe_type(const TypeInfo& type) {
  py::dict description;
  description["name"] = type_name(type);
  description["category"] = category(type.kind);
  description["mutable"] = type.is_mutable;
  description["dtype"] = py::none();
  description["dims"] = py::none();
  const TypeInfo* fixed = nullptr;
  if (type.kind == TypeKind::kArray) {
    fixed = &type;
  } else if (type.kind == TypeKind::kSpan || type.kind == TypeKind::kVector) {
    fixed = type.element;
  }
  if (fixed != nullptr) {
    const NumpyShape shape = numpy_shape(*fixed);
    description["dtype"] = numpy_dtype(*shape.scalar);
    description["dims"] = py::tuple(py::cast(shape.dims));
  }
  return description;
}

}  // namespace shmrpc::python
