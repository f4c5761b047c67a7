#pragma once
// Test support: a real shmrpc server in a forked child process, cleaned up by RAII (also when a
// test fails), and unique segment names so tests never share a segment.

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "shmrpc/server.hpp"

namespace shmrpc::test {

/// "t<pid>-<n>-<label>": unique per test process and call.
std::string unique_name(std::string_view label);

class ServerProcess {
 public:
  /// Forks a child that builds a Server named `name` with `options`, lets `setup` register its
  /// functions, starts it and serves until SIGTERM. Returns once the server is ready; throws if
  /// the child failed to start (with the child's error message).
  ServerProcess(std::string name, const std::function<void(Server&)>& setup,
                ServerOptions options = {});
  /// SIGTERM (SIGKILL if it has not exited after 5 s), reap, remove the segment.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  /// Sends `signal` and reaps the child; returns its wait status.
  int kill(int signal);
  pid_t pid() const noexcept { return pid_; }
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
  pid_t pid_ = -1;
};

/// Registers a set of functions covering every supported type (see server_process.cpp).
void define_test_functions(Server& server);

/// Runs `body` in a forked child process and returns its exit code (0 = every check passed).
/// Use it for a second client process; the child exits without running gtest teardown.
int run_in_child(const std::function<int()>& body);

}  // namespace shmrpc::test
