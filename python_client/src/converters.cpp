#include "converters.hpp"

#include <stdexcept>

namespace py = pybind11;

namespace shmrpc::python {
namespace {

// Strong references, released only when other converters replace them: a static py::object
// would be released after the interpreter has finalized.
struct Converters {
  py::handle argument_array;
  py::handle structured_array;
};

Converters& converters() {
  static Converters installed;
  return installed;
}

py::handle installed(py::handle converter) {
  if (!converter) {
    throw std::runtime_error(
        "shmrpc._core: no array converters are installed; import shmrpc, which installs them");
  }
  return converter;
}

void replace(py::handle& slot, const py::object& converter) {
  const py::handle old = slot;
  slot = converter.inc_ref();
  old.dec_ref();
}

}  // namespace

py::handle argument_array_converter() {
  return installed(converters().argument_array);
}

py::handle structured_array_converter() {
  return installed(converters().structured_array);
}

void bind_converters(py::module_& module) {
  module.def(
      "_install_converters",
      [](const py::function& argument_array, const py::function& structured_array) {
        replace(converters().argument_array, argument_array);
        replace(converters().structured_array, structured_array);
      },
      py::arg("argument_array"), py::arg("structured_array"),
      "Sets the functions that convert array-like arguments (shmrpc._convert's argument_array "
      "and structured_array); the shmrpc package calls it when it is imported.");
}

}  // namespace shmrpc::python
