#include "nested_arguments.hpp"

#include <fmt/format.h>
#include <pybind11/numpy.h>

#include <cstring>
#include <stdexcept>

#include "values.hpp"

namespace py = pybind11;

namespace shmrpc::python {
namespace {

[[noreturn]] void wrong_type(const TypeInfo& type, py::handle value, const std::string& where,
                             std::string_view wanted) {
  throw std::invalid_argument(fmt::format("shmrpc: {} is {}, which takes {}; got a {}", where,
                                          type_name(type), wanted, Py_TYPE(value.ptr())->tp_name));
}

}  // namespace

void NestedArgument::encode(const TypeInfo& type, py::handle value, std::byte* out,
                            const std::string& where) {
  if (!type.indirect) {
    encode_value(type, value, out, where, types_);
    return;
  }
  switch (type.kind) {
    case TypeKind::kString:
      string(value, out, where);
      return;
    case TypeKind::kVector:
      vector(type, value, out, where);
      return;
    case TypeKind::kMap:
      map(type, value, out, where);
      return;
    case TypeKind::kNdArray:
      ndarray(type, value, out, where);
      return;
    case TypeKind::kOptional:
      if (std::byte* slot = write_optional(type, out, !value.is_none())) {
        encode(*type.element, value, slot, where);
      }
      return;
    default:
      tuple(type, value, out, where);
  }
}

void NestedArgument::string(py::handle value, std::byte* out, const std::string& where) {
  const char* text = nullptr;
  Py_ssize_t size = 0;
  if (PyUnicode_Check(value.ptr())) {
    text = PyUnicode_AsUTF8AndSize(value.ptr(), &size);  // cached in the str, which stays alive
    if (text == nullptr) {
      throw py::error_already_set();  // a lone surrogate
    }
  } else if (PyBytes_Check(value.ptr())) {
    text = PyBytes_AS_STRING(value.ptr());
    size = PyBytes_GET_SIZE(value.ptr());
    // Every side takes string bytes as UTF-8; decoding is the check CPython has.
    if (py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(text, size, "strict")).ptr() ==
        nullptr) {
      throw py::error_already_set();
    }
  } else {
    wrong_type(type_info_of<std::string>(), value, where, "a str or UTF-8 bytes");
  }
  alive_.push_back(py::reinterpret_borrow<py::object>(value));
  pieces_.add_copy(out, text, static_cast<std::size_t>(size), 1, static_cast<std::size_t>(size));
}

py::sequence NestedArgument::items(const TypeInfo& type, py::handle value, const std::string& where,
                                   const char* wanted) {
  if (!py::isinstance<py::sequence>(value) || py::isinstance<py::str>(value) ||
      py::isinstance<py::bytes>(value)) {
    wrong_type(type, value, where, wanted);
  }
  auto sequence = py::reinterpret_borrow<py::sequence>(value);
  alive_.push_back(sequence);  // holds the items its __getitem__ hands out
  return sequence;
}

void NestedArgument::vector(const TypeInfo& type, py::handle value, std::byte* out,
                            const std::string& where) {
  const TypeInfo& element = *type.element;
  if (is_fixed(element.kind) && py::isinstance<py::array>(value)) {
    const auto array = py::reinterpret_borrow<py::array>(value);
    const NumpyShape shape = numpy_shape(element);
    const bool as_is = array.dtype().equal(types_.dtype(element)) && array.ndim() == 1 &&
                       (array.flags() & py::array::c_style) != 0 && shape.dims.empty();
    if (as_is) {  // its bytes are the elements
      alive_.push_back(array);
      pieces_.add_copy(out, array.data(), static_cast<std::size_t>(array.nbytes()), element.align,
                       static_cast<std::uint64_t>(array.shape(0)));
      return;
    }
  }
  const py::sequence list = items(type, value, where, "a sequence");
  const std::size_t count = list.size();
  std::byte* slots = pieces_.add(out, count * element.size, element.align, count);
  for (std::size_t i = 0; i < count; ++i) {
    encode(element, list[i], slots + i * element.size, fmt::format("{}: element {}", where, i));
  }
}

void NestedArgument::map(const TypeInfo& type, py::handle value, std::byte* out,
                         const std::string& where) {
  const py::object mapping_type = py::module_::import("collections.abc").attr("Mapping");
  if (!py::isinstance(value, mapping_type)) {
    wrong_type(type, value, where, "a mapping (a dict)");
  }
  const auto entries = py::list(value.attr("items")());
  alive_.push_back(entries);
  const ValueLayout entry = map_entry_layout(type);
  std::byte* at = pieces_.add(out, entries.size() * entry.size, entry.align, entries.size());
  for (const py::handle item : entries) {
    const auto pair = py::reinterpret_borrow<py::tuple>(item);
    const std::string key = py::repr(pair[0]);
    encode(*type.members[0].type, pair[0], at + type.members[0].value,
           fmt::format("{}: key {}", where, key));
    encode(*type.members[1].type, pair[1], at + type.members[1].value,
           fmt::format("{}: the value of key {}", where, key));
    at += entry.size;
  }
}

void NestedArgument::ndarray(const TypeInfo& type, py::handle value, std::byte* out,
                             const std::string& where) {
  // Copied once, C-ordered, as a top-level ndarray that does not lie in shared memory is.
  const py::dtype& dtype = types_.dtype(*type.element);
  py::array array = py::module_::import("numpy").attr("ascontiguousarray")(value, dtype);
  const auto rank = static_cast<std::size_t>(array.ndim());
  if (rank > layout::kMaxRank || (type.count != 0 && rank != type.count)) {
    throw std::invalid_argument(fmt::format("shmrpc: {} is {}; got an array of shape {}", where,
                                            type_name(type),
                                            std::string(py::str(array.attr("shape")))));
  }
  layout::NdSlot slot{};
  slot.rank = static_cast<std::uint32_t>(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    slot.shape.at(i) = static_cast<std::uint64_t>(array.shape(static_cast<py::ssize_t>(i)));
    slot.strides.at(i) = array.strides(static_cast<py::ssize_t>(i));
  }
  std::memcpy(out, &slot, sizeof slot);
  alive_.push_back(array);
  // The element count goes to data.length, which starts the NdSlot.
  pieces_.add_copy(out, array.data(), static_cast<std::size_t>(array.nbytes()), type.element->align,
                   static_cast<std::uint64_t>(array.size()));
}

void NestedArgument::tuple(const TypeInfo& type, py::handle value, std::byte* out,
                           const std::string& where) {
  const py::sequence list = items(type, value, where, "a tuple");
  if (list.size() != type.members.size()) {
    throw std::invalid_argument(fmt::format("shmrpc: {} is {}, which takes {} elements; got {}",
                                            where, type_name(type), type.members.size(),
                                            list.size()));
  }
  std::memset(out, 0, type.size);
  for (std::size_t i = 0; i < type.members.size(); ++i) {
    encode(*type.members[i].type, list[i], out + type.members[i].value,
           fmt::format("{}: element {}", where, i));
  }
}

}  // namespace shmrpc::python
