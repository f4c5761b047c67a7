// Two versions of one small server, for the tests of stubs used against a changed server:
// built twice, with SHMRPC_CODEGEN_VERSION 1 and 2. Version 2 adds an argument to `add` and
// narrows the fields of shapes::Point (same signature text, another layout); `greet` stays.
//
//   shmrpc_codegen_server_v1 NAME              serves until SIGINT/SIGTERM
//   shmrpc_codegen_server_v1 --schema FILE     writes the JSON schema of server "shapes"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "shmrpc/reflect.hpp"
#include "shmrpc/schema_json.hpp"
#include "shmrpc/server.hpp"

namespace shapes {

#if SHMRPC_CODEGEN_VERSION == 1
struct Point {
  double x;
  double y;
};
#else
struct Point {
  float x;
  float y;
};
#endif
SHMRPC_FIELDS(Point, x, y);

}  // namespace shapes

namespace {

void define_functions(shmrpc::Server& server) {
#if SHMRPC_CODEGEN_VERSION == 1
  server.def(
      "add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"}, "a + b");
#else
  server.def(
      "add", [](std::int64_t a, std::int64_t b, std::int64_t c) { return a + b + c; },
      {"a", "b", "c"}, "a + b + c");
#endif
  server.def(
      "norm", [](const shapes::Point& p) { return std::hypot(double{p.x}, double{p.y}); }, {"p"},
      "Length of p.");
  server.def(
      "greet", [](std::string_view name) { return "Hello, " + std::string(name) + "!"; }, {"name"},
      "A greeting.");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view first = argc > 1 ? argv[1] : "";
  try {
    if (first == "--schema" && argc == 3) {
      shmrpc::Server server("shapes");
      define_functions(server);
      std::ofstream out(argv[2], std::ios::binary);
      out << shmrpc::schema_json(server.registry(), "shapes");
      return out ? 0 : 1;
    }
    if (argc != 2 || first.starts_with("-")) {
      std::cerr << "usage: " << argv[0] << " NAME | --schema FILE\n";
      return 2;
    }
    shmrpc::Server server{std::string(first)};
    define_functions(server);
    server.run({.stop_on_signals = true});
  } catch (const std::exception& error) {
    std::cerr << argv[0] << ": " << error.what() << "\n";
    return 1;
  }
  return 0;
}
