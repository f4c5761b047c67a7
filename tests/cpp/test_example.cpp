// The shipped example, run as a user runs it: server_example and client_example as processes.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/probe.hpp"

namespace shmrpc::test {
namespace {

pid_t spawn(const std::string& program, const std::string& argument) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(program.c_str(), program.c_str(), argument.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Kills and reaps the process and removes the segment if the test ends early.
struct ExampleServer {
  std::string name = unique_name("example");
  pid_t pid = spawn(SHMRPC_SERVER_EXAMPLE, name);
  ~ExampleServer() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    Segment::unlink(name);
  }
  ExampleServer() = default;
  ExampleServer(const ExampleServer&) = delete;
  ExampleServer& operator=(const ExampleServer&) = delete;
};

// True once the server is alive, false if it did not start within 10 s.
bool wait_until_alive(const ExampleServer& server) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (probe_server(server.name).liveness != Liveness::kAlive) {
    if (std::chrono::steady_clock::now() >= give_up) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// "type: message" of the RemoteError that `call` throws.
template <class Call>
std::string remote_error_of(Call&& call) {
  try {
    std::forward<Call>(call)();
  } catch (const RemoteError& error) {
    return error.remote_type() + ": " + error.remote_message();
  }
  return "no RemoteError";
}

TEST(ExampleTest, ClientExampleCallsEveryFunctionAndServerStopsOnSigterm) {
  ExampleServer server;
  ASSERT_TRUE(wait_until_alive(server)) << "server_example did not start";
  {
    Client client(server.name);
    std::vector<std::string> names;
    for (const FunctionSchema& function : client.schema().functions()) {
      names.push_back(function.name);
    }
    EXPECT_EQ(names,
              (std::vector<std::string>{"add", "dot", "scale", "stats", "greet", "range", "step",
                                        "energy", "heaviest", "sleep_ms", "fail", "blur", "total",
                                        "segment", "word_counts", "simulate"}));
  }
  EXPECT_EQ(wait_exit_code(spawn(SHMRPC_CLIENT_EXAMPLE, server.name)), 0);

  ::kill(server.pid, SIGTERM);
  EXPECT_EQ(wait_exit_code(server.pid), 0) << "server_example exits cleanly on SIGTERM";
  server.pid = -1;
  EXPECT_EQ(probe_server(server.name).liveness, Liveness::kNone) << "and removes its segment";
}

// The example's arithmetic is checked: an overflow is an error the caller sees, never a wrapped
// result or a server that allocates until it fails.
TEST(ExampleTest, AddAndRangeReportOverflowInsteadOfWrapping) {
  ExampleServer server;
  ASSERT_TRUE(wait_until_alive(server)) << "server_example did not start";
  Client client(server.name);
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kQuarter = std::int64_t{1} << 62;

  EXPECT_EQ(client.call<std::int64_t>("add", kMax, kMin), -1);
  EXPECT_EQ(remote_error_of([&] { client.call<std::int64_t>("add", kMax, 1); }),
            "std::overflow_error: add(9223372036854775807, 1) overflows int64");
  EXPECT_EQ(remote_error_of([&] { client.call<std::int64_t>("add", kMin, -1); }),
            "std::overflow_error: add(-9223372036854775808, -1) overflows int64");

  using Values = std::vector<std::int64_t>;
  EXPECT_EQ(client.call<Values>("range", kMin, kMax, kQuarter),
            (Values{kMin, -kQuarter, 0, kQuarter}));
  EXPECT_EQ(client.call<Values>("range", kMax, kMin, -kQuarter),
            (Values{kMax, kQuarter - 1, -1, -kQuarter - 1}));
  EXPECT_EQ(client.call<Values>("range", kMax - 1, kMax, kMax), (Values{kMax - 1}));
  EXPECT_EQ(client.call<Values>("range", 5, 0, 1), Values{});
  EXPECT_EQ(remote_error_of([&] { client.call<Values>("range", kMin, kMax, 1); }),
            "std::length_error: range(-9223372036854775808, 9223372036854775807, 1) would "
            "return 18446744073709551615 values; at most 268435456 are allowed");
  EXPECT_EQ(remote_error_of([&] { client.call<Values>("range", 0, 1, 0); }),
            "std::invalid_argument: range: step must not be 0");
  EXPECT_EQ(client.call<std::int64_t>("add", 2, 3), 5) << "the server still serves";
}

}  // namespace
}  // namespace shmrpc::test
