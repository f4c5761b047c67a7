// shmrpc._core: the bindings under the shmrpc Python package. Only translation between Python
// and the C++ client lives here; the package (python_client/shmrpc) adds the Python API.

#include <pybind11/pybind11.h>

#include "converters.hpp"
#include "errors.hpp"
#include "heap_block.hpp"
#include "inspect.hpp"
#include "py_connection.hpp"
#include "py_stream.hpp"

PYBIND11_MODULE(_core, module) {
  module.doc() = "Bindings of the shmrpc C++ client; use the shmrpc package, not this module.";
  shmrpc::python::bind_errors(module);
  shmrpc::python::bind_heap_block(module);
  shmrpc::python::bind_stream(module);
  shmrpc::python::bind_connection(module);
  shmrpc::python::bind_converters(module);
  shmrpc::python::bind_inspect(module);
}
