// Must not compile: a CallContext parameter after the arguments; it must come first.
// Expected: "a CallContext parameter must be the first one".
#include <cstdint>

#include "shmrpc/server.hpp"

int main() {
  shmrpc::Server server("compile-fail");
  server.def("late", [](std::int32_t x, const shmrpc::CallContext& call) {
    return call.cancelled() ? 0 : x;
  });
}
