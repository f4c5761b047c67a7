// Must not compile: a returned string_view would point into server memory.
// Expected: "returns std::vector<T> or std::string, not a view".
#include <string_view>

#include "shmrpc/server.hpp"

int main() {
  shmrpc::Server server("compile-fail");
  server.def("name", []() { return std::string_view("server"); });
}
