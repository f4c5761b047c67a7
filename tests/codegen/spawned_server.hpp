#pragma once
// Test support: a server binary run as `PROGRAM NAME` in a child process, ready once a client
// could attach; killed, reaped and its segment removed on destruction, also when a test fails.

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "shmrpc/probe.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc::test {

class SpawnedServer {
 public:
  SpawnedServer(const std::string& program, std::string name) : name_(std::move(name)) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl(program.c_str(), program.c_str(), name_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (probe_server(name_).liveness != Liveness::kAlive) {
      if (std::chrono::steady_clock::now() > give_up || ::waitpid(pid_, nullptr, WNOHANG) != 0) {
        stop();
        throw std::runtime_error(program + " " + name_ + " did not start");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~SpawnedServer() { stop(); }
  SpawnedServer(const SpawnedServer&) = delete;
  SpawnedServer& operator=(const SpawnedServer&) = delete;

  const std::string& name() const noexcept { return name_; }

 private:
  void stop() noexcept {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    Segment::unlink(name_);
  }

  std::string name_;
  pid_t pid_ = -1;
};

}  // namespace shmrpc::test
