// Throughput: calls per second of the null call with 1, 2, 4 and 8 client processes calling one
// shmrpc server at once (8 channels, one serving thread each), in the default waiting mode
// (spin 50 us, then sleep). Processes are not pinned: with more clients than CPUs the kernel
// spreads them.
//
//   throughput [--iterations N] [--smoke]   (N calls per client, default 200000; harness.hpp)

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <new>
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
  return 0;
}
