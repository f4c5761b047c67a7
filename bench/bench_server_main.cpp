// The benchmark server as a program of its own, for the Python cases (py_shmrpc.py): serves
// the functions of bench_server.hpp until SIGTERM or SIGINT. Every case runs it with the default
// ServerOptions but for the spin; --arena is there for trying other heap sizes by hand.
//
//   bench_server NAME [--arena BYTES] [--spin-ns NS] [--channels N]

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "bench_server.hpp"
#include "shmrpc/shmrpc.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_server NAME [--arena BYTES] [--spin-ns NS] [--channels N]\n");
    return 2;
  }
  shmrpc::ServerOptions options;
  options.channels = 2;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::uint64_t value = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--arena") {
      options.arena_size = value;
    } else if (flag == "--channels") {
      options.channels = static_cast<std::uint32_t>(value);
    } else if (flag == "--spin-ns") {
      options.spin = std::chrono::nanoseconds(value);
    } else {
      std::fprintf(stderr, "bench_server: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  try {
    shmrpc::Server server(argv[1], options);
    bench::define_functions(server);
    server.run({.stop_on_signals = true});
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_server: %s\n", error.what());
    return 1;
  }
  return 0;
}
