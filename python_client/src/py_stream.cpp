#include "py_stream.hpp"

#include <fmt/format.h>

#include <utility>

#include "arguments.hpp"
#include "py_connection.hpp"
#include "results.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/value_codec.hpp"

namespace py = pybind11;

namespace shmrpc::python {

PyStream::PyStream(py::object owner, std::shared_ptr<CallSlots> slots, CallSlots::Lease slot,
                   std::unique_ptr<DynamicCall> call, TypeMapper& types,
                   std::vector<py::object> temporaries)
    : owner_(std::move(owner)),
      slots_(std::move(slots)),
      slot_(std::move(slot)),
      call_(std::move(call)),
      types_(&types),
      temporaries_(std::move(temporaries)) {}

PyStream::~PyStream() {
  close();
}

void PyStream::release() noexcept {
  call_.reset();
  slot_.reset();
  temporaries_.clear();
}

void PyStream::close() noexcept {
  if (call_ && !reading_) {
    call_->cancel_stream();
    release();
  }
}

py::object PyStream::next(const std::optional<CancelToken>& token) {
  if (!call_) {
    throw py::stop_iteration();
  }
  if (reading_) {
    throw std::logic_error("shmrpc: another thread is reading this stream");
  }
  reading_ = true;
  bool more = false;
  try {
    const py::gil_scoped_release release;
    std::optional<CancelScope> scope;
    if (token) {
      scope.emplace(*token);
    }
    more = call_->next_element();
  } catch (...) {
    reading_ = false;
    close();  // given up already by next_element; this gives the slot back
    throw;
  }
  reading_ = false;
  if (!more) {
    release();
    throw py::stop_iteration();
  }
  try {
    return take_result(*call_, slot_->shared(), *types_);
  } catch (const InvalidValue& error) {
    close();
    throw ProtocolError(fmt::format("shmrpc: {} streamed an invalid element: {}",
                                    call_ ? call_->function().name : "a stream", error.what()));
  } catch (...) {
    close();
    throw;
  }
}

PyStream PyConnection::stream(std::size_t index, const py::tuple& args) {
  const std::shared_ptr<CallSlots> slots = this->slots();
  const FunctionSchema& function = function_for(*slots, index, args);
  if (!function.streams) {
    throw py::type_error(fmt::format("shmrpc: {} does not stream", function.signature));
  }
  std::optional<CallSlots::Lease> slot;
  std::unique_ptr<DynamicCall> call;
  {
    const py::gil_scoped_release release;  // may wait for a slot, or out a late call
    slot.emplace(slots->take());
    call = std::make_unique<DynamicCall>(**slot, function);
  }
  ArgumentContext arguments{**slot, types_, {}, {}};
  put_arguments(*call, args, arguments);
  call->start_stream((*slot)->options().stream_buffer);
  // The Python object of this connection (it exists: Python called us through it).
  py::object owner = py::cast(this, py::return_value_policy::reference);
  return {std::move(owner), slots,  std::move(*slot),
          std::move(call),  types_, std::move(arguments.temporaries)};
}

void bind_stream(py::module_& module) {
  py::class_<PyStream>(module, "Stream",
                       "The elements of a streaming function, as they come: iterate over it. "
                       "close() (or dropping it) stops the function on the server.")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", [](PyStream& self) { return self.next(std::nullopt); })
      .def("next", &PyStream::next, py::arg("token") = py::none(),
           "The next element (StopIteration at the end); `token` abandons the wait from "
           "another thread.")
      .def("close", &PyStream::close, "Stops the stream; nothing once it has ended.")
      .def_property_readonly("closed", &PyStream::closed,
                             "True once it has ended, failed or been closed.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyStream& self, const py::args& /*exc_info*/) { self.close(); });
}

}  // namespace shmrpc::python
