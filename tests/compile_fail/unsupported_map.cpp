// Must not compile: std::map is not a wire type.
// Expected: "shmrpc: unsupported type".
#include <map>

#include "shmrpc/server.hpp"

int main() {
  shmrpc::Server server("compile-fail");
  server.def("count", [](std::map<int, int> m) { return static_cast<int>(m.size()); });
}
