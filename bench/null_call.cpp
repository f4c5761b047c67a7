// Null call (two int64 in, one out) through shmrpc, side by side with the physical limits of
// this machine measured in the same run: a raw shared-memory spin ping-pong and a raw futex
// ping-pong. Server and client are separate processes pinned to CPUs 1 and 0 when there are two.
//
//   null_call [ITERATIONS]     (default 20000; prints median and p99 per round trip)

#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "shmrpc/detail/futex.hpp"
#include "shmrpc/shmrpc.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Figures {
  double median_ns;
  double p99_ns;
};

void pin_to(std::size_t cpu) {
  if (std::thread::hardware_concurrency() < 2) {
    return;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

Figures measure(int iterations, const std::function<void()>& round_trip) {
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(iterations));
  for (int i = 0; i < iterations / 10; ++i) {
    round_trip();  // warm up
  }
  for (int i = 0; i < iterations; ++i) {
    const auto start = Clock::now();
    round_trip();
    samples.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count());
  }
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples[samples.size() * 99 / 100]};
}

// A word in memory shared with a forked peer that answers 1 with 2, spinning or sleeping.
struct RawPeer {
  std::atomic<std::uint32_t>* word;
  pid_t pid;
};

RawPeer start_raw_peer(bool sleep) {
  void* memory = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* word = new (memory) std::atomic<std::uint32_t>(0);
  const pid_t pid = fork();
  if (pid == 0) {
    pin_to(1);
    for (;;) {
      std::uint32_t seen = 0;
      while ((seen = word->load(std::memory_order_acquire)) != 1) {
        if (sleep) {
          shmrpc::detail::futex_wait(*word, seen, shmrpc::detail::Deadline::max());
        }
      }
      word->store(2, std::memory_order_release);
      if (sleep) {
        shmrpc::detail::futex_wake_all(*word);
      }
    }
  }
  return {word, pid};
}

Figures raw_ping_pong(int iterations, bool sleep) {
  const RawPeer peer = start_raw_peer(sleep);
  const Figures figures = measure(iterations, [&] {
    peer.word->store(1, std::memory_order_release);
    if (sleep) {
      shmrpc::detail::futex_wake_all(*peer.word);
    }
    std::uint32_t seen = 0;
    while ((seen = peer.word->load(std::memory_order_acquire)) != 2) {
      if (sleep) {
        shmrpc::detail::futex_wait(*peer.word, seen, shmrpc::detail::Deadline::max());
      }
    }
    peer.word->store(0, std::memory_order_relaxed);
  });
  kill(peer.pid, SIGKILL);
  waitpid(peer.pid, nullptr, 0);
  return figures;
}

Figures shmrpc_null_call(int iterations, std::chrono::nanoseconds spin) {
  const std::string name = "bench-null-" + std::to_string(getpid());
  const pid_t pid = fork();
  if (pid == 0) {
    pin_to(1);
    shmrpc::Server server(name, {.channels = 1, .spin = spin});
    server.def("add", [](std::int64_t a, std::int64_t b) { return a + b; });
    server.run({.stop_on_signals = true});
    _exit(0);
  }
  shmrpc::ClientOptions options;
  options.spin = spin;
  options.connect_timeout = std::chrono::seconds(10);
  while (shmrpc::probe_server(name).liveness != shmrpc::Liveness::kAlive) {
    usleep(1000);
  }
  Figures figures{};
  {
    shmrpc::Client client(name, options);
    auto add = client.function<std::int64_t(std::int64_t, std::int64_t)>("add");
    std::int64_t sum = 0;
    figures = measure(iterations, [&] { sum = add(sum, 1); });
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  if (iterations <= 0) {
    std::fprintf(stderr, "usage: null_call [ITERATIONS]\n");
    return 2;
  }
  pin_to(0);
  const Figures raw_spin = raw_ping_pong(iterations, false);
  const Figures call_spin = shmrpc_null_call(iterations, std::chrono::milliseconds(1));
  const Figures raw_futex = raw_ping_pong(iterations, true);
  const Figures call_futex = shmrpc_null_call(iterations, std::chrono::nanoseconds(0));
  std::printf("%-36s %12s %12s %8s\n", "case", "median ns", "p99 ns", "ratio");
  const auto row = [](const char* name, Figures f, Figures base) {
    std::printf("%-36s %12.0f %12.0f %8.2f\n", name, f.median_ns, f.p99_ns,
                f.median_ns / base.median_ns);
  };
  row("raw shm spin ping-pong", raw_spin, raw_spin);
  row("shmrpc null call, spinning", call_spin, raw_spin);
  row("raw futex ping-pong", raw_futex, raw_futex);
  row("shmrpc null call, blocking (futex)", call_futex, raw_futex);
  return 0;
}
