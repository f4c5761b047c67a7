#include "py_connection.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "arguments.hpp"
#include "cancel_token.hpp"
#include "heap_block.hpp"
#include "numpy_types.hpp"
#include "py_stream.hpp"
#include "results.hpp"
#include "shmrpc/dynamic_call.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/stub.hpp"
#include "shmrpc/value_codec.hpp"

namespace py = pybind11;

namespace shmrpc::python {
namespace {

std::optional<std::chrono::nanoseconds> duration(std::optional<double> seconds, const char* what) {
  if (!seconds) {
    return std::nullopt;
  }
  if (!(*seconds >= 0.0) || *seconds > 1e9) {
    throw py::value_error(fmt::format(
        "shmrpc: {} must be a number of seconds from 0 to 1e9, or None; got {}", what, *seconds));
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(*seconds));
}

// Runs while a call waits, every liveness interval, with the GIL released by the caller. Python
// signal handlers run only when the main thread calls PyErr_CheckSignals, so take the GIL and
// let them: the SIGINT handler raises KeyboardInterrupt, which the core then treats as an
// abandoned (late) call before it reaches Python. A call whose CancelToken was cancelled (an
// asyncio task that was cancelled) is abandoned the same way, with asyncio.CancelledError.
void check_signals() {
  const py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) {
    throw py::error_already_set();
  }
  if (current_call_cancelled()) {
    const py::object cancelled = py::module_::import("asyncio").attr("CancelledError");
    PyErr_SetString(cancelled.ptr(), "shmrpc: the call was cancelled; the server finishes it");
    throw py::error_already_set();
  }
}

}  // namespace

PyConnection::PyConnection(const std::string& name, std::optional<double> timeout,
                           double connect_timeout, std::optional<double> channel_wait,
                           std::uint32_t max_slots) {
  if (max_slots == 0) {
    throw py::value_error("shmrpc: max_slots must be at least 1");
  }
  ClientOptions options;
  options.max_slots = max_slots;
  options.timeout = duration(timeout, "timeout");
  options.connect_timeout = *duration(connect_timeout, "connect_timeout");
  options.channel_wait = duration(channel_wait, "channel_wait");
  options.interrupt_check = check_signals;
  const py::gil_scoped_release release;
  slots_ = std::make_shared<CallSlots>(name, options);
}

std::shared_ptr<CallSlots> PyConnection::slots() const {
  if (!slots_) {
    throw py::value_error("shmrpc: the connection is closed");
  }
  return slots_;
}

Connection& PyConnection::first() const {
  if (!slots_) {
    throw py::value_error("shmrpc: the connection is closed");
  }
  return slots_->first();
}

// A free call slot: at once when one is free (the GIL kept: releasing it costs more than the
// rest of a fast call's preparation), else with the GIL released while the client claims a slot
// or waits for one.
CallSlots::Lease take_slot(CallSlots& slots) {
  if (auto slot = slots.try_take()) {
    return std::move(*slot);
  }
  const py::gil_scoped_release release;
  return slots.take();
}

const FunctionSchema& PyConnection::function_for(const CallSlots& slots, std::size_t index,
                                                 const py::tuple& args) {
  const auto& functions = slots.first().schema().functions();
  if (index >= functions.size()) {
    throw py::index_error(
        fmt::format("shmrpc: server '{}' has {} functions; there is no function {}",
                    slots.first().server_name(), functions.size(), index));
  }
  const FunctionSchema& function = functions[index];
  if (args.size() != function.arguments.size()) {
    throw py::type_error(fmt::format("{}() takes {} arguments ({} given)", function.name,
                                     function.arguments.size(), args.size()));
  }
  return function;
}

py::object PyConnection::call(std::size_t index, const py::tuple& args) {
  const std::shared_ptr<CallSlots> slots = this->slots();
  const FunctionSchema& function = function_for(*slots, index, args);
  if (function.streams) {
    return py::cast(stream(index, args));
  }
  const CallSlots::Lease slot = take_slot(*slots);
  const std::shared_ptr<Connection>& connection = slot.shared();
  std::optional<DynamicCall> call;
  if (connection->has_late_call()) {
    const py::gil_scoped_release release;  // waits for the late call to finish
    call.emplace(*connection, function);
  } else {
    // Nothing to wait for: releasing and taking the GIL back would cost more than the rest of
    // the preparation.
    call.emplace(*connection, function);
  }
  ArgumentContext arguments{*connection, types_, {}, {}};
  put_arguments(*call, args, arguments);
  {
    const py::gil_scoped_release release;
    call->execute();
  }
  arguments.copy_back();
  try {
    return take_result(*call, connection, types_);
  } catch (const InvalidValue& error) {
    throw shmrpc::ProtocolError(fmt::format("shmrpc: server '{}' returned an invalid result: {}",
                                            connection->server_name(), error.what()));
  }
}

// NOLINTNEXTLINE(readability-make-member-function-const): it allocates in the channel it holds
py::array PyConnection::empty(const std::vector<py::ssize_t>& shape, const py::dtype& dtype,
                              bool zero) {
  const std::shared_ptr<CallSlots> slots = this->slots();
  auto bytes = static_cast<std::uint64_t>(dtype.itemsize());
  for (const py::ssize_t dim : shape) {
    if (dim < 0) {
      throw py::value_error("shmrpc: negative dimensions are not allowed");
    }
    const auto size = static_cast<std::uint64_t>(dim);
    if (size != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / size) {
      throw std::length_error("shmrpc: an array of that shape has more bytes than memory holds");
    }
    bytes *= size;
  }
  const CallSlots::Lease slot = take_slot(*slots);
  auto block = allocate_block(slot.shared(), bytes);
  if (zero && bytes != 0 && block->in_heap()) {  // a new buffer is zero-filled already
    std::memset(block->data(), 0, bytes);
  }
  return heap_array(std::move(block), dtype, shape);
}

py::list PyConnection::functions() {
  py::list list;
  for (const FunctionSchema& function : first().schema().functions()) {
    py::list arguments;
    for (const ArgumentSchema& argument : function.arguments) {
      arguments.append(py::make_tuple(argument.name, describe_type(*argument.type, types_)));
    }
    py::dict entry;
    entry["index"] = function.index;
    entry["name"] = function.name;
    entry["doc"] = function.doc;
    entry["signature"] = function.signature;
    entry["signature_hash"] = function.signature_hash;
    entry["layout"] = function.layout;
    entry["arguments"] = arguments;
    entry["returns"] = describe_type(*function.return_type, types_);
    entry["streams"] = function.streams;
    list.append(entry);
  }
  return list;
}

py::list PyConnection::named_types() {
  std::vector<const TypeInfo*> roots;
  for (const FunctionSchema& function : first().schema().functions()) {
    for (const ArgumentSchema& argument : function.arguments) {
      roots.push_back(argument.type);
    }
    roots.push_back(function.return_type);
  }
  return describe_named_types(roots, types_);
}

bool PyConnection::owns(const py::array& array) const {
  return slots()->holds(array.data(), static_cast<std::size_t>(array.nbytes()));
}

// Not const: it changes the slots it holds (their timeout).
// NOLINTNEXTLINE(readability-make-member-function-const)
void PyConnection::set_timeout(std::optional<double> timeout) {
  slots()->set_timeout(duration(timeout, "timeout"));
}

namespace {

// PyConnection.call(index, args) as a METH_FASTCALL method, without pybind11's dispatcher: it is
// every remote call's entry, and the generic dispatcher (overloads, keywords, casters) costs
// about as much as the rest of a null call's Python side. Exceptions go through the registered
// translators, as from any bound function.
PyObject* fast_call(PyObject* self, PyObject* const* args, Py_ssize_t nargs) noexcept {
  try {
    if (nargs != 2 || !PyTuple_Check(args[1])) {
      throw py::type_error("Connection.call(index, args) takes an int and a tuple");
    }
    const std::size_t index = PyLong_AsSize_t(args[0]);
    if (index == static_cast<std::size_t>(-1) && PyErr_Occurred() != nullptr) {
      throw py::error_already_set();
    }
    auto& connection = py::cast<PyConnection&>(py::handle(self));
    return connection.call(index, py::reinterpret_borrow<py::tuple>(args[1])).release().ptr();
  } catch (...) {
    if (!py::detail::apply_exception_translators(
            py::detail::get_local_internals().registered_exception_translators) &&
        !py::detail::apply_exception_translators(
            py::detail::get_internals().registered_exception_translators)) {
      PyErr_SetString(PyExc_SystemError, "shmrpc: an exception escaped every translator");
    }
    return nullptr;
  }
}

// Not const: PyDescr_NewMethod takes a PyMethodDef*, and keeps it for as long as the type lives.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
PyMethodDef fast_call_definition{
    "call",
    // The cast through void(*)() is how CPython's own METH_FASTCALL methods are stored.
    reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast_call)), METH_FASTCALL,
    "Calls function `index` with exactly its arguments (a tuple)."};

}  // namespace

void bind_connection(py::module_& module) {
  bind_cancel_token(module);
  py::class_<PyConnection> connection_class(
      module, "Connection",
      "A client of a server, shared by all threads; the shmrpc.Client keeps one.");
  connection_class.attr("call") = py::reinterpret_steal<py::object>(PyDescr_NewMethod(
      reinterpret_cast<PyTypeObject*>(connection_class.ptr()), &fast_call_definition));
  connection_class
      .def(py::init<const std::string&, std::optional<double>, double, std::optional<double>,
                    std::uint32_t>(),
           py::arg("name"), py::arg("timeout") = py::none(), py::arg("connect_timeout") = 1.0,
           py::arg("channel_wait") = py::none(), py::arg("max_slots") = ClientOptions{}.max_slots)
      .def("empty", &PyConnection::empty, py::arg("shape"), py::arg("dtype"),
           py::arg("zero") = false, "An array in a slot's heap, or a buffer when large.")
      .def("functions", &PyConnection::functions, "The server's functions, described.")
      .def("named_types", &PyConnection::named_types,
           "The structs and enums of the server's functions, described, used types first.")
      .def(
          "set_classes",
          [](PyConnection& self, py::dict classes) {
            self.types().set_classes(std::move(classes));
          },
          py::arg("classes"), "The record and enum classes to use, by C++ type name.")
      .def(
          "check_stub",
          [](const PyConnection& self, std::uint64_t layout_hash,
             const std::vector<std::tuple<std::string, std::string, std::string, std::uint64_t>>&
                 functions,
             const std::string& source) {
            std::vector<StubFunction> expected;
            expected.reserve(functions.size());
            for (const auto& [name, signature, layout, hash] : functions) {
              expected.push_back({name, signature, layout, hash});
            }
            const Connection& connection = self.first();
            check_stub(connection.schema(), connection.server_name(), source, layout_hash,
                       expected);
          },
          py::arg("layout_hash"), py::arg("functions"), py::arg("source"),
          "shmrpc::check_stub against this server: functions are (name, signature, layout, "
          "signature_hash) tuples.")
      .def("owns", &PyConnection::owns, py::arg("array"),
           "True when the array's data lies in this client's shared memory (a slot's heap or a "
           "buffer it holds).")
      .def("set_timeout", &PyConnection::set_timeout, py::arg("timeout"))
      .def(
          "call_cancellable",
          [](PyConnection& self, std::size_t index, const py::tuple& args,
             const CancelToken& token) {
            // The token is held for the call; check_signals looks at it on this thread.
            const CancelScope scope(token);
            return self.call(index, args);
          },
          py::arg("index"), py::arg("args"), py::arg("token"),
          "Connection.call that `token.cancel()` abandons from another thread.")
      .def("stream", &PyConnection::stream, py::arg("index"), py::arg("args"),
           "Starts the streaming function `index` with `args` (a tuple): a Stream of its elements.")
      .def("close", &PyConnection::close)
      .def_property_readonly("closed", &PyConnection::closed)
      .def_property_readonly("server_name",
                             [](const PyConnection& self) { return self.first().server_name(); })
      .def_property_readonly("server_pid",
                             [](const PyConnection& self) { return self.first().server().pid; })
      .def_property_readonly(
          "channel", [](const PyConnection& self) { return self.first().channel(); },
          "The channel of the first call slot, the one a single thread's calls use.")
      .def_property_readonly(
          "slots", [](const PyConnection& self) { return self.slots()->slots(); },
          "Call slots claimed so far.")
      .def_property_readonly(
          "max_slots", [](const PyConnection& self) { return self.slots()->max_slots(); },
          "The most call slots this client holds at once.")
      .def_property_readonly(
          "heap_address",
          [](const PyConnection& self) {
            return reinterpret_cast<std::uintptr_t>(self.first().heap());
          },
          "Where the first slot's channel heap is mapped in this process.")
      .def_property_readonly("heap_size",
                             [](const PyConnection& self) { return self.first().heap_size(); })
      .def_property_readonly(
          "heap_free", [](const PyConnection& self) { return self.first().heap_free_bytes(); },
          "Bytes of the first slot's channel heap not in use.")
      .def_property_readonly(
          "buffers_mapped", [](const PyConnection& self) { return self.first().mapped_buffers(); },
          "Buffer segments this client has mapped.");
}

}  // namespace shmrpc::python
