// Must not compile: std::vector<bool> packs its bits; a vector of bools does not cross.
// Expected: "shmrpc: unsupported type".
#include <vector>

#include "shmrpc/server.hpp"

int main() {
  shmrpc::Server server("compile-fail");
  server.def("flags", []() { return std::vector<bool>{true}; });
}
