#pragma once
/// A call's result as a Python object: None, a fixed-size value decoded by values.hpp, or a value
/// with parts outside its slot (docs/SPEC.md, section 6.7): str, a numpy array left where the
/// server put it (vectors of fixed elements, ndarrays: zero copy), list, dict, and optionals and
/// tuples of those.

#include <pybind11/pybind11.h>

#include <memory>

#include "numpy_types.hpp"
#include "shmrpc/dynamic_call.hpp"

namespace shmrpc::python {

/// The result of the executed `call` on `connection`. Arrays keep the heap block or buffer they
/// lie in, which is freed when Python drops the last array over it. Needs the GIL.
pybind11::object take_result(DynamicCall& call, const std::shared_ptr<Connection>& connection,
                             TypeMapper& types);

}  // namespace shmrpc::python
