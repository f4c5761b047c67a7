#pragma once
// The shmrpc server every shmrpc benchmark calls: a forked process, pinned to CPU 1, serving
//   add(a: int64, b: int64) -> int64            the null call
//   length(values: span<const float64>) -> int64  an array call that does not read the array:
//                                                 what the transport costs, nothing else
//   filled(count: uint64) -> vector<float64>    a large result: a std::vector of `count` ones,
//                                                 which shmrpc copies into a buffer it makes
//   filled_in_place(count: uint64) -> vector<float64>  the same, filled in place in a buffer
//                                                 (ResultArray): nothing copied
//   sequence(n: int64) -> stream<int64>         0, 1, ..., n - 1: small elements, next to n
//                                                 null calls
//   arrays_in_place(n: int64, count: uint64) -> stream<array<float64>>  n arrays of `count`
//                                                 ones, each filled in place in a buffer
// The same work as the baselines' servers do (bench/README.md). bench_server_main.cpp serves the
// same functions as a program of its own, for the Python cases.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "harness.hpp"
#include "shmrpc/result_array.hpp"
#include "shmrpc/shmrpc.hpp"

namespace bench {

/// What filled() and filled_in_place() put in every element.
inline constexpr double kFillValue = 1.0;

/// Registers the benchmark functions (above) on `server`.
inline void define_functions(shmrpc::Server& server) {
  server.def("add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"})
      .def("length",
           [](std::span<const double> values) { return static_cast<std::int64_t>(values.size()); },
           {"values"})
      .def("filled", [](std::uint64_t count) { return std::vector<double>(count, kFillValue); },
           {"count"})
      .def("filled_in_place",
           [](std::uint64_t count) {
             shmrpc::ResultArray<double> out(count);
             std::fill(out.begin(), out.end(), kFillValue);
             return out;
           },
           {"count"})
      .def("halves_in_place",
           [](std::uint64_t count) {
             // Two arrays out of one call (a nested result), as many bytes as filled_in_place.
             shmrpc::ResultArray<double> first(count / 2);
             shmrpc::ResultArray<double> second(count - count / 2);
             std::fill(first.begin(), first.end(), kFillValue);
             std::fill(second.begin(), second.end(), kFillValue);
             return std::tuple(std::move(first), std::move(second));
           },
           {"count"})
      .def("sequence",
           [](shmrpc::Stream<std::int64_t>& out, std::int64_t n) {
             for (std::int64_t i = 0; i < n; ++i) {
               out.write(i);
             }
           },
           {"n"})
      .def("arrays_in_place",
           [](shmrpc::Stream<shmrpc::ResultArray<double>>& out, std::int64_t n,
              std::uint64_t count) {
             for (std::int64_t i = 0; i < n; ++i) {
               shmrpc::ResultArray<double> array(count);
               std::fill(array.begin(), array.end(), kFillValue);
               out.write(array);
             }
           },
           {"n", "count"});
}

/// A forked shmrpc server named uniquely after this process and `tag`; stopped (SIGTERM, the
/// server removes its segment) when the object goes.
class BenchServer {
 public:
  BenchServer(const std::string& tag, shmrpc::ServerOptions options)
      : name_("bench-" + tag + "-" + std::to_string(getpid())), peer_([this, options] {
          shmrpc::Server server(name_, options);
          define_functions(server);
          server.run({.stop_on_signals = true});
        }) {
    while (shmrpc::probe_server(name_).liveness != shmrpc::Liveness::kAlive) {
      usleep(1000);
    }
  }
  BenchServer(const BenchServer&) = delete;
  BenchServer& operator=(const BenchServer&) = delete;
  ~BenchServer() { peer_.stop(SIGTERM); }

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  Peer peer_;
};

/// Client options of the spinning (default spin) or the blocking (always sleep) mode.
inline shmrpc::ClientOptions client_options(bool spinning) {
  shmrpc::ClientOptions options;
  options.spin = spinning ? std::chrono::nanoseconds(std::chrono::milliseconds(1))
                          : std::chrono::nanoseconds(0);
  options.connect_timeout = std::chrono::seconds(10);
  return options;
}

}  // namespace bench
