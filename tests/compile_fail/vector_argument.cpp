// Must not compile: std::vector is only a result type; arguments are std::span<const T>.
// Expected: "std::vector and ResultArray are result types".
#include <vector>

#include "shmrpc/server.hpp"

int main() {
  shmrpc::Server server("compile-fail");
  server.def("sum", [](std::vector<double> v) { return v.empty() ? 0.0 : v[0]; });
}
