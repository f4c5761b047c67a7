// Null call (two int64 in, one out) through shmrpc, side by side with the physical limits of
// this machine measured in the same run: a raw shared-memory spin ping-pong and a raw futex
// ping-pong. Server and client are separate processes pinned to CPUs 1 and 0.
//
//   null_call [--iterations N] [--smoke]    (default 20000; one JSON line per case, harness.hpp)

#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <new>

#include "bench_server.hpp"
#include "harness.hpp"
#include "shmrpc/detail/futex.hpp"
#include "shmrpc/shmrpc.hpp"

namespace {

// Two processes hand one word back and forth: 1 asks, 2 answers. With `sleep` each side waits
// in FUTEX_WAIT and wakes the other, as a blocking transport must; without, both spin.
bench::Figures raw_ping_pong(int iterations, bool sleep) {
  void* memory = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* word = new (memory) std::atomic<std::uint32_t>(0);
  const bench::Peer peer([word, sleep] {
    for (;;) {
      std::uint32_t seen = 0;
      // Acquire pairs with the client's release store of 1.
      while ((seen = word->load(std::memory_order_acquire)) != 1) {
        if (sleep) {
          shmrpc::detail::futex_wait(*word, seen, shmrpc::detail::Deadline::max());
        }
      }
      word->store(2, std::memory_order_release);  // pairs with the client's acquire load
      if (sleep) {
        shmrpc::detail::futex_wake_all(*word);
      }
    }
  });
  const bench::Figures figures = bench::measure(iterations, [&] {
    word->store(1, std::memory_order_release);  // pairs with the peer's acquire load
    if (sleep) {
      shmrpc::detail::futex_wake_all(*word);
    }
    std::uint32_t seen = 0;
    while ((seen = word->load(std::memory_order_acquire)) != 2) {  // pairs with the answer
      if (sleep) {
        shmrpc::detail::futex_wait(*word, seen, shmrpc::detail::Deadline::max());
      }
    }
    word->store(0, std::memory_order_relaxed);  // only this process reads it before the next 1
  });
  munmap(memory, 4096);
  return figures;
}

bench::Figures shmrpc_null_call(int iterations, bool spinning) {
  shmrpc::ServerOptions options;
  options.channels = 1;
  options.spin = spinning ? std::chrono::nanoseconds(std::chrono::milliseconds(1))
                          : std::chrono::nanoseconds(0);
  const bench::BenchServer server(spinning ? "null-spin" : "null-block", options);
  shmrpc::Client client(server.name(), bench::client_options(spinning));
  auto add = client.function<std::int64_t(std::int64_t, std::int64_t)>("add");
  std::int64_t sum = 0;
  return bench::measure(iterations, [&] { sum = add(sum, 1); });
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv, 20000);
  bench::pin_to(0);
  const int n = options.iterations;
  bench::report({"raw shm spin ping-pong", "raw shm spin"}, n, raw_ping_pong(n, false));
  bench::report({"shmrpc null call, spinning", "shmrpc"}, n, shmrpc_null_call(n, true));
  bench::report({"raw futex ping-pong", "raw futex"}, n, raw_ping_pong(n, true));
  bench::report({"shmrpc null call, blocking", "shmrpc blocking"}, n, shmrpc_null_call(n, false));
  return 0;
}
