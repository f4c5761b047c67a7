// Streams (docs/SPEC.md, section 7.8) against what a user would do without them, in interleaved
// rounds (the ratios are read per round: the VM is noisy), between this process (the client,
// CPU 0) and a forked shmrpc server (CPU 1), both spinning as in array_call:
//   small   one stream of n int64 (sequence(n), read through Function<StreamReader<int64>>),
//           n = 10,000, next to n sequential null calls add(a, b): elements/s against calls/s
//   arrays  one stream of k float64 arrays of 16 MiB (the largest payload up to --max-bytes;
//           1 KiB with --smoke) that the server fills in place in buffers it makes for the
//           client (arrays_in_place), kept as SharedArray (nothing copied), next to k memcpys of
//           the same bytes in this process, and k fills of a vector (the function's own work)
//
//   stream_call [--iterations N] [--smoke] [--max-bytes N]   (N streams per case, default 100)

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_server.hpp"
#include "harness.hpp"
#include "shmrpc/shmrpc.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "stream_call: %s\n", what);
  std::exit(1);
}

void small_elements(shmrpc::Client& client, const bench::Options& options) {
  auto add = client.function<std::int64_t(std::int64_t, std::int64_t)>("add");
  auto sequence = client.function<shmrpc::StreamReader<std::int64_t>(std::int64_t)>("sequence");
  const auto n = static_cast<std::int64_t>(bench::stream_elements(options));
  const bench::Rounds rounds =
      bench::measure_rounds(bench::kRounds, {{options.iterations, bench::timed([&] {
                                                std::int64_t sum = 0;
                                                for (const std::int64_t value : sequence(n)) {
                                                  sum += value;
                                                }
                                                if (sum != n * (n - 1) / 2) {
                                                  fail("sequence: wrong elements");
                                                }
                                              })},
                                             {options.iterations, bench::timed([&] {
                                                std::int64_t sum = 0;
                                                for (std::int64_t i = 0; i < n; ++i) {
                                                  sum = add(sum, 1);
                                                }
                                                if (sum != n) {
                                                  fail("add: wrong sum");
                                                }
                                              })}});
  const auto elements = static_cast<std::uint64_t>(n);
  bench::report_stream({"shmrpc stream of int64", "shmrpc stream", sizeof(std::int64_t)},
                       options.iterations, elements, rounds.figures[0],
                       bench::ratio_in_rounds(rounds, "as many sequential null calls",
                                              [](const auto& m) { return m[1] / m[0]; }));
  bench::report_stream(
      {"shmrpc sequential null calls (same rounds)", "shmrpc calls", sizeof(std::int64_t)},
      options.iterations, elements, rounds.figures[1]);
}

void large_arrays(shmrpc::Client& client, const bench::Options& options) {
  constexpr std::uint64_t kLargest = std::uint64_t{16} << 20;
  std::uint64_t bytes = 0;
  for (const std::uint64_t size : bench::payload_sizes(options)) {
    bytes = size <= kLargest ? size : bytes;
  }
  const bench::Case stream_case{"shmrpc stream of float64 arrays (in place, kept)", "shmrpc stream",
                                bytes};
  if (bytes == 0) {
    bench::report_skipped(stream_case, "--max-bytes is below the smallest array (1 KiB)");
    return;
  }
  auto arrays =
      client
          .function<shmrpc::StreamReader<shmrpc::SharedArray<double>>(std::int64_t, std::uint64_t)>(
              "arrays_in_place");
  const std::uint64_t count = bytes / sizeof(double);
  const std::int64_t k = options.smoke ? 4 : 16;
  const int streams = std::max(bench::kRounds, std::min(options.iterations, 20));
  const std::vector<double> source(count, bench::kFillValue);
  std::vector<double> target(count, 0.0);
  const bench::Rounds rounds = bench::measure_rounds(
      bench::kRounds,
      {{streams, bench::timed([&] {
          std::int64_t received = 0;
          for (const shmrpc::SharedArray<double>& array : arrays(k, count)) {
            // One element of each, not every byte: the array is the server's buffer, not a copy.
            received += array.size() == count && array[count - 1] == bench::kFillValue ? 1 : 0;
          }
          if (received != k) {
            fail("arrays_in_place: wrong arrays");
          }
        })},
       {streams, bench::timed([&] {
          for (std::int64_t i = 0; i < k; ++i) {
            std::memcpy(target.data(), source.data(), bytes);
          }
        })},
       {streams, bench::timed([&] {
          for (std::int64_t i = 0; i < k; ++i) {
            std::fill(target.begin(), target.end(), bench::kFillValue + static_cast<double>(i));
          }
        })}});
  const auto elements = static_cast<std::uint64_t>(k);
  bench::report_stream(stream_case, streams, elements, rounds.figures[0],
                       bench::ratio_in_rounds(rounds, "memcpy bandwidth, same bytes, one process",
                                              [](const auto& m) { return m[1] / m[0]; }));
  bench::report_stream({"memcpy of the arrays' bytes in one process", "memcpy", bytes}, streams,
                       elements, rounds.figures[1]);
  bench::report_stream({"filling the arrays' bytes in one process", "fill vector", bytes}, streams,
                       elements, rounds.figures[2],
                       bench::ratio_in_rounds(rounds, "the stream's time over this",
                                              [](const auto& m) { return m[0] / m[2]; }));
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv, 100);
  bench::pin_to(0);
  shmrpc::ServerOptions server_options;  // the default heap: large values go into buffers
  server_options.channels = 1;
  server_options.spin = std::chrono::milliseconds(1);
  const bench::BenchServer server("stream", server_options);
  shmrpc::Client client(server.name(), bench::client_options(true));
  small_elements(client, options);
  large_arrays(client, options);
  return 0;
}
