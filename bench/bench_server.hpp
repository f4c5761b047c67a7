#pragma once
// The shmrpc server every shmrpc benchmark calls: a forked process, pinned to CPU 1, serving
//   add(a: int64, b: int64) -> int64            the null call
//   length(values: span<const float64>) -> int64  an array call that does not read the array:
//                                                 what the transport costs, nothing else
// The same work as the baselines' servers do (bench/README.md).

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "harness.hpp"
#include "shmrpc/shmrpc.hpp"

namespace bench {

/// A forked shmrpc server named uniquely after this process and `tag`; stopped (SIGTERM, the
/// server removes its segment) when the object goes.
class BenchServer {
 public:
  BenchServer(const std::string& tag, shmrpc::ServerOptions options)
      : name_("bench-" + tag + "-" + std::to_string(getpid())), peer_([this, options] {
          shmrpc::Server server(name_, options);
          server.def("add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"})
              .def("length",
                   [](std::span<const double> values) {
                     return static_cast<std::int64_t>(values.size());
                   },
                   {"values"});
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
