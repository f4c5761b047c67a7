// Must not compile: a vector result holds fixed-size elements only.
// Expected: "shmrpc: unsupported type".
#include <string>
#include <vector>

#include "shmrpc/server.hpp"

int main() {
  shmrpc::Server server("compile-fail");
  server.def("names", []() { return std::vector<std::string>{"a", "b"}; });
}
