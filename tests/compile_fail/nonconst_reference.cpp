// Must not compile: an output parameter by reference; std::span<T> is the way to write in place.
// Expected: "non-const reference".
#include "shmrpc/server.hpp"

int main() {
  shmrpc::Server server("compile-fail");
  server.def("bump", [](int& x) { ++x; });
}
