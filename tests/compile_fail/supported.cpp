// The control: every supported kind of parameter and result compiles, so a failure of the tests
// beside this one comes from the unsupported type, not from the harness.
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmrpc/server.hpp"

namespace {
double scale(std::span<float> values, double factor) {
  for (float& value : values) {
    value = static_cast<float>(value * factor);
  }
  return factor;
}
}  // namespace

int main() {
  shmrpc::Server server("compile-fail");
  const std::int64_t offset = 1;
  server.def("noop", [] {})
      .def("add", [offset](std::int64_t a, std::int64_t b) { return a + b + offset; }, {"a", "b"})
      .def("flags", [](bool b, std::uint8_t u8, std::int16_t i16, std::uint32_t u32,
                       float f) { return b ? u8 + i16 + static_cast<double>(u32) + f : 0.0; })
      .def("matrix", [](const std::array<std::array<double, 2>, 2>& m) { return m; })
      .def("sum", [](std::span<const double> v) { return v.empty() ? 0.0 : v[0]; })
      .def("scale", scale)
      .def("greet", [](std::string_view name) { return std::string(name); })
      .def("upper", [](const std::string& text) { return text; })
      .def("iota",
           [](std::int32_t n) { return std::vector<std::int32_t>(static_cast<std::size_t>(n)); })
      .def("wrapped", std::function<std::int64_t(std::int64_t)>([](std::int64_t x) { return x; }))
      .def("counting", [calls = 0](std::int32_t step) mutable { return calls += step; });
}
