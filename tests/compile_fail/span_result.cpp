// Must not compile: a returned span would point into server memory.
// Expected: "returns std::vector<T> or std::string, not a view".
#include <span>

#include "shmrpc/server.hpp"

int main() {
  shmrpc::Server server("compile-fail");
  server.def("view", [](std::span<const double> v) { return v; });
}
