#include "server_process.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "shmrpc/segment.hpp"

namespace shmrpc::test {
namespace {

int reap(pid_t pid, std::chrono::milliseconds patience) {
  int status = 0;
  const auto give_up = std::chrono::steady_clock::now() + patience;
  while (std::chrono::steady_clock::now() < give_up) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno == ECHILD)) {
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return status;
}

}  // namespace

std::string unique_name(std::string_view label) {
  static std::atomic<int> counter{0};
  return "t" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
         std::string(label);
}

ServerProcess::ServerProcess(std::string name, const std::function<void(Server&)>& setup,
                             ServerOptions options)
    : name_(std::move(name)) {
  std::array<int, 2> pipe_fds{};
  if (::pipe(pipe_fds.data()) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    ::close(pipe_fds[0]);
    std::string report = "ok";
    int code = 0;
    try {
      // SIGTERM/SIGINT stay pending until sigwait below, in every thread (the channel threads
      // inherit the mask), so a signal sent right after "ok" stops the server cleanly.
      sigset_t stop_signals;
      sigemptyset(&stop_signals);
      sigaddset(&stop_signals, SIGTERM);
      sigaddset(&stop_signals, SIGINT);
      pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
      Server server(name_, options);
      setup(server);
      server.start();
      (void)::write(pipe_fds[1], report.data(), report.size());
      ::close(pipe_fds[1]);
      int signal = 0;
      sigwait(&stop_signals, &signal);
      server.stop();
    } catch (const std::exception& error) {
      report = error.what();
      (void)::write(pipe_fds[1], report.data(), report.size());
      code = 1;
    }
    ::_exit(code);
  }
  ::close(pipe_fds[1]);
  std::string report;
  std::array<char, 512> buffer{};
  ssize_t n = 0;
  while ((n = ::read(pipe_fds[0], buffer.data(), buffer.size())) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) {
      report.append(buffer.data(), static_cast<std::size_t>(n));
      if (report == "ok") {
        break;
      }
    }
  }
  ::close(pipe_fds[0]);
  if (report != "ok") {
    reap(pid_, std::chrono::milliseconds(5000));
    pid_ = -1;
    Segment::unlink(name_);
    throw std::runtime_error("test server '" + name_ + "' did not start: " + report);
  }
}

std::vector<std::string> buffer_files(const std::string& server) {
  const std::string prefix = "shmrpc." + server + "@";
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    const std::string file = entry.path().filename().string();
    if (file.starts_with(prefix)) {
      found.push_back(file);
    }
  }
  return found;
}

SegmentCleanup::~SegmentCleanup() {
  Segment::unlink(name_);
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(SIGTERM);
  }
  Segment::unlink(name_);
}

int ServerProcess::kill(int signal) {
  ::kill(pid_, signal);
  const int status = reap(pid_, std::chrono::milliseconds(5000));
  pid_ = -1;
  return status;
}

pid_t start_child(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "child: %s\n", error.what());
    }
    ::_exit(code);
  }
  return pid;
}

int wait_child(pid_t pid, std::chrono::seconds patience) {
  const int status = reap(pid, patience);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_in_child(const std::function<int()>& body) {
  return wait_child(start_child(body));
}

PrivateDevShm enter_private_dev_shm(const char* size) {
  if (::unshare(CLONE_NEWNS) != 0) {
    return PrivateDevShm::kNotAllowed;
  }
  // Private propagation first, or the tmpfs would appear in the parent's namespace too.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return PrivateDevShm::kMountFailed;
  }
  const std::string options = std::string("size=") + size;
  if (::mount("shmrpc-test", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    return PrivateDevShm::kMountFailed;
  }
  return PrivateDevShm::kEntered;
}

}  // namespace shmrpc::test
