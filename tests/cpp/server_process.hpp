#pragma once
// Test support: a real shmrpc server in a forked child process, cleaned up by RAII (also when a
// test fails), and unique segment names so tests never share a segment.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "shmrpc/server.hpp"

namespace shmrpc::test {

/// "t<pid>-<n>-<label>": unique per test process and call.
std::string unique_name(std::string_view label);

/// Removes the file of segment `name` when the test ends, passed or failed.
class SegmentCleanup {
 public:
  explicit SegmentCleanup(std::string name) : name_(std::move(name)) {}
  ~SegmentCleanup();
  SegmentCleanup(const SegmentCleanup&) = delete;
  SegmentCleanup& operator=(const SegmentCleanup&) = delete;
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
};

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

/// The names in /dev/shm that start with "shmrpc.SERVER@": the buffers server `server` made.
std::vector<std::string> buffer_files(const std::string& server);

/// Registers a set of functions covering every supported type (see server_process.cpp).
void define_test_functions(Server& server);

/// Forks a child process that runs `body` and exits with its result, without gtest teardown.
/// Fork only from the test's main thread, with no other threads running: a child forked while
/// another thread holds a lock (the sanitizers' allocators) can hang on it.
pid_t start_child(const std::function<int()>& body);

/// Waits for a child from start_child and returns its exit code (128 + signal if killed). A
/// child still running after `patience` is killed, so a hang fails the test instead of stalling.
int wait_child(pid_t pid, std::chrono::seconds patience = std::chrono::seconds(300));

/// start_child, then wait_child.
int run_in_child(const std::function<int()>& body);

/// What enter_private_dev_shm() found.
enum class PrivateDevShm {
  kEntered,      ///< this process now sees a fresh tmpfs of the asked size at /dev/shm
  kNotAllowed,   ///< unshare(CLONE_NEWNS) is not permitted here (needs root): skip the test
  kMountFailed,  ///< the namespace was made but the tmpfs could not be mounted
};

/// For a child process (start_child): moves it into a mount namespace of its own and mounts a
/// tmpfs of `size` ("16m") on /dev/shm there, hiding the real one from this process and its
/// children only.
PrivateDevShm enter_private_dev_shm(const char* size);

}  // namespace shmrpc::test
