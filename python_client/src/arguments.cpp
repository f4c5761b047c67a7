#include "arguments.hpp"

#include <fmt/format.h>
#include <pybind11/numpy.h>

#include <array>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <string>

#include "converters.hpp"
#include "nested_arguments.hpp"
#include "numpy_types.hpp"
#include "values.hpp"

namespace py = pybind11;

namespace shmrpc::python {
namespace {

const TypeInfo& parameter(const DynamicCall& call, std::size_t index) {
  return *call.function().arguments[index].type;
}

// "argument 1 ('a') of add(a: int64, b: int64) -> int64", the subject of argument errors.
std::string describe_argument(const DynamicCall& call, std::size_t index) {
  const FunctionSchema& function = call.function();
  return fmt::format("argument {} ('{}') of {}", index + 1, function.arguments[index].name,
                     function.signature);
}

[[noreturn]] void unsupported(const DynamicCall& call, std::size_t index, py::handle value,
                              std::string_view what) {
  throw std::invalid_argument(fmt::format(
      "shmrpc: {} is {}, but {} of Python type '{}' was given", describe_argument(call, index),
      type_name(parameter(call, index)), what, Py_TYPE(value.ptr())->tp_name));
}

// A Python int of any size: int64 or uint64 when it fits one, else only a float parameter takes
// it (rounded, as Python's float() would).
void put_integer(DynamicCall& call, std::size_t index, py::handle value) {
  int overflow = 0;
  const long long small = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (small == -1 && PyErr_Occurred() != nullptr) {
    throw py::error_already_set();
  }
  if (overflow == 0) {
    call.put_int(index, small);
    return;
  }
  if (overflow > 0) {
    const unsigned long long large = PyLong_AsUnsignedLongLong(value.ptr());
    if (large != ULLONG_MAX || PyErr_Occurred() == nullptr) {
      call.put_uint(index, large);
      return;
    }
    PyErr_Clear();
  }
  const TypeKind kind = parameter(call, index).kind;
  if (is_floating(kind)) {
    const double rounded = PyLong_AsDouble(value.ptr());
    if (rounded == -1.0 && PyErr_Occurred() != nullptr) {
      throw py::error_already_set();
    }
    call.put_float(index, rounded);
    return;
  }
  if (!is_integer(kind)) {
    unsupported(call, index, value, "an integer");
  }
  throw std::out_of_range(fmt::format("shmrpc: {}: {} does not fit {}",
                                      describe_argument(call, index), std::string(py::str(value)),
                                      type_name(parameter(call, index))));
}

// numpy.bool_, numpy integers and numpy floating-point scalars; false for other objects.
bool put_numpy_scalar(DynamicCall& call, std::size_t index, py::handle value) {
  const py::module_ numpy = py::module_::import("numpy");
  if (!py::isinstance(value, numpy.attr("generic"))) {
    return false;
  }
  const py::dtype dtype = value.attr("dtype");
  switch (dtype.kind()) {
    case 'b':
      call.put_bool(index, PyObject_IsTrue(value.ptr()) == 1);
      return true;
    case 'i':
    case 'u':
      put_integer(call, index, py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr())));
      return true;
    case 'f': {
      const double number = PyFloat_AsDouble(value.ptr());
      if (number == -1.0 && PyErr_Occurred() != nullptr) {
        throw py::error_already_set();
      }
      call.put_float(index, number);
      return true;
    }
    default:
      unsupported(call, index, value, "a numpy scalar");
  }
}

// True when `value` is a numpy array that the parameter takes as it is: the exact dtype, the
// shape of a span (n, dims...) or of a fixed array (dims...), C-contiguous, writable if the
// function writes to it.
bool usable_as_is(py::handle value, const py::dtype& dtype, const NumpyShape& shape, bool span,
                  bool writes) {
  if (!py::isinstance<py::array>(value)) {
    return false;
  }
  const auto array = py::reinterpret_borrow<py::array>(value);
  const auto rank = static_cast<py::ssize_t>(shape.dims.size()) + (span ? 1 : 0);
  if (array.ndim() != rank || !array.dtype().equal(dtype)) {
    return false;
  }
  for (std::size_t i = 0; i < shape.dims.size(); ++i) {
    if (array.shape(rank - static_cast<py::ssize_t>(shape.dims.size() - i)) != shape.dims[i]) {
      return false;
    }
  }
  return (array.flags() & py::array::c_style) != 0 && (!writes || array.writeable());
}

// True when `array` lies in this client's shared memory at an offset that is not a multiple of
// `align`.
bool misaligned_in_shared_memory(const Connection& connection, const py::array& array,
                                 std::size_t align) {
  const auto bytes = static_cast<std::size_t>(array.nbytes());
  if (bytes == 0) {
    return false;
  }
  const auto found = connection.locate(array.data(), bytes);
  return found && found->offset % align != 0;
}

// An argument that is not a span of plain numbers and not usable as it is: a sequence of
// elements encoded one by one (records, dicts, enum members, complex numbers), or a structured
// array with the same field names in another layout.
py::array convert_elements(const TypeInfo& element, py::handle value, const py::dtype& dtype,
                           const std::string& where, TypeMapper& types) {
  if (py::isinstance<py::array>(value)) {
    return structured_array_converter()(value, dtype, where);
  }
  if (!py::isinstance<py::sequence>(value) || py::isinstance<py::str>(value)) {
    throw std::invalid_argument(
        fmt::format("shmrpc: {} needs a numpy array of dtype {} or a sequence of {}; got a {}",
                    where, std::string(py::str(py::handle(dtype))), type_name(element),
                    Py_TYPE(value.ptr())->tp_name));
  }
  const auto items = py::reinterpret_borrow<py::sequence>(value);
  py::array array(dtype, std::vector<py::ssize_t>{static_cast<py::ssize_t>(items.size())});
  auto* out = static_cast<std::byte*>(array.mutable_data());
  for (std::size_t i = 0; i < items.size(); ++i) {
    encode_value(element, items[i], out + i * element.size, fmt::format("{}[{}]", where, i), types);
  }
  return array;
}

// A span<T>, span<const T> or std::array parameter. Arrays that fit are passed as they are (zero
// copy when they lie in the channel heap); anything else goes through argument_array (numbers)
// or convert_elements (records, enums, complex numbers), which convert what they can and explain
// what they cannot.
void put_array_like(DynamicCall& call, std::size_t index, py::handle value,
                    ArgumentContext& context) {
  TypeMapper& types = context.types;
  const TypeInfo& wanted = parameter(call, index);
  // A vector of fixed elements is passed like a span<const T>.
  const bool span = wanted.kind == TypeKind::kSpan || wanted.kind == TypeKind::kVector;
  const NumpyShape shape = numpy_shape(span ? *wanted.element : wanted);
  const py::dtype& dtype = types.dtype(*shape.scalar);
  // Not a default-constructed py::array and then an assignment: that makes an empty numpy array,
  // which costs more than all the rest of passing an array that is usable as it is.
  const auto converted = [&]() -> py::array {
    if (span && !is_plain_number(*shape.scalar) && !wanted.is_mutable) {
      return convert_elements(*wanted.element, value, types.dtype(*wanted.element),
                              describe_argument(call, index), types);
    }
    py::list expected;
    if (span) {
      expected.append(py::none());
    }
    for (const py::ssize_t dim : shape.dims) {
      expected.append(dim);
    }
    return argument_array_converter()(value, dtype, py::tuple(expected), wanted.is_mutable,
                                      describe_argument(call, index));
  };
  const bool as_is = usable_as_is(value, dtype, shape, span, wanted.is_mutable);
  py::array array = as_is ? py::reinterpret_borrow<py::array>(value) : converted();
  if (span && misaligned_in_shared_memory(context.connection, array, wanted.element->align)) {
    // The server takes a span only at an offset aligned to its elements (SPEC 10.3),
    // and the core passes heap data where it lies; so a view such as a[1:] of a byte array
    // goes as a copy, which the core stages like any ordinary array.
    py::array copy = array.attr("copy")();
    if (wanted.is_mutable) {
      context.copy_backs.emplace_back(array, copy);
    }
    array = std::move(copy);
  }
  if (array.ptr() != value.ptr()) {
    context.temporaries.push_back(array);
  }
  // The core writes through the pointer only for span<T>, and then the array is writable.
  void* data = const_cast<void*>(array.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  if (span) {
    const auto count = static_cast<std::size_t>(array.shape(0));
    call.put_span(index, *wanted.element, data, count, array.writeable());
  } else {
    call.put_fixed(index, wanted, data, false);
  }
}

// An ndarray parameter: a numpy array of any shape, C- or F-ordered or strided, passes as it is
// (zero copy when it lies in this client's shared memory; the core copies it once otherwise).
// Other values go through numpy.asarray first, unless the function writes into the array.
void put_ndarray(DynamicCall& call, std::size_t index, py::handle value, ArgumentContext& context) {
  const TypeInfo& wanted = parameter(call, index);
  const py::dtype& dtype = context.types.dtype(*wanted.element);
  const std::string where = describe_argument(call, index);
  py::array array;
  if (py::isinstance<py::array>(value) &&
      py::reinterpret_borrow<py::array>(value).dtype().equal(dtype)) {
    array = py::reinterpret_borrow<py::array>(value);
  } else if (wanted.is_mutable) {
    throw std::invalid_argument(fmt::format(
        "shmrpc: {} is written by the function: it needs a numpy array of dtype {}, not a {}",
        where, std::string(py::str(py::handle(dtype))), Py_TYPE(value.ptr())->tp_name));
  } else {
    array = py::module_::import("numpy").attr("asarray")(value, dtype);
  }
  if (wanted.is_mutable && !array.writeable()) {
    throw std::invalid_argument(
        fmt::format("shmrpc: {} is written by the function: the array is read-only", where));
  }
  const auto rank = static_cast<std::size_t>(array.ndim());
  if (wanted.count != 0 && rank != wanted.count) {
    throw std::invalid_argument(
        fmt::format("shmrpc: {} needs an array of {} dimensions; got shape {}", where, wanted.count,
                    std::string(py::str(array.attr("shape")))));
  }
  const auto itemsize = static_cast<py::ssize_t>(dtype.itemsize());
  const auto address = reinterpret_cast<std::uintptr_t>(array.data());
  bool whole_elements = address % wanted.element->align == 0;
  for (std::size_t i = 0; i < rank; ++i) {
    whole_elements = whole_elements && array.strides(static_cast<py::ssize_t>(i)) % itemsize == 0;
  }
  if (!whole_elements) {
    // A view that steps by part of an element (a field of a structured array, a[1:] of bytes
    // viewed as float64): copied to a C-ordered array first, and back after a writing call.
    py::array copy = py::module_::import("numpy").attr("ascontiguousarray")(array);
    if (wanted.is_mutable) {
      context.copy_backs.emplace_back(array, copy);
    }
    array = std::move(copy);
  }
  if (array.ptr() != value.ptr()) {
    context.temporaries.push_back(array);
  }
  std::array<std::size_t, layout::kMaxRank> shape{};
  std::array<std::ptrdiff_t, layout::kMaxRank> strides{};
  if (rank > layout::kMaxRank) {
    throw std::invalid_argument(fmt::format("shmrpc: {} has {} dimensions; at most {} cross", where,
                                            rank, layout::kMaxRank));
  }
  for (std::size_t i = 0; i < rank; ++i) {
    shape.at(i) = static_cast<std::size_t>(array.shape(static_cast<py::ssize_t>(i)));
    strides.at(i) = array.strides(static_cast<py::ssize_t>(i)) / itemsize;
  }
  // The core writes through the pointer only for a mutable parameter, and then it is writable.
  void* data = const_cast<void*>(array.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  call.put_ndarray(index, *wanted.element, data, std::span(shape.data(), rank),
                   std::span(strides.data(), rank), array.writeable());
}

// Adds the argument to the reason of the UnicodeError being raised for a string argument, and
// raises it.
[[noreturn]] void not_utf8(const DynamicCall& call, std::size_t index) {
  py::error_already_set error;
  if (error.matches(PyExc_UnicodeError)) {
    const py::object& exception = error.value();
    exception.attr("reason") = py::str(fmt::format(
        "{}; {} is a string, which takes str or bytes in UTF-8",
        std::string(py::str(exception.attr("reason"))), describe_argument(call, index)));
  }
  throw std::move(error);
}

// A struct, enum, complex, optional or tuple parameter, or a std::array of other than plain
// numbers: encoded into its wire form, then copied into the slot.
void put_value(DynamicCall& call, std::size_t index, py::handle value, TypeMapper& types) {
  const TypeInfo& wanted = parameter(call, index);
  constexpr std::size_t kSmall = 256;
  std::array<std::byte, kSmall> small{};
  std::vector<std::byte> large(wanted.size > kSmall ? wanted.size : 0);
  std::byte* bytes = wanted.size > kSmall ? large.data() : small.data();
  encode_value(wanted, value, bytes, describe_argument(call, index), types);
  call.put_value(index, wanted, bytes);
}

// A value with parts outside its slot (strings, vectors, maps) at any depth below the argument.
void put_nested(DynamicCall& call, std::size_t index, py::handle value, TypeMapper& types) {
  const TypeInfo& wanted = parameter(call, index);
  std::vector<std::byte> slot(wanted.size);
  NestedArgument nested(types);
  nested.encode(wanted, value, slot.data(), describe_argument(call, index));
  call.put_pieces(index, wanted, slot.data(), nested.pieces());
}

// Arguments that put_nested encodes: every indirect type but those with a primitive of their own
// (string, span, ndarray, vector of fixed elements).
bool is_nested(const TypeInfo& type) {
  switch (type.kind) {
    case TypeKind::kString:
    case TypeKind::kSpan:
    case TypeKind::kNdArray:
      return false;
    case TypeKind::kVector:
      return !is_fixed(type.element->kind);
    default:
      return type.indirect;
  }
}

// Slot values that encode_value converts: every fixed or composite kind but bools, integers and
// floats, which put_argument passes by their Python type without converting them.
bool is_encoded_value(TypeKind kind) {
  const KindTraits& traits = kind_traits(kind);
  const bool in_slot = traits.storage == Storage::kFixed || traits.storage == Storage::kComposite;
  return in_slot && (!is_scalar(kind) || traits.kind_class == KindClass::kComplex);
}

}  // namespace

void ArgumentContext::copy_back() {
  for (auto& [original, copy] : copy_backs) {
    if (original.ndim() > 1 || (original.flags() & py::array::c_style) == 0) {
      original.attr("__setitem__")(py::ellipsis(), copy);  // numpy copies into the strided view
    } else {
      std::memcpy(original.mutable_data(), copy.data(), static_cast<std::size_t>(copy.nbytes()));
    }
  }
}

void put_argument(DynamicCall& call, std::size_t index, py::handle value,
                  ArgumentContext& context) {
  PyObject* object = value.ptr();
  const TypeInfo& type = parameter(call, index);
  const TypeKind kind = type.kind;
  if (is_nested(type)) {
    put_nested(call, index, value, context.types);
  } else if (kind == TypeKind::kSpan || kind == TypeKind::kVector ||
             (kind == TypeKind::kArray && is_plain_number(*numpy_shape(type).scalar))) {
    put_array_like(call, index, value, context);
  } else if (kind == TypeKind::kNdArray) {
    put_ndarray(call, index, value, context);
  } else if (is_encoded_value(kind)) {
    put_value(call, index, value, context.types);
  } else if (PyBool_Check(object)) {
    call.put_bool(index, object == Py_True);
  } else if (PyLong_Check(object)) {
    put_integer(call, index, value);
  } else if (PyFloat_Check(object)) {
    call.put_float(index, PyFloat_AS_DOUBLE(object));
  } else if (PyUnicode_Check(object)) {
    Py_ssize_t size = 0;
    const char* text = PyUnicode_AsUTF8AndSize(object, &size);
    if (text == nullptr) {
      not_utf8(call, index);  // a lone surrogate
    }
    call.put_string(index, {text, static_cast<std::size_t>(size)});
  } else if (PyBytes_Check(object)) {
    const char* text = PyBytes_AS_STRING(object);
    const Py_ssize_t size = PyBytes_GET_SIZE(object);
    // The server and every other client take string bytes as UTF-8; check them here, where the
    // error can still name the argument. Decoding is the check CPython has.
    PyObject* decoded = PyUnicode_DecodeUTF8(text, size, "strict");
    if (decoded == nullptr) {
      not_utf8(call, index);
    }
    Py_DECREF(decoded);
    call.put_string(index, {text, static_cast<std::size_t>(size)});
  } else if (py::isinstance<py::array>(value) &&
             py::reinterpret_borrow<py::array>(value).ndim() == 0) {
    put_argument(call, index, value[py::tuple()], context);  // a 0-d array is a scalar
  } else if (!put_numpy_scalar(call, index, value)) {
    unsupported(call, index, value, "an object");
  }
}

void put_arguments(DynamicCall& call, const py::tuple& args, ArgumentContext& context) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    try {
      put_argument(call, i, args[i], context);
    } catch (const std::invalid_argument& error) {
      throw py::type_error(error.what());  // the argument checks report a wrong type this way
    }
  }
}

}  // namespace shmrpc::python
