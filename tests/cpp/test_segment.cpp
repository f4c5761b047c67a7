// Segments and server lifecycle: names, permissions, sizes, a full /dev/shm, a name held by a live
// server, a segment left by a killed server, a graceful stop, and an idle server's CPU use.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/detail/process.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/probe.hpp"
#include "shmrpc/segment.hpp"
#include "shmrpc/server.hpp"

namespace shmrpc::test {
namespace {

using testing::HasSubstr;

std::string shm_path(const std::string& name) {
  return "/dev/shm/shmrpc." + name;
}

bool shm_file_exists(const std::string& name) {
  struct stat st {};
  return ::stat(shm_path(name).c_str(), &st) == 0;
}

// Small servers: one channel, a 64 KiB arena.
ServerOptions small_options() {
  return {.channels = 1, .arena_size = std::uint64_t{64} << 10U};
}

// utime + stime of `pid` in clock ticks (/proc/PID/stat fields 14 and 15).
std::uint64_t cpu_ticks(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');  // the command name (field 2) may hold spaces
  if (paren == std::string::npos) {
    throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/stat");
  }
  std::istringstream fields(text.substr(paren + 2));
  std::vector<std::string> values;
  for (std::string value; fields >> value;) {
    values.push_back(value);
  }
  // values[0] is field 3.
  return std::stoull(values.at(14 - 3)) + std::stoull(values.at(15 - 3));
}

TEST(SegmentTest, ValidateNameRejectsNamesThatCouldLeaveDevShm) {
  for (const std::string& name :
       std::vector<std::string>{"", "a/b", "/x", ".hidden", "..", "a b", "a\nb"}) {
    SCOPED_TRACE("name '" + name + "'");
    EXPECT_THROW(validate_name(name), std::invalid_argument);
  }
}

TEST(SegmentTest, ValidateNameRejectsATooLongNameNamingTheLimit) {
  EXPECT_NO_THROW(validate_name(std::string(200, 'a')));
  try {
    validate_name(std::string(201, 'a'));
    FAIL() << "a 201-character name was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("201 characters long"));
    EXPECT_THAT(error.what(), HasSubstr("at most 200"));
  }
}

TEST(SegmentTest, ValidateNameAcceptsOrdinaryNames) {
  EXPECT_NO_THROW(validate_name("demo"));
  EXPECT_NO_THROW(validate_name("a.b-c_1"));
  EXPECT_NO_THROW(validate_name("-dash"));
  EXPECT_EQ(shm_object_name("demo"), "/shmrpc.demo");
}

TEST(SegmentTest, CreateMakesAPrivateSegmentOfTheRequestedSize) {
  const SegmentCleanup cleanup(unique_name("create"));
  constexpr std::size_t kSize = 12345;
  Segment segment = Segment::create(cleanup.name(), kSize, 0600);
  EXPECT_FALSE(shm_file_exists(cleanup.name())) << "not visible before publish()";
  ASSERT_TRUE(segment.publish());
  EXPECT_EQ(segment.size(), kSize);
  EXPECT_EQ(segment.name(), cleanup.name());
  ASSERT_NE(segment.data(), nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(shm_path(cleanup.name()).c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_mode & 07777U, 0600U);
  EXPECT_EQ(static_cast<std::size_t>(st.st_size), kSize);
  // Freshly created: zero-filled, and writable to the last byte.
  EXPECT_EQ(segment.data()[0], std::byte{0});
  EXPECT_EQ(segment.data()[kSize - 1], std::byte{0});
  segment.data()[kSize - 1] = std::byte{42};
  EXPECT_EQ(segment.data()[kSize - 1], std::byte{42});
}

TEST(SegmentTest, OpenMapsTheSameBytes) {
  const SegmentCleanup cleanup(unique_name("open"));
  Segment created = Segment::create(cleanup.name(), 4096, 0600);
  ASSERT_TRUE(created.publish());
  const Segment opened = Segment::open(cleanup.name());
  EXPECT_TRUE(opened.held()) << "its creator holds it";
  EXPECT_EQ(opened.size(), 4096U);
  EXPECT_NE(opened.data(), created.data());
  created.data()[100] = std::byte{7};
  EXPECT_EQ(opened.data()[100], std::byte{7});
}

TEST(SegmentTest, PublishLeavesANameHeldByALiveHolder) {
  const SegmentCleanup cleanup(unique_name("taken"));
  Segment first = Segment::create(cleanup.name(), 4096, 0600);
  ASSERT_TRUE(first.publish());
  first.data()[0] = std::byte{1};
  Segment second = Segment::create(cleanup.name(), 4096, 0600);
  EXPECT_FALSE(second.publish()) << "a second segment took a held name";
  EXPECT_EQ(Segment::open(cleanup.name()).data()[0], std::byte{1}) << "the first one stays";
  EXPECT_EQ(Segment::remove_unheld(cleanup.name()), RemoveOutcome::kHeld);
}

TEST(SegmentTest, PublishReplacesASegmentNobodyHolds) {
  const SegmentCleanup cleanup(unique_name("leftover"));
  {
    Segment leftover = Segment::create(cleanup.name(), 4096, 0600);
    ASSERT_TRUE(leftover.publish());
    leftover.data()[0] = std::byte{1};
  }  // its holder is gone
  EXPECT_FALSE(Segment::open(cleanup.name()).held());
  Segment replacement = Segment::create(cleanup.name(), 4096, 0600);
  ASSERT_TRUE(replacement.publish());
  EXPECT_EQ(Segment::open(cleanup.name()).data()[0], std::byte{0});
  EXPECT_TRUE(replacement.unlink_own());
  EXPECT_FALSE(shm_file_exists(cleanup.name()));
  EXPECT_EQ(Segment::remove_unheld(cleanup.name()), RemoveOutcome::kGone);
}

TEST(SegmentTest, OpenOfAMissingSegmentThrowsEnoent) {
  const std::string name = unique_name("missing");
  try {
    (void)Segment::open(name);
    FAIL() << "opened a segment that does not exist";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), ENOENT);
    EXPECT_THAT(error.what(), HasSubstr(name));
  }
}

TEST(SegmentTest, UnlinkRemovesTheNameButKeepsMappings) {
  const SegmentCleanup cleanup(unique_name("unlink"));
  Segment segment = Segment::create(cleanup.name(), 4096, 0600);
  ASSERT_TRUE(segment.publish());
  EXPECT_TRUE(shm_file_exists(cleanup.name()));
  EXPECT_TRUE(Segment::unlink(cleanup.name()));
  EXPECT_FALSE(shm_file_exists(cleanup.name()));
  EXPECT_FALSE(Segment::unlink(cleanup.name()));
  EXPECT_THROW((void)Segment::open(cleanup.name()), std::system_error);
  segment.data()[4095] = std::byte{1};  // still mapped
  EXPECT_EQ(segment.data()[4095], std::byte{1});
}

TEST(SegmentTest, ServerModeOptionSetsThePermissionBits) {
  const SegmentCleanup cleanup(unique_name("mode"));
  ServerOptions options = small_options();
  options.mode = 0640;
  Server server(cleanup.name(), options);
  server.def("noop", [] {});
  server.start();
  struct stat st {};
  ASSERT_EQ(::stat(shm_path(cleanup.name()).c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_mode & 07777U, 0640U);
  server.stop();
  EXPECT_FALSE(shm_file_exists(cleanup.name()));
}

TEST(SegmentTest, ServerGroupOptionSetsTheOwningGroup) {
  const SegmentCleanup cleanup(unique_name("group"));
  // root may give the segment any group; anyone else only one of their own.
  const gid_t group = ::geteuid() == 0 ? 4242 : ::getegid();
  ServerOptions options = small_options();
  options.mode = 0660;
  options.group = group;
  Server server(cleanup.name(), options);
  server.def("noop", [] {});
  server.start();
  struct stat st {};
  ASSERT_EQ(::stat(shm_path(cleanup.name()).c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_gid, group);
  EXPECT_EQ(st.st_mode & 07777U, 0660U);
}

TEST(SegmentTest, ServerWithoutRoomFailsAtStartNotLater) {
  constexpr std::uint64_t kTiB = std::uint64_t{1} << 40U;
  struct statvfs fs {};
  ASSERT_EQ(::statvfs("/dev/shm", &fs), 0) << std::strerror(errno);
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (fs.f_blocks == 0 || free_bytes >= kTiB) {
    // An unlimited tmpfs reports no blocks; reserving 1 TiB there would eat the machine's memory.
    GTEST_SKIP() << "/dev/shm has room for 1 TiB or no size limit";
  }
  const SegmentCleanup cleanup(unique_name("full"));
  Server server(cleanup.name(), {.channels = 1, .arena_size = kTiB});
  server.def("noop", [] {});
  try {
    server.start();
    FAIL() << "a server reserved a 1 TiB arena in a " << free_bytes << "-byte /dev/shm";
  } catch (const std::system_error& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot reserve"));
    EXPECT_THAT(error.what(), HasSubstr(cleanup.name()));
  }
  EXPECT_FALSE(server.running());
  EXPECT_EQ(probe_server(cleanup.name()).liveness, Liveness::kNone);
  EXPECT_FALSE(shm_file_exists(cleanup.name()));
}

TEST(SegmentTest, SecondServerOfALiveNameNamesTheOwnerPid) {
  ServerProcess first(unique_name("live"), define_test_functions);
  Server second(first.name(), small_options());
  second.def("noop", [] {});
  try {
    second.start();
    FAIL() << "a second server took the name of a live one";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("already running"));
    EXPECT_THAT(error.what(), HasSubstr("pid " + std::to_string(first.pid())));
  }
  EXPECT_FALSE(second.running());
  // The first server was not disturbed.
  const ServerProbe probe = probe_server(first.name());
  EXPECT_EQ(probe.liveness, Liveness::kAlive);
  EXPECT_EQ(probe.server.pid, first.pid());
  Client client(first.name());
  EXPECT_EQ(client.call<std::int64_t>("add", 2, 3), 5);
}

TEST(SegmentTest, SegmentOfAKilledServerIsReclaimed) {
  ServerProcess killed(unique_name("killed"), define_test_functions);
  const SegmentCleanup cleanup(killed.name());
  const pid_t old_pid = killed.pid();
  const int status = killed.kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  EXPECT_TRUE(shm_file_exists(cleanup.name()));
  const ServerProbe dead = probe_server(cleanup.name());
  EXPECT_EQ(dead.liveness, Liveness::kDead);
  EXPECT_EQ(dead.server.pid, old_pid);
  EXPECT_THROW(Client{cleanup.name()}, NoServerError);

  Server replacement(cleanup.name(), small_options());
  replacement.def("add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"});
  ASSERT_NO_THROW(replacement.start());
  const ServerProbe alive = probe_server(cleanup.name());
  EXPECT_EQ(alive.liveness, Liveness::kAlive);
  EXPECT_EQ(alive.server.pid, ::getpid());
  Client client(cleanup.name());
  EXPECT_EQ(client.call<std::int64_t>("add", 40, 2), 42);
}

TEST(SegmentTest, GracefulStopRemovesTheSegment) {
  ServerProcess server(unique_name("graceful"), define_test_functions);
  const SegmentCleanup cleanup(server.name());
  EXPECT_EQ(probe_server(cleanup.name()).liveness, Liveness::kAlive);
  const int status = server.kill(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(probe_server(cleanup.name()).liveness, Liveness::kNone);
  EXPECT_FALSE(shm_file_exists(cleanup.name()));
}

TEST(SegmentTest, InProcessStopRemovesTheSegment) {
  const SegmentCleanup cleanup(unique_name("stop"));
  Server server(cleanup.name(), small_options());
  server.def("noop", [] {});
  server.start();
  EXPECT_TRUE(server.running());
  EXPECT_EQ(probe_server(cleanup.name()).liveness, Liveness::kAlive);
  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_EQ(probe_server(cleanup.name()).liveness, Liveness::kNone);
  server.stop();  // idempotent
  EXPECT_THROW(server.start(), std::logic_error);
}

// A CPU-use property, not a latency: a spinning server would use about one tick per tick.
TEST(SegmentTest, IdleServerUsesAlmostNoCpu) {
  ServerProcess server(unique_name("idle"), define_test_functions);
  {
    Client client(server.name());  // one call first: the channel thread must stop spinning after it
    EXPECT_EQ(client.call<std::int64_t>("add", 2, 3), 5);
  }
  const double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t before = cpu_ticks(server.pid());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const std::uint64_t after = cpu_ticks(server.pid());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double used_per_second = static_cast<double>(after - before) / seconds;
  RecordProperty("idle_ticks_per_second", std::to_string(used_per_second));
  EXPECT_LT(used_per_second, 20.0) << "the idle server used " << (after - before) << " of "
                                   << ticks_per_second * seconds << " clock ticks";
  EXPECT_EQ(::kill(server.pid(), 0), 0);
}

}  // namespace
}  // namespace shmrpc::test
