// The control: every supported kind of parameter and result compiles, so a failure of the tests
// beside this one comes from the unsupported type, not from the harness.
#include <array>
#include <complex>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "shmrpc/server.hpp"

namespace {
enum class Side : std::uint8_t { kBuy, kSell };
SHMRPC_ENUM(Side, kBuy, kSell);

struct Particle {
  std::array<double, 3> pos;
  float mass;
};
SHMRPC_FIELDS(Particle, pos, mass);

struct Unnamed {
  Particle particle;
  Side side;
  std::complex<float> phase;
};

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
      .def("counting", [calls = 0](std::int32_t step) mutable { return calls += step; })
      .def("step", [](std::span<Particle> p, Side s) { return std::optional<Side>(s); })
      .def("nested", [](const Unnamed& u) { return std::vector<Unnamed>{u}; })
      .def("pair", [](std::optional<double> d) { return std::pair<double, Side>(*d, Side{}); })
      .def("tuple", [](std::tuple<std::int8_t, Particle> t) { return t; })
      .def("words", [](const std::vector<std::string>& w) { return w; })
      .def("counts", [](const std::map<std::string, std::vector<std::int32_t>>& m) { return m; })
      .def("maybe", [](std::optional<std::string> s) { return std::tuple(s, std::vector{1.0}); })
      .def("context",
           [](shmrpc::CallContext& call, std::int32_t x) { return call.cancelled() ? 0 : x; })
      .def("const_context", [](const shmrpc::CallContext& call) { return call.caller_pid(); });
}
