#include "values.hpp"

#include <fmt/format.h>
#include <pybind11/numpy.h>

#include <climits>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "converters.hpp"

namespace py = pybind11;

namespace shmrpc::python {
namespace {

template <class T>
void store(std::byte* out, T value) {
  std::memcpy(out, &value, sizeof value);
}

template <class T>
T load(const std::byte* bytes) {
  T value;
  std::memcpy(&value, bytes, sizeof value);
  return value;
}

std::string python_type(py::handle value) {
  return Py_TYPE(value.ptr())->tp_name;
}

[[noreturn]] void wrong_type(const TypeInfo& type, py::handle value, const std::string& where,
                             const std::string& wanted) {
  throw std::invalid_argument(fmt::format("shmrpc: {} is {}, which takes {}; got a {}", where,
                                          type_name(type), wanted, python_type(value)));
}

bool is_numpy(py::handle value, const char* abstract_type) {
  return py::isinstance(value, py::module_::import("numpy").attr(abstract_type));
}

void encode_int(const TypeInfo& type, py::handle value, std::byte* out, const std::string& where) {
  if (PyBool_Check(value.ptr()) || !(PyLong_Check(value.ptr()) || is_numpy(value, "integer"))) {
    wrong_type(type, value, where, "an int");
  }
  const auto number = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
  if (!number) {
    throw py::error_already_set();
  }
  int overflow = 0;
  const long long small = PyLong_AsLongLongAndOverflow(number.ptr(), &overflow);
  if (small == -1 && PyErr_Occurred() != nullptr) {
    throw py::error_already_set();
  }
  bool stored = false;
  if (overflow == 0) {
    stored = encode_integer(type.kind, static_cast<std::int64_t>(small), out);
  } else if (overflow > 0) {
    const unsigned long long large = PyLong_AsUnsignedLongLong(number.ptr());
    if (large == ULLONG_MAX && PyErr_Occurred() != nullptr) {
      PyErr_Clear();
    } else {
      stored = encode_integer(type.kind, static_cast<std::uint64_t>(large), out);
    }
  }
  if (!stored) {
    throw std::out_of_range(fmt::format("shmrpc: {}: {} does not fit {}", where,
                                        std::string(py::str(value)), type_name(type)));
  }
}

// A float, or a part of the complex number `type`; a finite value that would round to
// infinity in float32 is refused rather than arriving as inf.
void encode_float_part(TypeKind kind, double value, std::byte* out, const std::string& where,
                       const TypeInfo& type) {
  if (!encode_float(kind, value, out)) {
    throw std::out_of_range(fmt::format("shmrpc: {}: {} does not fit {} ({})", where,
                                        std::string(py::repr(py::float_(value))), type_name(type),
                                        kFloat32Range));
  }
}

void encode_scalar(const TypeInfo& type, py::handle value, std::byte* out,
                   const std::string& where) {
  PyObject* object = value.ptr();
  switch (type.kind) {
    case TypeKind::kBool:
      if (!PyBool_Check(object) && !is_numpy(value, "bool_")) {
        wrong_type(type, value, where, "a bool");
      }
      store(out, PyObject_IsTrue(object) == 1);
      return;
    case TypeKind::kFloat32:
    case TypeKind::kFloat64: {
      if (PyBool_Check(object) || PyComplex_Check(object) ||
          !(PyFloat_Check(object) || PyLong_Check(object) || is_numpy(value, "integer") ||
            is_numpy(value, "floating"))) {
        wrong_type(type, value, where, "a number");
      }
      const double number = PyFloat_AsDouble(object);
      if (number == -1.0 && PyErr_Occurred() != nullptr) {
        throw py::error_already_set();
      }
      encode_float_part(type.kind, number, out, where, type);
      return;
    }
    case TypeKind::kComplex64:
    case TypeKind::kComplex128: {
      if (PyBool_Check(object) || !(PyComplex_Check(object) || PyFloat_Check(object) ||
                                    PyLong_Check(object) || is_numpy(value, "number"))) {
        wrong_type(type, value, where, "a complex number");
      }
      const Py_complex number = PyComplex_AsCComplex(object);
      if (number.real == -1.0 && PyErr_Occurred() != nullptr) {
        throw py::error_already_set();
      }
      // The parts of a complex number are floats of half its size, real part first.
      const TypeKind part =
          type.kind == TypeKind::kComplex64 ? TypeKind::kFloat32 : TypeKind::kFloat64;
      encode_float_part(part, number.real, out, where, type);
      encode_float_part(part, number.imag, out + type.size / 2, where, type);
      return;
    }
    default:
      encode_int(type, value, out, where);
  }
}

void encode_enum(const TypeInfo& type, py::handle value, std::byte* out, const std::string& where,
                 TypeMapper& types) {
  const py::object cls = types.python_class(type);
  if (py::isinstance<py::str>(value)) {
    // A member's name is as good as the member.
    const py::dict members = cls.attr("__members__");
    if (!members.contains(value)) {
      throw std::domain_error(fmt::format("shmrpc: {}: {} is not an enumerator of {} ({})", where,
                                          std::string(py::str(value)), type.name,
                                          enumerator_list(type)));
    }
    encode_value(type, members[value], out, where, types);
    return;
  }
  if (PyBool_Check(value.ptr()) || !(PyLong_Check(value.ptr()) || is_numpy(value, "integer"))) {
    wrong_type(type, value, where, fmt::format("a member of {}, its name or its value", type.name));
  }
  encode_int(*type.element, value, out, where);
  if (find_enumerator(type, decode_integer(type.element->kind, out)) != nullptr) {
    return;
  }
  throw std::domain_error(fmt::format("shmrpc: {}: {} is not an enumerator of {} ({})", where,
                                      std::string(py::str(value)), type.name,
                                      enumerator_list(type)));
}

void encode_array(const TypeInfo& type, py::handle value, std::byte* out, const std::string& where,
                  TypeMapper& types) {
  const NumpyShape shape = numpy_shape(type);
  if (is_plain_number(*shape.scalar)) {
    // Numbers go through numpy, with the checks of argument_array (no lossy conversions).
    const py::array array = argument_array_converter()(
        value, types.dtype(*shape.scalar), py::tuple(py::cast(shape.dims)), false, where);
    std::memcpy(out, array.data(), type.size);
    return;
  }
  if (py::isinstance<py::array>(value) &&
      py::reinterpret_borrow<py::array>(value).dtype().equal(types.dtype(type))) {
    std::memcpy(out, py::reinterpret_borrow<py::array>(value).data(), type.size);
    return;
  }
  if (!py::isinstance<py::sequence>(value) || py::isinstance<py::str>(value)) {
    wrong_type(type, value, where, fmt::format("a sequence of {}", type.count));
  }
  const auto items = py::reinterpret_borrow<py::sequence>(value);
  if (items.size() != type.count) {
    throw std::invalid_argument(fmt::format("shmrpc: {} is {}, which takes {} elements; got {}",
                                            where, type_name(type), type.count, items.size()));
  }
  for (std::size_t i = 0; i < type.count; ++i) {
    encode_value(*type.element, items[i], out + i * type.element->size,
                 fmt::format("{}[{}]", where, i), types);
  }
}

std::string field_list(const TypeInfo& type) {
  std::string text;
  for (const MemberInfo& field : type.members) {
    text += (text.empty() ? "" : ", ") + field.name;
  }
  return text;
}

// The names a record-like object says it has, when it says: dict keys, dataclass fields,
// namedtuple fields, numpy structured scalar fields. Empty for other objects.
std::vector<std::string> declared_names(py::handle value) {
  std::vector<std::string> names;
  if (py::isinstance<py::dict>(value)) {
    for (const auto& item : py::reinterpret_borrow<py::dict>(value)) {
      names.push_back(py::str(item.first));
    }
  } else if (py::hasattr(value, "__dataclass_fields__")) {
    for (const auto& item : py::dict(value.attr("__dataclass_fields__"))) {
      names.push_back(py::str(item.first));
    }
  } else if (py::isinstance<py::tuple>(value) && py::hasattr(value, "_fields")) {
    for (const auto& name : value.attr("_fields")) {
      names.push_back(py::str(name));
    }
  } else if (is_numpy(value, "void") && !value.attr("dtype").attr("names").is_none()) {
    for (const auto& name : value.attr("dtype").attr("names")) {
      names.push_back(py::str(name));
    }
  }
  return names;
}

void encode_struct(const TypeInfo& type, py::handle value, std::byte* out, const std::string& where,
                   TypeMapper& types) {
  if (is_numpy(value, "void") && py::dtype(value.attr("dtype")).equal(types.dtype(type))) {
    const py::array array = py::module_::import("numpy").attr("asarray")(value);
    std::memcpy(out, array.data(), type.size);
    return;
  }
  const bool is_dict = py::isinstance<py::dict>(value);
  const std::vector<std::string> names = declared_names(value);
  if (!is_dict && names.empty() && !py::isinstance(value, types.python_class(type))) {
    wrong_type(type, value, where,
               fmt::format("a {} record, a dict or an object with the fields {}", type.name,
                           field_list(type)));
  }
  for (const std::string& name : names) {
    const bool known = std::any_of(type.members.begin(), type.members.end(),
                                   [&](const MemberInfo& field) { return field.name == name; });
    if (!known) {
      throw std::invalid_argument(
          fmt::format("shmrpc: {} is {}, which has no field '{}' (its fields: {})", where,
                      type.name, name, field_list(type)));
    }
  }
  std::memset(out, 0, type.size);
  for (const MemberInfo& field : type.members) {
    py::object item;
    if (is_dict) {
      const auto dict = py::reinterpret_borrow<py::dict>(value);
      if (dict.contains(field.name)) {
        item = dict[py::str(field.name)];
      }
    } else if (is_numpy(value, "void")) {
      item = value[py::str(field.name)];
    } else if (py::hasattr(value, field.name.c_str())) {
      item = value.attr(field.name.c_str());
    }
    if (!item) {
      throw std::invalid_argument(
          fmt::format("shmrpc: {} is {}, but field '{}' is missing (its fields: {})", where,
                      type.name, field.name, field_list(type)));
    }
    encode_value(*field.type, item, out + field.value, fmt::format("{}.{}", where, field.name),
                 types);
  }
}

void encode_tuple(const TypeInfo& type, py::handle value, std::byte* out, const std::string& where,
                  TypeMapper& types) {
  if (!py::isinstance<py::sequence>(value) || py::isinstance<py::str>(value)) {
    wrong_type(type, value, where, fmt::format("a tuple of {}", type.members.size()));
  }
  const auto items = py::reinterpret_borrow<py::sequence>(value);
  if (items.size() != type.members.size()) {
    throw std::invalid_argument(fmt::format("shmrpc: {} is {}, which takes {} elements; got {}",
                                            where, type_name(type), type.members.size(),
                                            items.size()));
  }
  std::memset(out, 0, type.size);
  for (std::size_t i = 0; i < type.members.size(); ++i) {
    encode_value(*type.members[i].type, items[i], out + type.members[i].value,
                 fmt::format("{}[{}]", where, i), types);
  }
}

py::object decode_scalar(TypeKind kind, const std::byte* bytes) {
  const bool complex = kind_traits(kind).kind_class == KindClass::kComplex;
  return *visit_scalar(kind, [&]<class T>(std::type_identity<T> /*type*/) -> py::object {
    if constexpr (std::is_same_v<T, bool>) {
      return py::bool_(bytes[0] != std::byte{0});
    } else if constexpr (std::is_integral_v<T>) {
      return py::int_(load<T>(bytes));
    } else if (complex) {  // two parts, real first
      return py::reinterpret_steal<py::object>(
          PyComplex_FromDoubles(load<T>(bytes), load<T>(bytes + sizeof(T))));
    } else {
      return py::float_(load<T>(bytes));
    }
  });
}

}  // namespace

void encode_value(const TypeInfo& type, py::handle value, std::byte* out, const std::string& where,
                  TypeMapper& types) {
  switch (type.kind) {
    case TypeKind::kEnum:
      encode_enum(type, value, out, where, types);
      return;
    case TypeKind::kArray:
      encode_array(type, value, out, where, types);
      return;
    case TypeKind::kStruct:
      encode_struct(type, value, out, where, types);
      return;
    case TypeKind::kTuple:
      encode_tuple(type, value, out, where, types);
      return;
    case TypeKind::kOptional: {
      std::byte* slot = write_optional(type, out, !value.is_none());
      if (slot != nullptr) {
        encode_value(*type.element, value, slot, where, types);
      }
      return;
    }
    default:
      if (!is_scalar(type.kind)) {
        throw std::logic_error(fmt::format("shmrpc: {} is not a fixed-size type", type_name(type)));
      }
      encode_scalar(type, value, out, where);
  }
}

py::object decode_value(const TypeInfo& type, const std::byte* bytes, TypeMapper& types) {
  switch (type.kind) {
    case TypeKind::kEnum:
      return types.python_class(type)(decode_value(*type.element, bytes, types));
    case TypeKind::kArray: {
      const NumpyShape shape = numpy_shape(type);
      // No base: pybind11 copies the bytes, which the next call overwrites.
      return py::array(types.dtype(*shape.scalar), shape.dims, std::vector<py::ssize_t>{}, bytes);
    }
    case TypeKind::kStruct: {
      py::dict fields;
      for (const MemberInfo& field : type.members) {
        fields[py::str(field.name)] = decode_value(*field.type, bytes + field.value, types);
      }
      return types.python_class(type)(**fields);
    }
    case TypeKind::kOptional: {
      const std::byte* value = optional_value(type, bytes);
      return value == nullptr ? py::none() : decode_value(*type.element, value, types);
    }
    case TypeKind::kTuple: {
      py::tuple items(type.members.size());
      for (std::size_t i = 0; i < type.members.size(); ++i) {
        items[i] = decode_value(*type.members[i].type, bytes + type.members[i].value, types);
      }
      return items;
    }
    default:
      if (!is_scalar(type.kind)) {
        throw std::logic_error(fmt::format("shmrpc: {} is not a fixed-size type", type_name(type)));
      }
      return decode_scalar(type.kind, bytes);
  }
}

}  // namespace shmrpc::python
