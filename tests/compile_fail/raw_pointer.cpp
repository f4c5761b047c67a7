// Must not compile: a raw pointer would point into the client's address space.
// Expected: "shmrpc: unsupported type".
#include <cstddef>

#include "shmrpc/server.hpp"

int main() {
  shmrpc::Server server("compile-fail");
  server.def("first", [](double* values) { return values[0]; });
}
