#pragma once
/// The conversions of array-like arguments that _core cannot pass as they are, written in Python
/// with numpy (shmrpc/_convert.py). The shmrpc package hands them to _core when it is imported,
/// through _core._install_converters, so that _core imports no module of the package.

#include <pybind11/pybind11.h>

namespace shmrpc::python {

/// `argument_array(value, dtype, shape, mutable, where)`: a C-contiguous array of `dtype` and
/// `shape` (a tuple, None for any length) for an argument of span<T>, span<const T> or
/// std::array of numbers; raises TypeError or OverflowError for what does not convert without
/// losing values. RuntimeError when no converters are installed.
pybind11::handle argument_array_converter();

/// `structured_array(value, dtype, where)`: a one-dimensional array of the struct dtype `dtype`
/// from an array of another structured dtype with the same field names. RuntimeError when no
/// converters are installed.
pybind11::handle structured_array_converter();

/// Adds _install_converters(argument_array, structured_array) to `module`.
void bind_converters(pybind11::module_& module);

}  // namespace shmrpc::python
