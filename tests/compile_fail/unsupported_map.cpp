// Must not compile: std::unordered_map is not a wire type (std::map is).
// Expected: "shmrpc: unsupported type".
#include <unordered_map>

#include "shmrpc/server.hpp"

int main() {
  shmrpc::Server server("compile-fail");
  server.def("count", [](const std::unordered_map<int, int>& m) { return m.size(); });
}
