// Must not compile: a function returning a reference.
// Expected: "return values, not references".
#include <cstdint>

#include "shmrpc/server.hpp"

namespace {
std::int64_t counter = 0;
std::int64_t& count() {
  return ++counter;
}
}  // namespace

int main() {
  shmrpc::Server server("compile-fail");
  server.def("count", count);
}
