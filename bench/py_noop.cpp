// Calls of the same shape as the null call (two ints in, one out) that do nothing else: one
// through pybind11 (`add`) and one bare CPython METH_FASTCALL function (`add_fastcall`), the
// least a C extension call can cost. The baselines of the Python targets in DESIGN.md.

#include <Python.h>
#include <pybind11/pybind11.h>

#include <array>
#include <cstdint>

namespace {

// add(a, b) with the arguments as CPython passes them to METH_FASTCALL: an array, no tuple.
PyObject* add_fastcall(PyObject* /*module*/, PyObject* const* args, Py_ssize_t count) {
  if (count != 2) {
    PyErr_SetString(PyExc_TypeError, "add_fastcall() takes 2 arguments");
    return nullptr;
  }
  const long long a = PyLong_AsLongLong(args[0]);
  const long long b = PyLong_AsLongLong(args[1]);
  if ((a == -1 || b == -1) && PyErr_Occurred() != nullptr) {
    return nullptr;
  }
  return PyLong_FromLongLong(a + b);
}

std::array<PyMethodDef, 2> methods{{
    {"add_fastcall", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(add_fastcall)),
     METH_FASTCALL, "a + b, as a bare METH_FASTCALL function"},
    {nullptr, nullptr, 0, nullptr},
}};

}  // namespace

PYBIND11_MODULE(bench_noop, module) {
  module.def("add", [](std::int64_t a, std::int64_t b) { return a + b; });
  if (PyModule_AddFunctions(module.ptr(), methods.data()) != 0) {
    throw pybind11::error_already_set();
  }
}
