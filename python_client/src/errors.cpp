#include "errors.hpp"

#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "shmrpc/errors.hpp"

namespace py = pybind11;

namespace shmrpc::python {
namespace {

// The exception classes, made once by bind_errors. The translator is a plain function, so it
// finds them here. They are strong references that are never released: a static py::object
// would be released after the interpreter has finalized.
struct ErrorClasses {
  py::handle error;
  py::handle remote;
  py::handle server_gone;
  py::handle timeout;
  py::handle no_server;
  py::handle channels_busy;
  py::handle protocol;
};

ErrorClasses& error_classes() {
  static ErrorClasses classes;
  return classes;
}

// A new exception class `name` of `module`, with `bases` (a class or a tuple of classes).
py::handle new_class(py::module_& module, const char* name, py::handle bases, const char* doc) {
  const std::string qualified = py::str(module.attr("__name__")).cast<std::string>() + "." + name;
  PyObject* created = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (created == nullptr) {
    throw py::error_already_set();
  }
  const py::handle cls(created);
  module.add_object(name, cls);
  return cls;
}

// RemoteError(message, function, remote_type, remote_message): the attributes that the C++
// RemoteError carries, and a __reduce__ that keeps them through pickle.
void add_remote_error_methods(py::handle remote) {
  remote.attr("__init__") = py::cpp_function(
      [remote](py::handle self, const py::object& message, const py::object& function,
               const py::object& remote_type, const py::object& remote_message) {
        const py::handle super(reinterpret_cast<PyObject*>(&PySuper_Type));
        super(remote, self).attr("__init__")(message);
        self.attr("function") = function;
        self.attr("remote_type") = remote_type;
        self.attr("remote_message") = remote_message;
      },
      py::is_method(remote), py::arg("message"), py::arg("function"), py::arg("remote_type"),
      py::arg("remote_message"));
  remote.attr("__reduce__") = py::cpp_function(
      [](py::handle self) {
        return py::make_tuple(
            py::type::handle_of(self),
            py::make_tuple(py::str(self), self.attr("function"), self.attr("remote_type"),
                           self.attr("remote_message")));
      },
      py::is_method(remote));
}

void raise(py::handle type, const std::exception& error) {
  PyErr_SetString(type.ptr(), error.what());
}

void raise_remote(const RemoteError& error) {
  const py::handle type = error_classes().remote;
  const py::object exception =
      type(error.what(), error.function(), error.remote_type(), error.remote_message());
  PyErr_SetObject(type.ptr(), exception.ptr());
}

// OSError(errno, message) constructs the subclass for that errno (PermissionError for EACCES,
// FileNotFoundError for ENOENT, ...), with errno and strerror set; the message is what() of the
// C++ error, which names the segment and the system's reason.
void raise_os_error(const std::system_error& error) {
  const std::error_code code = error.code();
  if (code.category() != std::generic_category() && code.category() != std::system_category()) {
    PyErr_SetString(PyExc_RuntimeError, error.what());
    return;
  }
  const py::object exception =
      py::reinterpret_borrow<py::object>(PyExc_OSError)(code.value(), error.what());
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception.ptr())), exception.ptr());
}

void translate(std::exception_ptr thrown) {
  const ErrorClasses& classes = error_classes();
  try {
    std::rethrow_exception(std::move(thrown));
  } catch (const RemoteError& error) {
    raise_remote(error);
  } catch (const ServerGoneError& error) {
    raise(classes.server_gone, error);
  } catch (const TimeoutError& error) {
    raise(classes.timeout, error);
  } catch (const NoServerError& error) {
    raise(classes.no_server, error);
  } catch (const ChannelsBusyError& error) {
    raise(classes.channels_busy, error);
  } catch (const ProtocolError& error) {
    raise(classes.protocol, error);
  } catch (const Error& error) {
    raise(classes.error, error);
  } catch (const std::system_error& error) {
    raise_os_error(error);
  } catch (const std::out_of_range& error) {
    PyErr_SetString(PyExc_OverflowError, error.what());
  } catch (const std::length_error& error) {
    PyErr_SetString(PyExc_MemoryError, error.what());
  } catch (const OutOfSharedMemoryError& error) {
    PyErr_SetString(PyExc_MemoryError, error.what());
  }
  // Anything else falls through to pybind11's own translators.
}

}  // namespace

void bind_errors(py::module_& module) {
  ErrorClasses& classes = error_classes();
  const py::handle connection_error(PyExc_ConnectionError);
  classes.error = new_class(
      module, "Error", PyExc_Exception,
      "Base of the errors shmrpc raises for a call or a connection that failed.\n"
      "\n"
      "Mistakes in the caller's own arguments are Python's usual errors instead: TypeError (wrong\n"
      "type, dtype, arity or keyword), OverflowError (an integer that does not fit its C++ type, "
      "a\n"
      "float that would become inf as a float32), UnicodeDecodeError (bytes for a string that are\n"
      "not UTF-8), MemoryError (/dev/shm, or the client's buffer quota, has no room for an array "
      "or\n"
      "a result). A segment that\n"
      "cannot be opened is the OSError for its errno (PermissionError for another user's).");
  classes.remote = new_class(
      module, "RemoteError", classes.error,
      "The server function raised a C++ exception.\n"
      "\n"
      "Attributes: ``function`` (its name), ``remote_type`` (the exception's C++ type as the "
      "server\n"
      "saw it, e.g. ``\"std::runtime_error\"``) and ``remote_message`` (its ``what()``).");
  add_remote_error_methods(classes.remote);
  classes.server_gone =
      new_class(module, "ServerGoneError", py::make_tuple(classes.error, connection_error),
                "The server died, was killed or stopped; the client cannot be used any more.");
  classes.timeout = new_class(
      module, "TimeoutError", py::make_tuple(classes.error, py::handle(PyExc_TimeoutError)),
      "A call did not finish within the client's timeout. The client stays usable: its next call\n"
      "first waits for the late call to finish.");
  classes.no_server =
      new_class(module, "NoServerError", py::make_tuple(classes.error, connection_error),
                "No server of that name is running (no segment, or one left by a dead server).");
  classes.channels_busy = new_class(
      module, "ChannelsBusyError", py::make_tuple(classes.error, connection_error),
      "Every channel of the server is taken by a live client (each thread of each client takes\n"
      "one).");
  classes.protocol =
      new_class(module, "ProtocolError", classes.error,
                "The segment or a reply is malformed, or was written by an incompatible version.");
  py::register_local_exception_translator(translate);
}

}  // namespace shmrpc::python
