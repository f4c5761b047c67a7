#include "heap_block.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace shmrpc::python {

std::unique_ptr<HeapBlock> allocate_block(const std::shared_ptr<Connection>& connection,
                                          std::uint64_t bytes) {
  return std::make_unique<HeapBlock>(connection, connection->allocate(bytes), bytes);
}

py::array heap_array(std::unique_ptr<HeapBlock> block, const py::dtype& dtype,
                     const std::vector<py::ssize_t>& shape) {
  std::byte* data = block->data();
  const py::object base = py::cast(std::move(block));
  return {dtype, shape, std::vector<py::ssize_t>{}, data, base};
}

void bind_heap_block(py::module_& module) {
  py::class_<HeapBlock>(
      module, "HeapBlock",
      "Shared memory under numpy arrays (a channel heap block or a buffer); freed when they are "
      "gone.")
      .def_property_readonly("offset", &HeapBlock::offset,
                             "Bytes from the start of the heap or the buffer.")
      .def_property_readonly("buffer", &HeapBlock::buffer,
                             "0 for the channel heap, else the id of the buffer segment.")
      .def_property_readonly("size", &HeapBlock::size, "Bytes of the block.")
      .def_property_readonly("channel", &HeapBlock::channel, "The channel whose heap holds it.")
      .def_property_readonly(
          "address",
          [](const HeapBlock& block) { return reinterpret_cast<std::uintptr_t>(block.data()); },
          "Where the block is mapped in this process.")
      .def("__repr__", [](const HeapBlock& block) {
        if (!block.in_heap()) {
          return fmt::format("<shmrpc HeapBlock of {} bytes in buffer {}>", block.size(),
                             block.buffer());
        }
        return fmt::format("<shmrpc HeapBlock of {} bytes at offset {} of channel {}>",
                           block.size(), block.offset(), block.channel());
      });
}

}  // namespace shmrpc::python
