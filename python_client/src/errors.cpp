#include "errors.hpp"

#include <exception>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "shmrpc/errors.hpp"

namespace py = pybind11;

namespace shmrpc::python {
namespace {

// The class is looked up when an error is raised, not cached: no Python object outlives the
// interpreter in a static, and errors are not the fast path.
py::object error_class(const char* name) {
  return py::module_::import("shmrpc._errors").attr(name);
}

void raise(const char* name, const std::exception& error) {
  PyErr_SetString(error_class(name).ptr(), error.what());
}

void raise_remote(const RemoteError& error) {
  const py::object type = error_class("RemoteError");
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

}  // namespace

void register_error_translator() {
  py::register_local_exception_translator([](std::exception_ptr thrown) {
    try {
      std::rethrow_exception(std::move(thrown));
    } catch (const RemoteError& error) {
      raise_remote(error);
    } catch (const ServerGoneError& error) {
      raise("ServerGoneError", error);
    } catch (const TimeoutError& error) {
      raise("TimeoutError", error);
    } catch (const NoServerError& error) {
      raise("NoServerError", error);
    } catch (const ChannelsBusyError& error) {
      raise("ChannelsBusyError", error);
    } catch (const ProtocolError& error) {
      raise("ProtocolError", error);
    } catch (const Error& error) {
      raise("Error", error);
    } catch (const std::system_error& error) {
      raise_os_error(error);
    } catch (const std::out_of_range& error) {
      PyErr_SetString(PyExc_OverflowError, error.what());
    } catch (const std::length_error& error) {
      PyErr_SetString(PyExc_MemoryError, error.what());
    }
    // Anything else falls through to pybind11's own translators.
  });
}

}  // namespace shmrpc::python
