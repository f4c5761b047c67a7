// The server the chaos suite starts, kills, stops and restarts. It serves through
// Server::run({.stop_on_signals = true}), as a real server does:
//
//   shmrpc_chaos_server NAME [--channels N] [--start-at NS] [--inject FAULT]
//
//   checksum(seed, n) -> uint64    chaos::checksum
//   fill(out, seed)                out[i] = chaos::fill_value(seed, i), in place
//   slow(ms, seed) -> uint64       sleeps ms milliseconds, returns chaos::slow_value
//   pid() -> int64                 this process
//
// Prints "ready" on stdout once run() serves and handles SIGTERM, or "error: MESSAGE" and exits
// with 2 when starting fails. --start-at waits until CLOCK_MONOTONIC (std::chrono::steady_clock)
// reads NS nanoseconds, so that servers started together race for the name. --inject makes the
// server misbehave, for the suite's tests of its own checks:
//   wrong         checksum returns a wrong value on every 16th call
//   ignore-term   ignores SIGTERM
//   keep-segment  exits at once on SIGTERM, leaving its segment behind
//   steal         removes the name's segment before starting, even a live server's

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "chaos_functions.hpp"
#include "shmrpc/segment.hpp"
#include "shmrpc/server.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Arguments {
  std::string name;
  std::uint32_t channels = 4;
  std::int64_t start_at_ns = 0;
  std::string inject;
};

// One line on stdout, unbuffered: the harness reads it through a pipe.
void report(std::string_view line) {
  const std::string text = std::string(line) + "\n";
  (void)::write(STDOUT_FILENO, text.data(), text.size());
}

extern "C" void exit_at_once(int /*signal*/) {
  // The raw system call: ThreadSanitizer's _exit() finalizes its runtime first, which can block
  // forever inside a signal handler.
  ::syscall(SYS_exit_group, 0);
}

// Waits, on a thread of its own, until run() has started the server and installed its SIGTERM
// handler (only then may the harness send SIGTERM), applies the injected signal faults and
// reports "ready". Gives up when `done` is set (run() failed or returned).
void report_when_ready(const shmrpc::Server& server, const std::string& inject,
                       const std::atomic<bool>& done) {
  while (!done.load()) {
    struct sigaction current {};
    ::sigaction(SIGTERM, nullptr, &current);
    if (server.running() && current.sa_handler != SIG_DFL) {
      if (inject == "ignore-term") {
        std::signal(SIGTERM, SIG_IGN);
      } else if (inject == "keep-segment") {
        std::signal(SIGTERM, exit_at_once);
      }
      report("ready");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void wait_until(std::int64_t start_at_ns) {
  const Clock::time_point start_at{std::chrono::nanoseconds(start_at_ns)};
  std::this_thread::sleep_until(start_at - std::chrono::milliseconds(2));
  while (Clock::now() < start_at) {
    // Spin the last two milliseconds: a sleep wakes too late to make servers race.
  }
}

Arguments parse(int argc, char** argv) {
  if (argc < 2) {
    throw std::invalid_argument(
        "usage: shmrpc_chaos_server NAME [--channels N] [--start-at NS] "
        "[--inject FAULT]");
  }
  Arguments arguments;
  arguments.name = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view option = argv[i];
    const char* value = argv[i + 1];
    if (option == "--channels") {
      arguments.channels = static_cast<std::uint32_t>(std::strtoul(value, nullptr, 10));
    } else if (option == "--start-at") {
      arguments.start_at_ns = std::strtoll(value, nullptr, 10);
    } else if (option == "--inject") {
      arguments.inject = value;
    } else {
      throw std::invalid_argument("unknown option " + std::string(option));
    }
  }
  return arguments;
}

void define_functions(shmrpc::Server& server, bool wrong) {
  static std::atomic<std::uint64_t> calls{0};
  server
      .def(
          "checksum",
          [wrong](std::uint64_t seed, std::uint32_t n) {
            const std::uint64_t sum = shmrpc::chaos::checksum(seed, n);
            return wrong && calls.fetch_add(1) % 16 == 15 ? sum ^ 1U : sum;
          },
          {"seed", "n"}, "n rounds of mix over seed")
      .def(
          "fill",
          [](std::span<std::uint64_t> out, std::uint64_t seed) {
            for (std::size_t i = 0; i < out.size(); ++i) {
              out[i] = shmrpc::chaos::fill_value(seed, i);
            }
          },
          {"out", "seed"}, "writes fill_value(seed, i) into out[i]")
      .def(
          "slow",
          [](std::uint32_t ms, std::uint64_t seed) {
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            return shmrpc::chaos::slow_value(ms, seed);
          },
          {"ms", "seed"}, "sleeps ms milliseconds")
      .def(
          "pid", [] { return static_cast<std::int64_t>(::getpid()); }, "the server's pid");
}

}  // namespace

int main(int argc, char** argv) {
  // The harness may close its end of the pipe first; a report must not kill the server.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    const Arguments arguments = parse(argc, argv);
    shmrpc::Server server(
        arguments.name, {.channels = arguments.channels, .arena_size = std::uint64_t{256} << 10U});
    define_functions(server, arguments.inject == "wrong");
    if (arguments.start_at_ns != 0) {
      wait_until(arguments.start_at_ns);
    }
    if (arguments.inject == "steal") {
      shmrpc::Segment::unlink(arguments.name);
    }
    std::atomic<bool> done{false};
    std::thread reporter([&] { report_when_ready(server, arguments.inject, done); });
    try {
      server.run({.stop_on_signals = true});
    } catch (...) {
      done.store(true);
      reporter.join();
      throw;
    }
    done.store(true);
    reporter.join();
    return 0;
  } catch (const std::exception& error) {
    report(std::string("error: ") + error.what());
    return 2;
  }
}
