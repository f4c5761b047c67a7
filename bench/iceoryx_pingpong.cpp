// Baseline: Eclipse iceoryx (2.0) request/response between a client and a server process, each
// a forked child of this program (client on CPU 0, server on CPU 1), doing the work of every
// transport (bench/README.md):
//   null   the request holds two int64 (a, b), the response a + b; both sides polling, then
//          both sides blocking in a WaitSet
//   array  the client loans a request chunk of N bytes, copies its ordinary float64 buffer in
//          and sends it; the server reads the chunk's size in place (zero-copy) and responds
//          with the number of elements. Polling.
//
//   bench_iceoryx [--iterations N] [--smoke] [--max-bytes N]     (default 20000)
//
// iceoryx needs its daemon, RouDi: this program starts iox-roudi with iceoryx_roudi.toml (its
// memory pools hold the 256 MiB case) and stops it at the end. If a RouDi runs already, the
// program uses that one and reports the array sizes larger than its built-in pools allow as
// skipped. Neither this process nor RouDi outlive a crash of the other (PR_SET_PDEATHSIG).

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/mepoo/chunk_header.hpp"
#include "iceoryx_posh/popo/rpc_header.hpp"
#include "iceoryx_posh/popo/untyped_client.hpp"
#include "iceoryx_posh/popo/untyped_server.hpp"
#include "iceoryx_posh/popo/wait_set.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"

namespace {

// The largest request payload each RouDi configuration holds, with room for the headers.
constexpr std::uint64_t kOwnConfigMaxPayload = std::uint64_t{256} << 20;
constexpr std::uint64_t kBuiltInConfigMaxPayload = std::uint64_t{4} << 20;

std::atomic<bool> stop_requested{false};

void request_stop(int /*signal*/) {
  stop_requested.store(true, std::memory_order_relaxed);
}

void init_runtime(const std::string& name) {
  iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn);
  iox::runtime::PoshRuntime::initRuntime(
      iox::RuntimeName_t(iox::cxx::TruncateToCapacity, name.c_str()));
}

iox::capro::ServiceDescription service(int case_number) {
  const std::string event = "case" + std::to_string(case_number);
  return {"shmrpc-bench", "PingPong",
          iox::capro::IdString_t(iox::cxx::TruncateToCapacity, event.c_str())};
}

// The server of one case: answers until SIGTERM; a 16-byte request is (a, b), any other size
// an array.
void serve(int case_number, bool wait) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGTERM, request_stop);
  init_runtime("shmrpc-bench-server-" + std::to_string(getpid()));
  {
    iox::popo::UntypedServer server(service(case_number));
    iox::popo::WaitSet<> waitset;
    if (wait) {
      waitset.attachState(server, iox::popo::ServerState::HAS_REQUEST).or_else([](auto&) {
        std::fprintf(stderr, "bench_iceoryx: cannot attach the server to a WaitSet\n");
        std::exit(1);
      });
    }
    while (!stop_requested.load(std::memory_order_relaxed)) {
      if (wait) {
        waitset.timedWait(iox::units::Duration::fromMilliseconds(100));
      }
      auto taken = server.take();
      if (taken.has_error()) {
        continue;
      }
      const void* request = taken.value();
      const std::uint32_t size =
          iox::mepoo::ChunkHeader::fromUserPayload(request)->userPayloadSize();
      std::int64_t reply = 0;
      if (size == 2 * sizeof(std::int64_t)) {
        std::array<std::int64_t, 2> operands{};
        std::memcpy(operands.data(), request, sizeof operands);
        reply = operands[0] + operands[1];
      } else {
        reply = static_cast<std::int64_t>(size / sizeof(double));
      }
      server
          .loan(iox::popo::RequestHeader::fromPayload(request), sizeof reply, alignof(std::int64_t))
          .and_then([&](void* response) {
            std::memcpy(response, &reply, sizeof reply);
            server.send(response).or_else([](auto&) {
              std::fprintf(stderr, "bench_iceoryx: the server could not respond\n");
            });
          })
          .or_else([](auto&) { std::fprintf(stderr, "bench_iceoryx: no response chunk\n"); });
      server.releaseRequest(request);
    }
  }
  std::exit(0);  // not _exit: the runtime unregisters from RouDi in its destructor
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "bench_iceoryx: %s\n", what);
  std::exit(1);
}

// The client of one case: connects, times `iterations` round trips of `size` bytes (16: a null
// call) and prints the result line.
void run_client(const bench::Case& c, int case_number, bool wait, std::uint64_t size,
                int iterations) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  init_runtime("shmrpc-bench-client-" + std::to_string(getpid()));
  {
    iox::popo::UntypedClient client(service(case_number));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (client.getConnectionState() != iox::ConnectionState::CONNECTED) {
      if (std::chrono::steady_clock::now() > deadline) {
        bench::report_skipped(c, "the iceoryx client did not connect to its server in 20 s");
        std::exit(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    iox::popo::WaitSet<> waitset;
    if (wait) {
      waitset.attachState(client, iox::popo::ClientState::HAS_RESPONSE).or_else([](auto&) {
        fail("cannot attach the client to a WaitSet");
      });
    }
    const std::vector<double> data(size / sizeof(double), 1.0);
    std::int64_t sum = 0;
    const auto round_trip = [&] {
      auto loaned = client.loan(static_cast<std::uint32_t>(size), alignof(double));
      if (loaned.has_error()) {
        fail("no request chunk");
      }
      void* request = loaned.value();
      std::int64_t expected = 0;
      if (size == 2 * sizeof(std::int64_t)) {
        const std::array<std::int64_t, 2> operands{sum, 1};
        std::memcpy(request, operands.data(), sizeof operands);
        expected = sum + 1;
      } else {
        std::memcpy(request, data.data(), size);
        expected = static_cast<std::int64_t>(data.size());
      }
      if (client.send(request).has_error()) {
        fail("the request could not be sent");
      }
      for (;;) {
        if (wait) {
          waitset.wait();
        }
        auto taken = client.take();
        if (!taken.has_error()) {
          std::int64_t reply = 0;
          std::memcpy(&reply, taken.value(), sizeof reply);
          client.releaseResponse(taken.value());
          if (reply != expected) {
            fail("wrong reply");
          }
          sum = reply;
          return;
        }
      }
    };
    bench::report(c, iterations, bench::measure(iterations, round_trip));
  }
  std::exit(0);  // not _exit: the runtime unregisters from RouDi in its destructor
}

// Forks `body` pinned to `cpu`.
template <typename Body>
pid_t spawn(int cpu, Body body) {
  const pid_t pid = fork();
  if (pid == 0) {
    bench::pin_to(cpu);
    body();
    _exit(0);
  }
  return pid;
}

// Starts iox-roudi with the benchmark's configuration; returns its pid, or -1 when it exited
// at once (another RouDi holds the lock: that one serves).
pid_t start_roudi() {
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);    // SIGTERM: RouDi removes its shared memory on the way out
    dup2(STDERR_FILENO, STDOUT_FILENO);  // stdout carries only result lines
    execl(SHMRPC_BENCH_IOX_ROUDI, SHMRPC_BENCH_IOX_ROUDI, "-l", "warning", "-c",
          SHMRPC_BENCH_ROUDI_CONFIG, static_cast<char*>(nullptr));
    _exit(127);
  }
  // Ready when its socket is there; gone within the wait when another RouDi runs.
  struct stat info {};
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return -1;
    }
    if (i > 5 && stat("/tmp/roudi", &info) == 0) {
      return pid;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv, 20000);
  const pid_t roudi = start_roudi();
  const bool own_roudi = roudi > 0;
  const std::uint64_t max_payload = own_roudi ? kOwnConfigMaxPayload : kBuiltInConfigMaxPayload;
  const std::string roudi_note =
      own_roudi ? "RouDi started by bench_iceoryx" : "a RouDi already running";

  struct Run {
    bench::Case c;
    bool wait;
  };
  std::vector<Run> runs = {
      {{"iceoryx ping-pong, polling", "iceoryx", 16, "request/response, polling; " + roudi_note},
       false},
      {{"iceoryx ping-pong, waitset", "iceoryx", 16, "request/response, WaitSet; " + roudi_note},
       true},
  };
  for (const std::uint64_t bytes : bench::payload_sizes(options)) {
    runs.push_back({{"iceoryx array", "iceoryx", bytes,
                     "request/response, polling, copied into a loaned chunk; " + roudi_note},
                    false});
  }
  struct stat info {};
  if (!own_roudi && stat("/tmp/roudi", &info) != 0) {
    for (const Run& run : runs) {
      bench::report_skipped(run.c, "iox-roudi did not start (see stderr)");
    }
    return 1;
  }

  int failures = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Run& run = runs[i];
    const int case_number = static_cast<int>(i);
    if (run.c.payload_bytes > max_payload) {
      bench::report_skipped(run.c,
                            own_roudi ? "larger than the biggest chunk of bench/iceoryx_roudi.toml "
                                        "(256 MiB: two chunks of 1 GiB would take 2 GiB more of "
                                        "/dev/shm for the whole run)"
                                      : "larger than the biggest chunk of the running RouDi's "
                                        "pools (its built-in configuration: 4 MiB)");
      continue;
    }
    const int iterations = run.c.payload_bytes == 16
                               ? options.iterations
                               : bench::iterations_for(options, run.c.payload_bytes);
    bench::Peer server([&] { serve(case_number, run.wait); });
    const pid_t client = spawn(
        0, [&] { run_client(run.c, case_number, run.wait, run.c.payload_bytes, iterations); });
    int status = 0;
    waitpid(client, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failures;
    }
    server.stop(SIGTERM);
  }
  if (own_roudi) {
    kill(roudi, SIGTERM);
    waitpid(roudi, nullptr, 0);
  }
  return failures == 0 ? 0 : 1;
}
