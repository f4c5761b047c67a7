// A call with a float64 array of 1 KiB, 1 MiB, 16 MiB and 256 MiB through shmrpc: the array
// already in shared memory (Client::zeros, nothing copied) and an ordinary std::vector (copied
// into the channel heap once per call); the function takes a span and returns its length, so
// the figures are what moving the array costs. Next to them, in the same run: the null call and
// a memcpy of the same bytes in this process (the bound for a copied-in array).
//
//   array_call [--iterations N] [--smoke] [--max-bytes N]   (one JSON line per case, harness.hpp)

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "bench_server.hpp"
#include "harness.hpp"
#include "shmrpc/shmrpc.hpp"

namespace {

// The arena must hold the largest array, plus the frame and the allocator's headers.
std::uint64_t arena_for(std::uint64_t largest) {
  return largest + (std::uint64_t{1} << 20);
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv, 20000);
  bench::pin_to(0);
  const std::vector<std::uint64_t> sizes = bench::payload_sizes(options);
  shmrpc::ServerOptions server_options;
  server_options.channels = 1;
  server_options.arena_size = arena_for(sizes.empty() ? 0 : sizes.back());
  server_options.spin = std::chrono::milliseconds(1);
  const bench::BenchServer server("array", server_options);
  shmrpc::Client client(server.name(), bench::client_options(true));
  auto add = client.function<std::int64_t(std::int64_t, std::int64_t)>("add");
  auto length = client.function<std::int64_t(std::span<const double>)>("length");

  std::int64_t sum = 0;
  bench::report({"shmrpc null call, spinning (array server)", "shmrpc"}, options.iterations,
                bench::measure(options.iterations, [&] { sum = add(sum, 1); }));
  for (const std::uint64_t bytes : sizes) {
    const int n = bench::iterations_for(options, bytes);
    const std::size_t count = bytes / sizeof(double);
    {
      // Nothing moves, so this case gets every iteration whatever the size.
      const auto shared = client.zeros<double>(count);
      bench::report({"shmrpc array, in shared memory", "shmrpc", bytes}, options.iterations,
                    bench::measure(options.iterations, [&] { sum += length(shared.span()); }));
    }
    const std::vector<double> ordinary(count, 1.0);
    bench::report({"shmrpc array, copied in", "shmrpc copied", bytes}, n,
                  bench::measure(n, [&] { sum += length(ordinary); }));
    std::vector<double> target(count);
    bench::report({"memcpy in this process", "memcpy", bytes}, n, bench::measure(n, [&] {
                    std::memcpy(target.data(), ordinary.data(), bytes);
                    sum += static_cast<std::int64_t>(target[count / 2]);
                  }));
  }
  return sum == 0 ? 1 : 0;  // uses sum, so that no call is optimised away
}
