// The shipped example, run as a user runs it: server_example and client_example as processes.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

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

TEST(ExampleTest, ClientExampleCallsEveryFunctionAndServerStopsOnSigterm) {
  ExampleServer server;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (probe_server(server.name).liveness != Liveness::kAlive) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "server_example did not start";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  {
    Client client(server.name);
    std::vector<std::string> names;
    for (const FunctionSchema& function : client.schema().functions()) {
      names.push_back(function.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"add", "dot", "scale", "stats", "greet", "range",
                                               "step", "energy", "heaviest", "sleep_ms", "fail"}));
  }
  EXPECT_EQ(wait_exit_code(spawn(SHMRPC_CLIENT_EXAMPLE, server.name)), 0);

  ::kill(server.pid, SIGTERM);
  EXPECT_EQ(wait_exit_code(server.pid), 0) << "server_example exits cleanly on SIGTERM";
  server.pid = -1;
  EXPECT_EQ(probe_server(server.name).liveness, Liveness::kNone) << "and removes its segment";
}

}  // namespace
}  // namespace shmrpc::test
