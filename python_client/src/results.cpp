#include "results.hpp"

#include <fmt/format.h>
#include <pybind11/numpy.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "heap_block.hpp"
#include "shmrpc/errors.hpp"
#include "values.hpp"

namespace py = pybind11;

namespace shmrpc::python {
namespace {

template <class T>
T load(const std::byte* bytes) {
  T value{};
  std::memcpy(&value, bytes, sizeof value);
  return value;
}

// Reads a result whose parts lie outside its slot, which DynamicCall::execute() checked. Arrays
// are numpy arrays over the result's memory; those in one block share one HeapBlock.
class ResultReader {
 public:
  ResultReader(DynamicCall& call, const std::shared_ptr<Connection>& connection, TypeMapper& types)
      : call_(call), connection_(connection), types_(types) {}

  py::object read(const TypeInfo& type, const std::byte* bytes) {
    if (!type.indirect) {
      check_value(type, bytes);  // bools, enums and optional flags, as the C++ client checks
      return decode_value(type, bytes, types_);
    }
    switch (type.kind) {
      case TypeKind::kString:
        return string(bytes);
      case TypeKind::kVector:
        return vector(type, bytes);
      case TypeKind::kMap:
        return map(type, bytes);
      case TypeKind::kNdArray:
        return ndarray(type, bytes);
      case TypeKind::kOptional: {
        const std::byte* value = optional_value(type, bytes);
        return value == nullptr ? py::none() : read(*type.element, value);
      }
      default: {  // a tuple
        py::tuple items(type.members.size());
        for (std::size_t i = 0; i < type.members.size(); ++i) {
          items[i] = read(*type.members[i].type, bytes + type.members[i].value);
        }
        return items;
      }
    }
  }

 private:
  py::object string(const std::byte* bytes) {
    const auto slot = load<layout::VarSlot>(bytes);
    const auto text = call_.result_piece(slot, 1);
    // surrogateescape: a result that is not UTF-8 (the server does not check) still reads;
    // passed back as an argument such text is refused, since arguments must be UTF-8.
    PyObject* decoded =
        PyUnicode_DecodeUTF8(reinterpret_cast<const char*>(text.data()),
                             static_cast<Py_ssize_t>(text.size()), "surrogateescape");
    if (decoded == nullptr) {
      throw py::error_already_set();
    }
    return py::reinterpret_steal<py::object>(decoded);
  }

  // A vector of fixed elements is a numpy array over the result's memory (records, enums and
  // arrays as numpy dtypes); of any other element, a list.
  py::object vector(const TypeInfo& type, const std::byte* bytes) {
    const TypeInfo& element = *type.element;
    const auto slot = load<layout::VarSlot>(bytes);
    const auto piece = call_.result_piece(slot, element.size);
    if (!is_fixed(element.kind)) {
      py::list items(static_cast<py::ssize_t>(slot.length));
      for (std::size_t i = 0; i < slot.length; ++i) {
        items[i] = read(element, piece.data() + i * element.size);
      }
      return items;
    }
    const NumpyShape shape = numpy_shape(element);
    std::vector<py::ssize_t> dims{static_cast<py::ssize_t>(slot.length)};
    dims.insert(dims.end(), shape.dims.begin(), shape.dims.end());
    check_values(element, piece.data(), slot.length);
    return array_over(slot, element.size, types_.dtype(*shape.scalar), dims);
  }

  py::object map(const TypeInfo& type, const std::byte* bytes) {
    const ValueLayout entry = map_entry_layout(type);
    const auto slot = load<layout::VarSlot>(bytes);
    const auto piece = call_.result_piece(slot, entry.size);
    py::dict entries;
    for (std::size_t i = 0; i < slot.length; ++i) {
      const std::byte* at = piece.data() + i * entry.size;
      py::object key = read(*type.members[0].type, at + type.members[0].value);
      if (entries.contains(key)) {
        throw ProtocolError(fmt::format("shmrpc: {} returned a map whose entry {} repeats a key",
                                        call_.function().name, i));
      }
      entries[key] = read(*type.members[1].type, at + type.members[1].value);
    }
    return entries;
  }

  // An ndarray: a numpy array of its shape over the memory the server filled, C-ordered.
  py::object ndarray(const TypeInfo& type, const std::byte* bytes) {
    const auto slot = load<layout::NdSlot>(bytes);
    const auto piece = call_.result_piece(slot.data, type.element->size);
    const auto shape = result_shape(call_.function(), type, slot, piece.size());
    return array_over(slot.data, type.element->size, types_.dtype(*type.element),
                      std::vector<py::ssize_t>(shape.begin(), shape.begin() + slot.rank));
  }

  // The numpy array over the elements `slot` names, of `element_size` bytes each.
  py::object array_over(const layout::VarSlot& slot, std::size_t element_size,
                        const py::dtype& dtype, const std::vector<py::ssize_t>& shape) {
    if (dtype.itemsize() == 0 || std::find(shape.begin(), shape.end(), 0) != shape.end()) {
      return py::array(dtype, shape);  // nothing to keep
    }
    if (call_.function().streams && slot.buffer == layout::kHeapBuffer) {
      // A stream's entry is the ring's again at the next element; its small arrays (at most the
      // entry's window) are copied, so that holding many cannot fill the heap.
      const auto piece = call_.result_piece(slot, element_size);
      py::array copy(dtype, shape);
      std::memcpy(copy.mutable_data(), piece.data(), piece.size());
      return copy;
    }
    py::object base = block(slot.buffer);
    const auto piece = call_.result_piece(slot, element_size);
    return py::array(dtype, shape, std::vector<py::ssize_t>{}, piece.data(), base);
  }

  // The HeapBlock of memory `buffer` of the result: kept from the call once, shared by every
  // array over it.
  py::object block(std::uint64_t buffer) {
    for (const auto& [id, kept] : blocks_) {
      if (id == buffer) {
        return kept;
      }
    }
    // Owned before anything else can throw, so that it is freed on every path.
    SharedBlock kept = call_.keep_result_block(buffer);
    const std::uint64_t size = kept.in_heap() ? call_.result_window_used() : kept.mapping->size();
    py::object block = py::cast(std::make_unique<HeapBlock>(connection_, std::move(kept), size));
    blocks_.emplace_back(buffer, block);
    return block;
  }

  DynamicCall& call_;
  const std::shared_ptr<Connection>& connection_;
  TypeMapper& types_;
  std::vector<std::pair<std::uint64_t, py::object>> blocks_;
};

}  // namespace

py::object take_result(DynamicCall& call, const std::shared_ptr<Connection>& connection,
                       TypeMapper& types) {
  const TypeInfo& type = *call.function().return_type;
  if (type.kind == TypeKind::kVoid) {
    return py::none();
  }
  // Fixed values are copied out of the frame slot, which the next call overwrites.
  return ResultReader(call, connection, types).read(type, call.result_slot());
}

}  // namespace shmrpc::python
