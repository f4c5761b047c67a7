#include "results.hpp"

#include <pybind11/numpy.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "heap_block.hpp"
#include "numpy_types.hpp"

namespace py = pybind11;

namespace shmrpc::python {
namespace {

template <class T>
T read(const std::byte* slot) {
  T value;
  std::memcpy(&value, slot, sizeof value);
  return value;
}

py::object scalar(TypeKind kind, const std::byte* slot) {
  switch (kind) {
    case TypeKind::kBool:
      return py::bool_(read<bool>(slot));
    case TypeKind::kInt8:
      return py::int_(read<std::int8_t>(slot));
    case TypeKind::kInt16:
      return py::int_(read<std::int16_t>(slot));
    case TypeKind::kInt32:
      return py::int_(read<std::int32_t>(slot));
    case TypeKind::kInt64:
      return py::int_(read<std::int64_t>(slot));
    case TypeKind::kUInt8:
      return py::int_(read<std::uint8_t>(slot));
    case TypeKind::kUInt16:
      return py::int_(read<std::uint16_t>(slot));
    case TypeKind::kUInt32:
      return py::int_(read<std::uint32_t>(slot));
    case TypeKind::kUInt64:
      return py::int_(read<std::uint64_t>(slot));
    case TypeKind::kFloat32:
      return py::float_(read<float>(slot));
    case TypeKind::kFloat64:
      return py::float_(read<double>(slot));
    default:
      throw std::logic_error("shmrpc: not a scalar kind");
  }
}

py::object vector(detail::CallScope& call, const std::shared_ptr<detail::Connection>& connection) {
  const NumpyShape element = numpy_shape(*call.function().return_type->element);
  const py::dtype dtype = numpy_dtype(*element.scalar);
  const auto bytes = call.result_bytes();
  const std::uint64_t element_size = call.function().return_type->element->size;
  std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(bytes.size() / element_size)};
  shape.insert(shape.end(), element.dims.begin(), element.dims.end());
  if (bytes.empty()) {
    return py::array(dtype, shape);  // nothing to keep in the heap
  }
  // Own the block before anything else can throw, so that it is freed on every path.
  auto block = std::make_unique<HeapBlock>(connection, call.keep_result_block(), bytes.size());
  return heap_array(std::move(block), dtype, shape);
}

}  // namespace

py::object take_result(detail::CallScope& call,
                       const std::shared_ptr<detail::Connection>& connection) {
  const TypeInfo& type = *call.function().return_type;
  switch (type.kind) {
    case TypeKind::kVoid:
      return py::none();
    case TypeKind::kArray: {
      const NumpyShape shape = numpy_shape(type);
      // No base: pybind11 copies the frame slot, which the next call overwrites.
      return py::array(numpy_dtype(*shape.scalar), shape.dims, std::vector<py::ssize_t>{},
                       call.result_slot());
    }
    case TypeKind::kString: {
      const auto bytes = call.result_bytes();
      // surrogateescape: bytes that are not UTF-8 survive a round trip through str.
      PyObject* text =
          PyUnicode_DecodeUTF8(reinterpret_cast<const char*>(bytes.data()),
                               static_cast<Py_ssize_t>(bytes.size()), "surrogateescape");
      if (text == nullptr) {
        throw py::error_already_set();
      }
      return py::reinterpret_steal<py::object>(text);
    }
    case TypeKind::kVector:
      return vector(call, connection);
    default:
      return scalar(type.kind, call.result_slot());
  }
}

}  // namespace shmrpc::python
