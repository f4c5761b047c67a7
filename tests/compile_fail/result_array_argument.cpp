// Must not compile: ResultArray is only a result type; arguments are std::span<const T> or
// std::vector<T>. Expected: "ResultArray is a result type".
#include "shmrpc/result_array.hpp"
#include "shmrpc/server.hpp"

int main() {
  shmrpc::Server server("compile-fail");
  server.def("sum", [](const shmrpc::ResultArray<double>& v) { return v.size(); });
}
