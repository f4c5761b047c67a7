// Throughput: calls per second of the null call with 1, 2, 4 and 8 client processes calling one
// shmrpc server at once (default options: a serving thread per channel), in the default waiting
// mode (spin 50 us, then sleep); and 8 threads of one process sharing one Client, next to 8
// client processes in interleaved rounds. Nothing is pinned: with more clients than CPUs the
// kernel spreads them.
//
//   throughput [--iterations N] [--smoke]   (N calls per client, default 200000; harness.hpp)

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include "bench_server.hpp"
#include "harness.hpp"
#include "shmrpc/shmrpc.hpp"

namespace {

// Shared with the client processes: they connect, count themselves in `ready`, and start
// calling once `go` is set, so that the clock measures calling only.
struct StartLine {
  std::atomic<int> ready;
  std::atomic<int> go;
};

// Runs `body` on a Client of `server` in a child process (as the client processes of
// run_clients are) and returns the seconds it reported; exits when it failed.
double run_in_child(const std::string& server,
                    const std::function<bool(shmrpc::Client&, double&)>& body) {
  void* memory =
      mmap(nullptr, sizeof(double), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* seconds = new (memory) double{0};
  const pid_t pid = fork();
  if (pid == 0) {
    int status = 1;
    try {
      shmrpc::ClientOptions options;
      options.connect_timeout = std::chrono::seconds(10);
      shmrpc::Client client(server, options);
      status = body(client, *seconds) ? 0 : 1;
    } catch (const std::exception& error) {
      std::fprintf(stderr, "throughput client: %s\n", error.what());
    }
    _exit(status);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double result = *seconds;
  munmap(memory, sizeof(double));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "throughput: a client failed\n");
    std::exit(1);
  }
  return result;
}

// `calls` null calls on each of `threads` threads sharing one Client.
double run_shared_client(const std::string& server, int threads, int calls) {
  return run_in_child(server, [&](shmrpc::Client& client, double& seconds) {
    auto add = client.function<std::int64_t(std::int64_t, std::int64_t)>("add");
    std::atomic<int> wrong{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        while (!go.load()) {
          std::this_thread::yield();
        }
        std::int64_t sum = 0;
        for (int c = 0; c < calls; ++c) {
          sum = add(sum, 1);
        }
        wrong += sum == calls ? 0 : 1;
      });
    }
    const auto start = bench::Clock::now();
    go.store(true);
    for (std::thread& worker : workers) {
      worker.join();
    }
    seconds = std::chrono::duration<double>(bench::Clock::now() - start).count();
    return wrong.load() == 0;
  });
}

// `calls` null calls from one thread, `in_flight` at a time (Function::async, then get() of
// each); 1: one after another (Function::operator()).
double run_one_thread(const std::string& server, int calls, int in_flight) {
  return run_in_child(server, [&](shmrpc::Client& client, double& seconds) {
    auto add = client.function<std::int64_t(std::int64_t, std::int64_t)>("add");
    std::int64_t wrong = 0;
    std::vector<shmrpc::Future<std::int64_t>> futures;
    const auto start = bench::Clock::now();
    for (int c = 0; c < calls; c += in_flight) {
      if (in_flight == 1) {
        wrong += add(c, 1) == c + 1 ? 0 : 1;
        continue;
      }
      for (int i = 0; i < in_flight; ++i) {
        futures.push_back(add.async(c + i, 1));
      }
      for (int i = 0; i < in_flight; ++i) {
        wrong += futures[static_cast<std::size_t>(i)].get() == c + i + 1 ? 0 : 1;
      }
      futures.clear();
    }
    seconds = std::chrono::duration<double>(bench::Clock::now() - start).count();
    return wrong == 0;
  });
}

double run_clients(const std::string& server, int clients, int calls) {
  void* memory =
      mmap(nullptr, sizeof(StartLine), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* line = new (memory) StartLine{{0}, {0}};
  std::vector<pid_t> pids;
  for (int i = 0; i < clients; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      int status = 1;
      try {
        shmrpc::ClientOptions options;  // the default wait: spin 50 us, then sleep
        options.connect_timeout = std::chrono::seconds(10);
        shmrpc::Client client(server, options);
        auto add = client.function<std::int64_t(std::int64_t, std::int64_t)>("add");
        line->ready.fetch_add(1);  // seq_cst: pairs with the parent's wait for all
        while (line->go.load() == 0) {
          sched_yield();
        }
        std::int64_t sum = 0;
        for (int c = 0; c < calls; ++c) {
          sum = add(sum, 1);
        }
        status = sum == calls ? 0 : 1;
      } catch (const std::exception& error) {
        std::fprintf(stderr, "throughput client: %s\n", error.what());
      }
      _exit(status);
    }
    pids.push_back(pid);
  }
  while (line->ready.load() < clients) {
    usleep(100);
  }
  const auto start = bench::Clock::now();
  line->go.store(1);
  bool ok = true;
  for (const pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  const double seconds = std::chrono::duration<double>(bench::Clock::now() - start).count();
  munmap(memory, sizeof(StartLine));
  if (!ok) {
    std::fprintf(stderr, "throughput: a client failed\n");
    std::exit(1);
  }
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv, 200000);
  const bench::BenchServer server("throughput", shmrpc::ServerOptions{});
  for (const int clients : {1, 2, 4, 8}) {
    const double seconds = run_clients(server.name(), clients, options.iterations);
    bench::report_throughput(
        {"shmrpc null calls, " + std::to_string(clients) + " clients", "shmrpc throughput"},
        clients, static_cast<std::uint64_t>(clients * options.iterations), seconds);
  }
  // 8 threads sharing one Client against 8 client processes, in interleaved rounds: the ratio
  // of their calls per second is read per round (the VM is noisy), its median reported.
  constexpr int kThreads = 8;
  const int calls = std::max(1, options.iterations / bench::kRounds);
  std::vector<double> ratios;
  double shared_seconds = 0;
  double separate_seconds = 0;
  for (int round = 0; round < bench::kRounds; ++round) {
    const double separate = run_clients(server.name(), kThreads, calls);
    const double shared = run_shared_client(server.name(), kThreads, calls);
    separate_seconds += separate;
    shared_seconds += shared;
    ratios.push_back(separate / shared);
  }
  std::sort(ratios.begin(), ratios.end());
  const auto total = static_cast<std::uint64_t>(kThreads * calls * bench::kRounds);
  bench::report_throughput(
      {"shmrpc null calls, 8 threads sharing one client", "shmrpc shared client"}, kThreads, total,
      shared_seconds,
      bench::RoundRatio{"8 client processes", ratios[ratios.size() / 2],
                        std::pair(ratios.front(), ratios.back())});
  std::fprintf(stderr, "shared client / 8 processes per round: %.2f .. %.2f\n", ratios.front(),
               ratios.back());
  bench::report_throughput(
      {"shmrpc null calls, 8 client processes (same rounds)", "shmrpc throughput"}, kThreads, total,
      separate_seconds);
  // One thread with 8 calls in flight (the default max_slots) against one call at a time.
  constexpr int kInFlight = 8;
  const int thread_calls = std::max(kInFlight, options.iterations / bench::kRounds);
  std::vector<double> speedups;
  double pipelined_seconds = 0;
  for (int round = 0; round < bench::kRounds; ++round) {
    const double sequential = run_one_thread(server.name(), thread_calls, 1);
    const double pipelined = run_one_thread(server.name(), thread_calls, kInFlight);
    pipelined_seconds += pipelined;
    speedups.push_back(sequential / pipelined);
  }
  std::sort(speedups.begin(), speedups.end());
  bench::report_throughput(
      {"shmrpc null calls, one thread, 8 in flight (call_async)", "shmrpc calls in flight"}, 1,
      static_cast<std::uint64_t>(thread_calls * bench::kRounds), pipelined_seconds,
      bench::RoundRatio{"one call at a time", speedups[speedups.size() / 2],
                        std::pair(speedups.front(), speedups.back())});
  std::fprintf(stderr, "8 in flight / one at a time per round: %.2f .. %.2f\n", speedups.front(),
               speedups.back());
  return 0;
}
