#pragma once
/// A call's result as a Python object: None, str, a numpy array left in the channel heap
/// (std::vector, zero copy), or a fixed-size value decoded by values.hpp.

#include <pybind11/pybind11.h>

#include <memory>

#include "numpy_types.hpp"
#include "shmrpc/dynamic_call.hpp"

namespace shmrpc::python {

/// The result of the executed `call` on `connection`. A std::vector result keeps its heap block,
/// which the returned array frees when Python drops it. Needs the GIL.
pybind11::object take_result(DynamicCall& call, const std::shared_ptr<Connection>& connection,
                             TypeMapper& types);

}  // namespace shmrpc::python
