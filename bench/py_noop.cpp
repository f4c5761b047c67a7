// One pybind11 function of the same shape as the null call (two ints in, one out) and nothing
// else: the cost of a single pybind11 call, the baseline of the Python target in DESIGN.md.

#include <pybind11/pybind11.h>

#include <cstdint>

PYBIND11_MODULE(bench_noop, module) {
  module.def("add", [](std::int64_t a, std::int64_t b) { return a + b; });
}
