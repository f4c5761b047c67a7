#include "results.hpp"

#include <fmt/format.h>
#include <pybind11/numpy.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "heap_block.hpp"
#include "numpy_types.hpp"
#include "shmrpc/errors.hpp"
#include "values.hpp"

namespace py = pybind11;

namespace shmrpc::python {
namespace {

py::object vector(DynamicCall& call, const std::shared_ptr<Connection>& connection,
                  TypeMapper& types) {
  const NumpyShape element = numpy_shape(*call.function().return_type->element);
  const py::dtype& dtype = types.dtype(*element.scalar);
  const auto bytes = call.result_bytes();
  const std::uint64_t element_size = call.function().return_type->element->size;
  std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(bytes.size() / element_size)};
  shape.insert(shape.end(), element.dims.begin(), element.dims.end());
  if (bytes.empty()) {
    return py::array(dtype, shape);  // nothing to keep in the heap
  }
  // Elements that hold bools or enums are checked as the C++ client checks them.
  check_values(*call.function().return_type->element, bytes.data(), bytes.size() / element_size);
  // Own the block before anything else can throw, so that it is freed on every path.
  auto block = std::make_unique<HeapBlock>(connection, call.keep_result_block(), bytes.size());
  return heap_array(std::move(block), dtype, shape);
}

// An ndarray result: a numpy array of its shape over the block the server filled, C-ordered.
py::object ndarray(DynamicCall& call, const std::shared_ptr<Connection>& connection,
                   TypeMapper& types) {
  const TypeInfo& element = *call.function().return_type->element;
  const py::dtype& dtype = types.dtype(element);
  layout::NdSlot slot{};
  std::memcpy(&slot, call.result_slot(), sizeof slot);
  const auto bytes = call.result_bytes();  // data.length elements, checked against the memory
  if (slot.rank > layout::kMaxRank) {
    throw ProtocolError(
        fmt::format("shmrpc: {} returned an array of rank {}", call.function().name, slot.rank));
  }
  std::vector<py::ssize_t> shape(slot.rank);
  std::uint64_t count = 1;
  auto stride = static_cast<std::int64_t>(element.size);
  bool c_ordered = true;
  for (std::size_t i = slot.rank; i-- > 0;) {
    shape[i] = static_cast<py::ssize_t>(slot.shape.at(i));
    count *= slot.shape.at(i);
    c_ordered = c_ordered && (slot.shape.at(i) <= 1 || slot.strides.at(i) == stride);
    stride *= static_cast<std::int64_t>(std::max<std::uint64_t>(slot.shape.at(i), 1));
  }
  if (!c_ordered || count * element.size != bytes.size()) {
    throw ProtocolError(fmt::format(
        "shmrpc: {} returned an array whose shape and strides do not describe its {} bytes in C "
        "order",
        call.function().name, bytes.size()));
  }
  if (bytes.empty()) {
    return py::array(dtype, shape);
  }
  auto block = std::make_unique<HeapBlock>(connection, call.keep_result_block(), bytes.size());
  return heap_array(std::move(block), dtype, shape);
}

}  // namespace

py::object take_result(DynamicCall& call, const std::shared_ptr<Connection>& connection,
                       TypeMapper& types) {
  const TypeInfo& type = *call.function().return_type;
  switch (type.kind) {
    case TypeKind::kVoid:
      return py::none();
    case TypeKind::kString: {
      const auto bytes = call.result_bytes();
      // surrogateescape: a result that is not UTF-8 (the server does not check) still reads;
      // passed back as an argument such text is refused, since arguments must be UTF-8.
      PyObject* text =
          PyUnicode_DecodeUTF8(reinterpret_cast<const char*>(bytes.data()),
                               static_cast<Py_ssize_t>(bytes.size()), "surrogateescape");
      if (text == nullptr) {
        throw py::error_already_set();
      }
      return py::reinterpret_steal<py::object>(text);
    }
    case TypeKind::kVector:
      return vector(call, connection, types);
    case TypeKind::kNdArray:
      return ndarray(call, connection, types);
    default:
      // Copied out of the frame slot, which the next call overwrites.
      check_value(type, call.result_slot());
      return decode_value(type, call.result_slot(), types);
  }
}

}  // namespace shmrpc::python
