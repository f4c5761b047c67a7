// Arrays and results of 1 KiB, 1 MiB, 16 MiB, 256 MiB and 1 GiB of float64 through shmrpc, against
// a server with the default heap (ServerOptions{}: 1 MiB per channel), so that every value over
// the client's inline limit (64 KiB) crosses in a buffer segment (docs/SPEC.md, section 6.6):
//
//   in shared memory  Client::zeros, made once, passed to length() again and again: nothing moves
//   copied in         an ordinary std::vector, copied into the connection's scratch buffer on each
//                     call; the first call makes that buffer (reported on its own), the rest reuse
//                     it (the steady state the median shows)
//   new buffer        Client::zeros of a new array, then passed once: the first call of a buffer
//                     (the server makes it; nothing touches its pages), and the same with every
//                     page written once by the client before the call
//   result            filled(count): a std::vector<double> result, which the server copies into a
//                     buffer it makes; received as a std::vector (copied out once) or kept as a
//                     SharedArray (not copied); filled_in_place(count): a ResultArray the server
//                     fills in place, kept as a SharedArray (nothing copied);
//                     halves_in_place(count): the same bytes as two ResultArrays in a tuple (a
//                     nested result), kept
//
// Next to them, in this process and in the same interleaved rounds (harness.hpp, measure_rounds):
// the null call, memcpy of the same bytes, making the same bytes of shared memory (an O_TMPFILE
// file in /dev/shm, posix_fallocate, mmap, one byte written per page) and filling a std::vector of
// them (what filled() itself does). Cases that keep memory leave its release out of their time.
//
//   array_call [--iterations N] [--smoke] [--max-bytes N]   (one JSON line per case, harness.hpp)

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "bench_server.hpp"
#include "harness.hpp"
#include "shmrpc/shmrpc.hpp"

namespace {

constexpr std::size_t kPage = 4096;

// A failed syscall in a benchmark is a broken setup, not a figure: say which and stop.
[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// Makes `bytes` of shared memory the way a server makes a buffer, in this process: an unnamed
// file in /dev/shm, its blocks allocated, mapped, and every page written once. Returns the time of
// that; unmapping and closing (the release) are not in it.
double make_and_touch(std::uint64_t bytes) {
  const auto start = bench::Clock::now();
  const int fd = open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(bytes)) != 0 ||
      posix_fallocate(fd, 0, static_cast<off_t>(bytes)) != 0) {
    die("make_and_touch: /dev/shm");
  }
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (memory == MAP_FAILED) {
    die("make_and_touch: mmap");
  }
  auto* bytes_at = static_cast<volatile unsigned char*>(memory);
  for (std::uint64_t offset = 0; offset < bytes; offset += kPage) {
    bytes_at[offset] = 1;
  }
  const double ns = std::chrono::duration<double, std::nano>(bench::Clock::now() - start).count();
  munmap(memory, bytes);
  close(fd);
  return ns;
}

// Writes one byte of every page of `values`.
void touch_pages(std::span<double> values) {
  auto* bytes_at = reinterpret_cast<volatile unsigned char*>(values.data());
  for (std::size_t offset = 0; offset < values.size_bytes(); offset += kPage) {
    bytes_at[offset] = 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv, 20000);
  bench::pin_to(0);
  const std::vector<std::uint64_t> sizes = bench::payload_sizes(options);
  shmrpc::ServerOptions server_options;  // the default heap: large values go into buffers
  server_options.channels = 1;
  server_options.spin = std::chrono::milliseconds(1);
  const bench::BenchServer server("array", server_options);
  shmrpc::Client client(server.name(), bench::client_options(true));
  auto add = client.function<std::int64_t(std::int64_t, std::int64_t)>("add");
  auto length = client.function<std::int64_t(std::span<const double>)>("length");
  auto filled = client.function<std::vector<double>(std::uint64_t)>("filled");
  auto filled_kept = client.function<shmrpc::SharedArray<double>(std::uint64_t)>("filled");
  auto in_place = client.function<shmrpc::SharedArray<double>(std::uint64_t)>("filled_in_place");
  using Halves = std::tuple<shmrpc::SharedArray<double>, shmrpc::SharedArray<double>>;
  auto halves = client.function<Halves(std::uint64_t)>("halves_in_place");
  const bench::RoundCase null_case{options.iterations, bench::timed([&] { (void)add(1, 2); })};
  // Gives the buffers dropped since the last call back to the server (the client does that at the
  // start of its next call), outside the time of the case that dropped them.
  const auto settle = [&] { (void)add(0, 0); };

  std::int64_t sum = 0;
  bench::report({"shmrpc null call, spinning (array server)", "shmrpc"}, options.iterations,
                bench::measure(options.iterations, [&] { sum = add(sum, 1); }));
  for (const std::uint64_t bytes : sizes) {
    const int n = bench::iterations_for(options, bytes);
    const std::size_t count = bytes / sizeof(double);
    {
      const auto shared = client.zeros<double>(count);
      const std::vector<double> ordinary(count, 1.0);
      std::vector<double> target(count);
      const double first_copy = bench::time_once([&] { sum += length(ordinary); });
      // Nothing moves in the shared case, so it gets every iteration whatever the size.
      const bench::Rounds rounds = bench::measure_rounds(
          bench::kRounds,
          {null_case,
           {options.iterations, bench::timed([&] { sum += length(shared.span()); })},
           {n, bench::timed([&] { sum += length(ordinary); })},
           {n, bench::timed([&] {
              std::memcpy(target.data(), ordinary.data(), bytes);
              sum += static_cast<std::int64_t>(target[count / 2]);
            })}});
      bench::report({"shmrpc array, in shared memory", "shmrpc", bytes}, options.iterations,
                    rounds.figures[1], bench::RoundRatio{"null call", rounds.ratio(1, 0)});
      bench::report(
          {"shmrpc array, copied in (steady state: scratch buffer reused)", "shmrpc copied", bytes},
          n, rounds.figures[2],
          bench::RoundRatio{"memcpy bandwidth (copy = call - null call)",
                            rounds.median_over_rounds([](const std::vector<double>& m) {
                              return m[3] / std::max(m[2] - m[0], 1.0);
                            })});
      bench::report({"shmrpc array, copied in, first call (makes the scratch buffer)",
                     "shmrpc first call", bytes},
                    1, {first_copy, first_copy});
      bench::report({"memcpy in this process", "memcpy", bytes}, n, rounds.figures[3]);
    }
    {
      const bench::Rounds rounds = bench::measure_rounds(
          bench::kRounds, {{n,
                            [&] {
                              const auto start = bench::Clock::now();
                              shmrpc::SharedArray<double> fresh = client.zeros<double>(count);
                              sum += length(fresh.span());
                              const auto end = bench::Clock::now();
                              { const auto dropped = std::move(fresh); }
                              settle();
                              return std::chrono::duration<double, std::nano>(end - start).count();
                            }},
                           {n,
                            [&] {
                              const auto start = bench::Clock::now();
                              shmrpc::SharedArray<double> fresh = client.zeros<double>(count);
                              touch_pages(fresh.span());
                              sum += length(fresh.span());
                              const auto end = bench::Clock::now();
                              { const auto dropped = std::move(fresh); }
                              settle();
                              return std::chrono::duration<double, std::nano>(end - start).count();
                            }},
                           {n, [&] { return make_and_touch(bytes); }}});
      const std::string base = "making and touching the bytes in one process";
      bench::report({"shmrpc new buffer (zeros), first call", "shmrpc first call", bytes}, n,
                    rounds.figures[0], bench::RoundRatio{base, rounds.ratio(0, 2)});
      bench::report(
          {"shmrpc new buffer (zeros), pages touched, first call", "shmrpc first call", bytes}, n,
          rounds.figures[1], bench::RoundRatio{base, rounds.ratio(1, 2)});
      bench::report({"O_TMPFILE + posix_fallocate + mmap + a byte per page, in this process",
                     "make shared memory", bytes},
                    n, rounds.figures[2]);
    }
    {
      // Each result case times the call until the result is in hand; dropping it (and giving
      // its buffer back) is left out. The fill in this process includes freeing the vector, as
      // the server frees its own after copying it into the buffer.
      const auto kept_case = [&](auto& function) {
        return bench::RoundCase{
            n, [&] {
              const auto start = bench::Clock::now();
              shmrpc::SharedArray<double> result = function(count);
              const auto end = bench::Clock::now();
              sum += static_cast<std::int64_t>(result.size());
              { const auto dropped = std::move(result); }
              settle();
              return std::chrono::duration<double, std::nano>(end - start).count();
            }};
      };
      const bench::Rounds rounds = bench::measure_rounds(
          bench::kRounds, {null_case,
                           {n,
                            [&] {
                              const auto start = bench::Clock::now();
                              std::optional<std::vector<double>> result(filled(count));
                              const auto end = bench::Clock::now();
                              sum += static_cast<std::int64_t>(result->size());
                              result.reset();
                              settle();
                              return std::chrono::duration<double, std::nano>(end - start).count();
                            }},
                           kept_case(filled_kept),
                           kept_case(in_place),
                           {n, bench::timed([&] {
                              const std::vector<double> values(count, bench::kFillValue);
                              sum += static_cast<std::int64_t>(values[count / 2]);
                            })},
                           {n, [&] {
                              const auto start = bench::Clock::now();
                              Halves result = halves(count);
                              const auto end = bench::Clock::now();
                              sum += static_cast<std::int64_t>(std::get<1>(result).size());
                              { const auto dropped = std::move(result); }
                              settle();
                              return std::chrono::duration<double, std::nano>(end - start).count();
                            }}});
      const std::string base = "null call + filling the std::vector in one process";
      const auto over_work = [&](std::size_t number) {
        return bench::RoundRatio{base,
                                 rounds.median_over_rounds([number](const std::vector<double>& m) {
                                   return m[number] / (m[0] + m[4]);
                                 })};
      };
      bench::report({"shmrpc result std::vector, received as std::vector (copied out)",
                     "shmrpc result", bytes},
                    n, rounds.figures[1], over_work(1));
      bench::report(
          {"shmrpc result std::vector, kept as SharedArray (no copy out)", "shmrpc result", bytes},
          n, rounds.figures[2], over_work(2));
      bench::report({"shmrpc result ResultArray (filled in place), kept as SharedArray",
                     "shmrpc result", bytes},
                    n, rounds.figures[3], over_work(3));
      bench::report(
          {"std::vector of the result's bytes filled in this process", "fill vector", bytes}, n,
          rounds.figures[4]);
      bench::report({"shmrpc result: two ResultArrays of half the bytes in a tuple, kept",
                     "shmrpc nested result", bytes},
                    n, rounds.figures[5],
                    bench::RoundRatio{"one ResultArray of the same bytes", rounds.ratio(5, 3)});
    }
  }
  return sum == 0 ? 1 : 0;  // uses sum, so that no call is optimised away
}
