#pragma once
/// shmrpc._core functions behind the `shmrpc` command line: segment listing, read-only
/// inspection, call statistics, schema JSON and removal of dead servers' segments
/// (shmrpc/inspect.hpp, shmrpc/schema_json.hpp).

#include <pybind11/pybind11.h>

namespace shmrpc::python {

void bind_inspect(pybind11::module_& module);

}  // namespace shmrpc::python
