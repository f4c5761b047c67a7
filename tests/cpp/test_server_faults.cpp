// Attacks on the server's name and lifecycle: servers racing for one name, a stopped server that
// must not remove its successor's segment, files of another user or of another kind under the
// name, servers in another pid namespace, a stop with a call that does not end, bad modes.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/inspect.hpp"
#include "shmrpc/probe.hpp"
#include "shmrpc/segment.hpp"
#include "shmrpc/server.hpp"

namespace shmrpc::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::HasSubstr;

constexpr uid_t kNobody = 65534;

ServerOptions small_options() {
  return {.channels = 1, .arena_size = std::uint64_t{64} << 10U};
}

void define_add(Server& server) {
  server.def("add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"});
}

struct stat stat_of(const std::string& name) {
  struct stat st {};
  if (::lstat(segment_path(name).c_str(), &st) != 0) {
    st.st_ino = 0;
  }
  return st;
}

// A pipe whose read end children block on until the parent closes the write end.
class Gate {
 public:
  Gate() {
    if (::pipe(fds_.data()) != 0) {
      throw std::system_error(errno, std::generic_category(), "pipe");
    }
  }
  ~Gate() {
    close_write();
    ::close(fds_[0]);
  }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  void wait_open() {  // in a child: blocks until the parent opens the gate
    ::close(fds_[1]);
    char byte = 0;
    while (::read(fds_[0], &byte, 1) < 0 && errno == EINTR) {
    }
  }
  void close_write() {
    if (fds_[1] >= 0) {
      ::close(fds_[1]);
      fds_[1] = -1;
    }
  }

 private:
  std::array<int, 2> fds_{-1, -1};
};

TEST(ServerFaultTest, SimultaneousStartsOverALeftoverLeaveOneServer) {
  constexpr int kTrials = 10;
  constexpr int kServers = 4;
  for (int trial = 0; trial < kTrials; ++trial) {
    const SegmentCleanup cleanup(unique_name("race"));
    {
      // A leftover: a published segment whose creator is gone (its lock went with it).
      Segment leftover = Segment::create(cleanup.name(), 4096, 0600);
      ASSERT_TRUE(leftover.publish());
    }
    ASSERT_EQ(probe_server(cleanup.name()).liveness, Liveness::kDead);
    std::array<int, 2> results{};
    ASSERT_EQ(::pipe(results.data()), 0);
    Gate hold;  // winners keep serving until every contender has reported
    const auto go = steady_clock::now() + milliseconds(100);
    std::vector<pid_t> children;
    for (int k = 0; k < kServers; ++k) {
      children.push_back(start_child([&] {
        ::close(results[0]);
        Server server(cleanup.name(), small_options());
        define_add(server);
        std::this_thread::sleep_until(go);
        char outcome = 'w';
        try {
          server.start();
        } catch (const Error& error) {
          outcome =
              std::string(error.what()).find("already running") != std::string::npos ? 'l' : 'e';
        }
        (void)::write(results[1], &outcome, 1);
        hold.wait_open();
        return 0;
      }));
    }
    ::close(results[1]);
    std::string outcomes;
    for (int k = 0; k < kServers; ++k) {
      char outcome = 0;
      ASSERT_EQ(::read(results[0], &outcome, 1), 1) << "a contender died";
      outcomes += outcome;
    }
    ::close(results[0]);
    const ServerProbe probe = probe_server(cleanup.name());
    hold.close_write();
    for (const pid_t child : children) {
      EXPECT_EQ(wait_child(child, std::chrono::seconds(20)), 0);
    }
    SCOPED_TRACE("trial " + std::to_string(trial) + ": outcomes " + outcomes);
    EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), 'w'), 1) << "exactly one server wins";
    EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), 'l'), kServers - 1)
        << "the others report the name taken";
    EXPECT_EQ(probe.liveness, Liveness::kAlive);
    EXPECT_NE(std::find(children.begin(), children.end(), probe.server.pid), children.end());
  }
}

TEST(ServerFaultTest, AStoppedServerStillStartingHoldsItsName) {
  // A server stalled after creating its segment (here: SIGSTOPped while serving) still holds its
  // name: a second server is refused instead of replacing it, and after the first one stops, the
  // name is free and nothing of the second is touched.
  ServerProcess first(unique_name("stalled"), define_add);
  const SegmentCleanup cleanup(first.name());
  ASSERT_EQ(::kill(first.pid(), SIGSTOP), 0);
  {
    Server second(first.name(), small_options());
    define_add(second);
    EXPECT_THROW(second.start(), Error);
  }
  ASSERT_EQ(::kill(first.pid(), SIGCONT), 0);
  Client client(first.name());
  EXPECT_EQ(client.call<std::int64_t>("add", 2, 3), 5);
}

TEST(ServerFaultTest, StopRemovesOnlyItsOwnSegment) {
  const SegmentCleanup cleanup(unique_name("successor"));
  Server orphan(cleanup.name(), small_options());
  define_add(orphan);
  orphan.start();
  // Someone removes the orphan's name (as an old tool would) and a successor takes it.
  ASSERT_TRUE(Segment::unlink(cleanup.name()));
  Server successor(cleanup.name(), small_options());
  define_add(successor);
  successor.start();
  const ino_t successor_inode = stat_of(cleanup.name()).st_ino;
  ASSERT_NE(successor_inode, 0U);

  orphan.stop();
  EXPECT_EQ(stat_of(cleanup.name()).st_ino, successor_inode)
      << "the orphan's stop removed its successor's segment";
  EXPECT_EQ(probe_server(cleanup.name()).liveness, Liveness::kAlive);
  Client client(cleanup.name());
  EXPECT_EQ(client.call<std::int64_t>("add", 40, 2), 42);
  successor.stop();
  EXPECT_EQ(stat_of(cleanup.name()).st_ino, 0U) << "its own stop removes it";
}

TEST(ServerFaultTest, NameHeldByAnotherUsersFileFailsAtOnceNamingTheOwner) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to make a file of another user";
  }
  const SegmentCleanup cleanup(unique_name("foreign"));
  const int fd = ::open(segment_path(cleanup.name()).c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::fchown(fd, kNobody, kNobody), 0) << std::strerror(errno);
  ::close(fd);

  Server server(cleanup.name(), small_options());
  define_add(server);
  const auto begin = steady_clock::now();
  try {
    server.start();
    FAIL() << "a server took a name held by another user's file";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EACCES);
    EXPECT_THAT(error.what(), HasSubstr("uid 65534"));
    EXPECT_THAT(error.what(), HasSubstr(cleanup.name()));
  }
  EXPECT_LT(steady_clock::now() - begin, std::chrono::seconds(1)) << "failed at once, no loop";
  EXPECT_NE(stat_of(cleanup.name()).st_ino, 0U) << "the other user's file stays";
}

TEST(ServerFaultTest, AnotherUsersServerIsNotOursToCallOrReplace) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to run a server as another user";
  }
  ServerOptions options = small_options();
  options.mode = 0666;  // the other user invites everyone
  ServerProcess other(
      unique_name("impostor"),
      [](Server& server) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
          throw std::runtime_error("cannot become nobody");
        }
        define_add(server);
      },
      options);
  const SegmentCleanup cleanup(other.name());
  try {
    Client client(other.name());
    ADD_FAILURE() << "attached to another user's server";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EACCES);
    EXPECT_THAT(error.what(), HasSubstr("uid 65534"));
    EXPECT_THAT(error.what(), HasSubstr("ClientOptions::server_uid"));
  }
  {
    Client client(other.name(), ClientOptions{.server_uid = kNobody});
    EXPECT_EQ(client.call<std::int64_t>("add", 2, 3), 5) << "attaches when asked to";
  }
  Server own(other.name(), small_options());
  define_add(own);
  const auto begin = steady_clock::now();
  try {
    own.start();
    ADD_FAILURE() << "replaced another user's server";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EACCES);
    EXPECT_THAT(error.what(), HasSubstr("uid 65534"));
  }
  EXPECT_LT(steady_clock::now() - begin, std::chrono::seconds(1)) << "failed at once";
}

TEST(ServerFaultTest, FifoUnderTheNameNeverBlocks) {
  const SegmentCleanup cleanup(unique_name("fifo"));
  ASSERT_EQ(::mkfifo(segment_path(cleanup.name()).c_str(), 0600), 0) << std::strerror(errno);
  // In a child, so that a blocking open fails the test instead of hanging it.
  const int code =
      wait_child(start_child([&] {
                   int failures = 0;
                   try {
                     Server server(cleanup.name(), small_options());
                     define_add(server);
                     server.start();
                     failures |= 1;
                   } catch (const std::system_error& error) {
                     failures |= error.code().value() == EINVAL &&
                                         std::string(error.what()).find("FIFO") != std::string::npos
                                     ? 0
                                     : 2;
                   }
                   try {
                     (void)probe_server(cleanup.name());
                     failures |= 4;
                   } catch (const std::system_error& error) {
                     failures |= error.code().value() == EINVAL ? 0 : 8;
                   }
                   if (inspect_segment(cleanup.name()).problem.find("FIFO") == std::string::npos) {
                     failures |= 16;
                   }
                   if (remove_dead_segment(cleanup.name(), 0) != CleanOutcome::kUnknown) {
                     failures |= 32;
                   }
                   try {
                     Client client(cleanup.name());
                     failures |= 64;
                   } catch (const std::exception&) {
                   }
                   return failures;
                 }),
                 std::chrono::seconds(20));
  EXPECT_EQ(code, 0) << "bits: 1 started, 2 wrong start error, 4/8 probe, 16 inspect, 32 clean, "
                        "64 client connected; 137 = hung and killed";
}

TEST(ServerFaultTest, ServerInAnotherPidNamespaceIsAlive) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root for a pid namespace";
  }
  const SegmentCleanup cleanup(unique_name("pidns"));
  Gate stop;
  std::array<int, 2> ready{};
  ASSERT_EQ(::pipe(ready.data()), 0);
  // The child enters a new pid namespace; its first child is pid 1 there and sees its own /proc.
  const pid_t outer = start_child([&] {
    ::close(ready[0]);
    if (::unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) {
      return 77;
    }
    const pid_t inner = start_child([&] {
      if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        return 78;
      }
      Server server(cleanup.name(), small_options());
      define_add(server);
      server.start();
      const char pid_one = ::getpid() == 1 ? '1' : 'x';
      (void)::write(ready[1], &pid_one, 1);
      stop.wait_open();
      server.stop();
      return 0;
    });
    stop.close_write();  // only the test's own end keeps the inner server waiting
    return wait_child(inner, std::chrono::seconds(60));
  });
  ::close(ready[1]);
  char pid_one = 0;
  const bool started = ::read(ready[0], &pid_one, 1) == 1;
  ::close(ready[0]);
  if (!started) {
    stop.close_write();
    const int code = wait_child(outer, std::chrono::seconds(20));
    if (code == 77 || code == 78) {
      GTEST_SKIP() << "cannot make a pid namespace here (code " << code << ")";
    }
    FAIL() << "the server in the pid namespace did not start (code " << code << ")";
  }
  EXPECT_EQ(pid_one, '1');

  const ServerProbe probe = probe_server(cleanup.name());
  EXPECT_EQ(probe.liveness, Liveness::kAlive);
  EXPECT_EQ(probe.server.pid, 1);
  EXPECT_FALSE(probe.same_pid_namespace());
  EXPECT_EQ(inspect_segment(cleanup.name()).liveness, Liveness::kAlive);
  EXPECT_EQ(remove_dead_segment(cleanup.name(), 0), CleanOutcome::kAlive);
  {
    Server host(cleanup.name(), small_options());
    define_add(host);
    try {
      host.start();
      ADD_FAILURE() << "a host server replaced the live server of the pid namespace";
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), HasSubstr("already running (pid 1 in another pid namespace)"));
    }
  }
  {
    Client client(cleanup.name());
    EXPECT_EQ(client.call<std::int64_t>("add", 2, 3), 5);
    // The server's channel thread checks its owner about once a second: it must not take a
    // host process for dead because its pid means nothing in the server's namespace.
    std::this_thread::sleep_for(milliseconds(1500));
    EXPECT_EQ(client.call<std::int64_t>("add", 4, 5), 9);
    EXPECT_THROW(Client{cleanup.name()}, ChannelsBusyError) << "the one channel is still ours";
  }
  stop.close_write();
  EXPECT_EQ(wait_child(outer, std::chrono::seconds(20)), 0);
  EXPECT_EQ(probe_server(cleanup.name()).liveness, Liveness::kNone);
}

TEST(ServerFaultTest, StopEndsWithinTheGraceWhileACallRuns) {
  ServerOptions options = small_options();
  options.stop_grace = milliseconds(300);
  ServerProcess server(unique_name("grace"), define_test_functions, options);
  const SegmentCleanup cleanup(server.name());
  const pid_t caller = start_child([&] {
    try {
      Client client(server.name());
      client.call<void>("sleep_ms", std::int32_t{20'000});
      return 1;
    } catch (const ServerGoneError& error) {
      return std::string(error.what()).find("stopped") != std::string::npos ? 0 : 2;
    } catch (const std::exception&) {
      return 3;
    }
  });
  // Let the call start.
  for (int i = 0; i < 200; ++i) {
    const SegmentInspection seen = inspect_segment(server.name());
    if (!seen.channels.empty() && seen.channels[0].call_state == layout::CallState::kRunning) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  const auto begin = steady_clock::now();
  const int status = server.kill(SIGTERM);
  const auto took = steady_clock::now() - begin;
  EXPECT_TRUE(WIFEXITED(status)) << "status " << status << " (killed after 5 s?)";
  EXPECT_LT(took, std::chrono::seconds(3)) << "stop_grace is 300 ms";
  EXPECT_EQ(stat_of(server.name()).st_ino, 0U) << "the segment is removed";
  EXPECT_EQ(wait_child(caller, std::chrono::seconds(10)), 0)
      << "the abandoned call's client gets ServerGoneError (stopped)";
}

TEST(ServerFaultTest, AbandonedCallOutlivesItsServerObject) {
  const SegmentCleanup cleanup(unique_name("abandoned"));
  std::atomic<bool> finished{false};
  {
    ServerOptions options = small_options();
    options.stop_grace = milliseconds(50);
    Server server(cleanup.name(), options);
    server.def("slow", [&finished] {
      std::this_thread::sleep_for(milliseconds(400));
      finished.store(true);
    });
    server.start();
    std::thread caller([&] {
      Client client(cleanup.name());
      EXPECT_THROW(client.call<void>("slow"), ServerGoneError);
    });
    std::this_thread::sleep_for(milliseconds(100));
    const auto begin = steady_clock::now();
    server.stop();
    EXPECT_LT(steady_clock::now() - begin, milliseconds(350)) << "stop waited for the call";
    caller.join();
  }  // the Server is gone; its abandoned call still runs
  for (int i = 0; i < 100 && !finished.load(); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(finished.load()) << "the abandoned function ran to its end";
  std::this_thread::sleep_for(milliseconds(50));  // its thread leaves and unmaps
}

TEST(ServerFaultTest, ModeMustBeReadWriteBitsIncludingTheOwners) {
  for (const mode_t mode : {mode_t{0}, mode_t{0400}, mode_t{0200}, mode_t{0700}, mode_t{04600},
                            mode_t{01600}, mode_t{02660}, mode_t{0666 | 0111}}) {
    SCOPED_TRACE("mode " + std::to_string(mode));
    ServerOptions options = small_options();
    options.mode = mode;
    try {
      Server server(unique_name("mode"), options);
      ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& error) {
      EXPECT_THAT(error.what(), HasSubstr("ServerOptions::mode"));
      EXPECT_THAT(error.what(), HasSubstr("0666"));
    }
  }
  for (const mode_t mode : {mode_t{0600}, mode_t{0640}, mode_t{0660}, mode_t{0666}}) {
    ServerOptions options = small_options();
    options.mode = mode;
    EXPECT_NO_THROW(Server(unique_name("mode"), options));
  }
}

TEST(ServerFaultTest, GroupTheUserIsNotInSaysSo) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to become another user";
  }
  const std::string name = unique_name("group");
  const SegmentCleanup cleanup(name);
  const int code = run_in_child([&] {
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      return 77;
    }
    ServerOptions options = small_options();
    options.mode = 0660;
    options.group = 0;  // root's group: nobody is not a member
    Server server(name, options);
    define_add(server);
    try {
      server.start();
      return 1;
    } catch (const std::system_error& error) {
      const std::string what = error.what();
      return what.find("group 0") != std::string::npos &&
                     what.find("not a member") != std::string::npos
                 ? 0
                 : 2;
    }
  });
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace shmrpc::test
