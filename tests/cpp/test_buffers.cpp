// Buffer segments: the server's buffer table and a client's mapping cache, through real processes
// and the real /dev/shm (and a private 16 MiB tmpfs for a full /dev/shm).

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/call_frame.hpp"
#include "shmrpc/detail/buffer_mappings.hpp"
#include "shmrpc/detail/buffer_table.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc::test {
namespace {

using detail::Buffer;
using detail::BufferMappings;
using detail::BufferTable;
using testing::HasSubstr;

constexpr std::uint64_t kKiB = std::uint64_t{1} << 10U;
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20U;

// Owner words as clients have them: a pid in the low 32 bits, never 0.
constexpr std::uint64_t kClient = 0x0000'1234'0000'0042;
constexpr std::uint64_t kOtherClient = 0x0000'5678'0000'0043;

// Removes every file of server `name` (its segment and its buffers) when the test ends, passed or
// failed.
class BufferFilesCleanup {
 public:
  explicit BufferFilesCleanup(std::string name) : name_(std::move(name)) {}
  ~BufferFilesCleanup() {
    try {
      BufferTable::remove_leftovers(name_);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "cannot remove the buffers of '%s': %s\n", name_.c_str(), error.what());
    }
    Segment::unlink(name_);
  }
  BufferFilesCleanup(const BufferFilesCleanup&) = delete;
  BufferFilesCleanup& operator=(const BufferFilesCleanup&) = delete;
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
};

// Removes files the test made by hand, when the test ends.
class PathCleanup {
 public:
  explicit PathCleanup(std::vector<std::string> paths) : paths_(std::move(paths)) {}
  ~PathCleanup() {
    for (const std::string& path : paths_) {
      ::unlink(path.c_str());
    }
  }
  PathCleanup(const PathCleanup&) = delete;
  PathCleanup& operator=(const PathCleanup&) = delete;

 private:
  std::vector<std::string> paths_;
};

std::string buffer_path(const std::string& server, std::uint64_t id) {
  return segment_path(buffer_name(server, id));
}

bool buffer_file_exists(const std::string& server, std::uint64_t id) {
  struct stat st {};
  return ::lstat(buffer_path(server, id).c_str(), &st) == 0;
}

// A byte pattern that differs between buffers and between neighbouring pages.
std::byte pattern(std::uint64_t id, std::size_t i) {
  return static_cast<std::byte>((i ^ (i >> 12U) ^ (id * 37)) & 0xFFU);
}

void fill(std::byte* data, std::size_t size, std::uint64_t id) {
  for (std::size_t i = 0; i < size; ++i) {
    data[i] = pattern(id, i);
  }
}

// Index of the first byte that differs from the pattern, or `size` if none does.
std::size_t first_mismatch(const std::byte* data, std::size_t size, std::uint64_t id) {
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] != pattern(id, i)) {
      return i;
    }
  }
  return size;
}

// The message of the BadRequest `body` throws, or a note that it threw none.
std::string bad_request_message(const std::function<void()>& body) {
  try {
    body();
  } catch (const BadRequest& error) {
    return error.what();
  }
  return "(no BadRequest thrown)";
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string read_all(int fd) {
  std::string text;
  std::array<char, 512> chunk{};
  for (;;) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return text;
    }
    text.append(chunk.data(), static_cast<std::size_t>(n));
  }
}

// One byte through a pipe: the two sides of a test take turns.
void signal_pipe(int fd) {
  write_all(fd, "x");
}

bool wait_pipe(int fd) {
  char byte = 0;
  ssize_t n = 0;
  do {
    n = ::read(fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  return n == 1;
}

class Pipe {
 public:
  Pipe() {
    if (::pipe(fds_.data()) != 0) {
      throw std::system_error(errno, std::generic_category(), "pipe");
    }
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int read_end() const noexcept { return fds_[0]; }
  int write_end() const noexcept { return fds_[1]; }
  void close_read() noexcept { close(0); }
  void close_write() noexcept { close(1); }

 private:
  void close(std::size_t end) noexcept {
    if (fds_.at(end) >= 0) {
      ::close(fds_.at(end));
      fds_.at(end) = -1;
    }
  }
  std::array<int, 2> fds_{-1, -1};
};

TEST(BufferTableTest, ChildWritesThroughItsMappingsAndTheServerSeesTheBytes) {
  const BufferFilesCleanup cleanup(unique_name("sizes"));
  BufferTable table(cleanup.name());
  std::vector<Buffer> buffers;
  for (const std::uint64_t size : {kKiB, kMiB, 256 * kMiB}) {
    buffers.push_back(table.make(kClient, size));
  }
  for (const Buffer& buffer : buffers) {
    SCOPED_TRACE("buffer of " + std::to_string(buffer.size) + " bytes");
    struct stat st {};
    ASSERT_EQ(::lstat(buffer_path(cleanup.name(), buffer.id).c_str(), &st), 0)
        << std::strerror(errno);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), buffer.size);
    EXPECT_EQ(st.st_mode & 07777U, 0600U);
    // posix_fallocate reserved every byte: the file is not sparse.
    EXPECT_GE(static_cast<std::uint64_t>(st.st_blocks) * 512, buffer.size);
  }

  const int code = run_in_child([&] {
    BufferMappings mappings(cleanup.name());
    for (const Buffer& buffer : buffers) {
      const auto mapping = mappings.map(buffer.id, buffer.size);
      if (mapping->data() == buffer.data()) {
        return 2;  // the server's mapping, inherited through fork: not what a client would have
      }
      fill(mapping->data(), buffer.size, buffer.id);
    }
    return 0;
  });
  ASSERT_EQ(code, 0);
  for (const Buffer& buffer : buffers) {
    EXPECT_EQ(first_mismatch(buffer.data(), buffer.size, buffer.id), buffer.size)
        << "buffer of " << buffer.size << " bytes";
  }
}

TEST(BufferTableTest, ReleaseRemovesTheFile) {
  const BufferFilesCleanup cleanup(unique_name("release"));
  BufferTable table(cleanup.name());
  const Buffer buffer = table.make(kClient, 4 * kKiB);
  ASSERT_TRUE(buffer_file_exists(cleanup.name(), buffer.id));
  EXPECT_EQ(table.count(), 1U);
  table.release(buffer.id, kClient);
  EXPECT_FALSE(buffer_file_exists(cleanup.name(), buffer.id));
  EXPECT_EQ(table.count(), 0U);
  EXPECT_THAT(bad_request_message([&] { table.release(buffer.id, kClient); }),
              HasSubstr("buffer " + std::to_string(buffer.id) + " does not exist"));
}

TEST(BufferTableTest, ReleaseByAnotherOwnerIsRefused) {
  const BufferFilesCleanup cleanup(unique_name("notowner"));
  BufferTable table(cleanup.name());
  const Buffer buffer = table.make(kClient, 4 * kKiB);
  const std::string message = bad_request_message([&] { table.release(buffer.id, kOtherClient); });
  EXPECT_THAT(message, HasSubstr("buffer " + std::to_string(buffer.id) + " is not owned by " +
                                 "0x567800000043; only its owner may release it"));
  EXPECT_THAT(message, testing::Not(HasSubstr("0x123400000042")));  // not another client's pid
  EXPECT_TRUE(buffer_file_exists(cleanup.name(), buffer.id));
  EXPECT_EQ(table.count(), 1U);
  EXPECT_NO_THROW(table.find(buffer.id, 0, buffer.size, 1));
}

TEST(BufferTableTest, GiveHandsTheBufferToItsNewOwner) {
  const BufferFilesCleanup cleanup(unique_name("give"));
  BufferTable table(cleanup.name());
  const Buffer result = table.make(detail::kServerOwner, kKiB);
  EXPECT_THAT(bad_request_message([&] { table.give(result.id, kClient, kOtherClient); }),
              HasSubstr("only its owner may give it away"));
  table.give(result.id, detail::kServerOwner, kClient);
  EXPECT_THAT(bad_request_message([&] { table.release(result.id, detail::kServerOwner); }),
              HasSubstr("only its owner may release it"));
  EXPECT_TRUE(buffer_file_exists(cleanup.name(), result.id));
  table.release(result.id, kClient);
  EXPECT_FALSE(buffer_file_exists(cleanup.name(), result.id));
}

TEST(BufferTableTest, FindRejectsHostileHandlesSayingWhatIsAllowed) {
  const BufferFilesCleanup cleanup(unique_name("hostile"));
  BufferTable table(cleanup.name());
  const Buffer buffer = table.make(kClient, kKiB);
  const std::string id = std::to_string(buffer.id);
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();

  EXPECT_THAT(bad_request_message([&] { table.find(buffer.id + 1000, 0, 8, 8); }),
              HasSubstr("buffer " + std::to_string(buffer.id + 1000) +
                        " does not exist: it was never made or has been released"));
  EXPECT_THAT(bad_request_message([&] { table.find(buffer.id, 1025, 0, 1); }),
              HasSubstr("0 bytes at offset 1025 run past the end of buffer " + id +
                        ", which holds 1024 bytes"));
  EXPECT_THAT(bad_request_message([&] { table.find(buffer.id, 1000, 100, 1); }),
              HasSubstr("100 bytes at offset 1000 run past the end of buffer " + id +
                        ", which holds 1024 bytes"));
  EXPECT_THAT(bad_request_message([&] { table.find(buffer.id, 8, kMax, 1); }),
              HasSubstr("offset 8 plus length 18446744073709551615 in buffer " + id +
                        " overflows 64 bits; the buffer holds 1024 bytes"));
  EXPECT_THAT(bad_request_message([&] { table.find(buffer.id, kMax, 1, 1); }),
              HasSubstr("overflows 64 bits"));
  EXPECT_THAT(bad_request_message([&] { table.find(buffer.id, 4, 8, 8); }),
              HasSubstr("offset 4 in buffer " + id + " is not aligned to 8 bytes"));

  // The edges that are allowed.
  const auto whole = table.find(buffer.id, 0, kKiB, 8);
  EXPECT_EQ(whole.data, buffer.data());
  EXPECT_EQ(whole.length, kKiB);
  const auto end = table.find(buffer.id, kKiB, 0, 1);
  EXPECT_EQ(end.data, buffer.data() + kKiB);
  EXPECT_EQ(end.length, 0U);
}

TEST(BufferTableTest, ASpareBecomesANewBufferUnderAFreshIdZeroed) {
  const BufferFilesCleanup cleanup(unique_name("spare"));
  BufferTable table(cleanup.name(), 0600, static_cast<gid_t>(-1), 64 * kKiB);
  std::uint64_t id = 0;
  const std::byte* data = nullptr;
  {
    const Buffer buffer = table.make(kClient, 64 * kKiB);
    id = buffer.id;
    data = buffer.data();
    fill(buffer.data(), buffer.size, id);
  }
  std::shared_ptr<Segment> spare = table.release_for_reuse(id, kClient);
  ASSERT_NE(spare, nullptr);
  EXPECT_EQ(table.count(), 0U);
  EXPECT_THAT(bad_request_message([&] { table.find(id, 0, 1, 1); }),
              HasSubstr("buffer " + std::to_string(id) + " does not exist"));
  // The quota was refunded: a buffer of the whole quota fits meanwhile.
  EXPECT_NO_THROW(table.release(table.make(kClient, 64 * kKiB).id, kClient));

  const Buffer reused = table.make_from(spare, kClient);
  EXPECT_GT(reused.id, id);
  EXPECT_EQ(reused.size, 64 * kKiB);
  EXPECT_EQ(reused.data(), data) << "the same mapping: no file made, no page faulted";
  EXPECT_FALSE(buffer_file_exists(cleanup.name(), id)) << "the old name is gone";
  EXPECT_TRUE(buffer_file_exists(cleanup.name(), reused.id));
  EXPECT_EQ(std::count(reused.data(), reused.data() + reused.size, std::byte{0}),
            static_cast<std::ptrdiff_t>(reused.size))
      << "no byte of the earlier buffer shows";
  EXPECT_NO_THROW(table.find(reused.id, 0, reused.size, 1));
  // Charged again: the owner's quota is full.
  EXPECT_THROW((void)table.make(kClient, 1), OutOfSharedMemoryError);
  table.release(reused.id, kClient);
  EXPECT_FALSE(buffer_file_exists(cleanup.name(), reused.id));
}

TEST(BufferTableTest, ABufferACallStillUsesIsReleasedNotKeptForReuse) {
  const BufferFilesCleanup cleanup(unique_name("nospare"));
  BufferTable table(cleanup.name());
  const Buffer buffer = table.make(kClient, 4 * kKiB);
  const auto range = table.find(buffer.id, 0, 4 * kKiB, 1);  // a call still running
  EXPECT_EQ(table.release_for_reuse(buffer.id, kClient), nullptr);
  EXPECT_FALSE(buffer_file_exists(cleanup.name(), buffer.id));
  EXPECT_THAT(bad_request_message([&] { (void)table.release_for_reuse(buffer.id, kClient); }),
              HasSubstr("does not exist"));
}

TEST(BufferTableTest, FoundRangeStaysMappedAfterTheBufferIsReleased) {
  const BufferFilesCleanup cleanup(unique_name("inflight"));
  BufferTable table(cleanup.name());
  const Buffer buffer = table.make(kClient, 64 * kKiB);
  const std::uint64_t id = buffer.id;
  fill(buffer.data(), buffer.size, id);
  const auto range = table.find(id, 4096, 8192, 8);
  // A call still running holds `range` while the client's release runs on another thread.
  table.release(id, kClient);
  EXPECT_FALSE(buffer_file_exists(cleanup.name(), id));
  EXPECT_EQ(first_mismatch(range.data - 4096, 4096 + range.length, id), 4096 + range.length);
}

TEST(BufferTableTest, MappingAChildHoldsStaysReadableAfterTheBufferIsReleased) {
  const BufferFilesCleanup cleanup(unique_name("unlinked"));
  BufferTable table(cleanup.name());
  const Buffer buffer = table.make(kClient, kMiB);
  fill(buffer.data(), buffer.size, buffer.id);
  Pipe mapped;
  Pipe released;
  const pid_t child = start_child([&] {
    std::shared_ptr<const Segment> mapping;
    {
      BufferMappings mappings(cleanup.name());
      mapping = mappings.map(buffer.id, buffer.size);
    }  // the cache is gone too: the array's reference alone keeps the bytes
    signal_pipe(mapped.write_end());
    if (!wait_pipe(released.read_end())) {
      return 2;
    }
    if (buffer_file_exists(cleanup.name(), buffer.id)) {
      return 3;
    }
    return first_mismatch(mapping->data(), buffer.size, buffer.id) == buffer.size ? 0 : 4;
  });
  ASSERT_TRUE(wait_pipe(mapped.read_end()));
  table.release(buffer.id, kClient);
  EXPECT_FALSE(buffer_file_exists(cleanup.name(), buffer.id));
  signal_pipe(released.write_end());
  EXPECT_EQ(wait_child(child), 0);
}

TEST(BufferTableTest, ReleaseOwnerFreesExactlyThatOwnersBuffers) {
  const BufferFilesCleanup cleanup(unique_name("owner"));
  BufferTable table(cleanup.name());
  std::vector<std::uint64_t> dead;
  std::vector<std::uint64_t> alive;
  for (int i = 0; i < 3; ++i) {
    dead.push_back(table.make(kClient, kKiB).id);
    alive.push_back(table.make(kOtherClient, kKiB).id);
  }
  alive.push_back(table.make(detail::kServerOwner, kKiB).id);
  EXPECT_EQ(table.release_owner(kClient), 3U);
  for (const std::uint64_t id : dead) {
    EXPECT_FALSE(buffer_file_exists(cleanup.name(), id)) << "buffer " << id;
    EXPECT_THROW(table.find(id, 0, 1, 1), BadRequest);
  }
  for (const std::uint64_t id : alive) {
    EXPECT_TRUE(buffer_file_exists(cleanup.name(), id)) << "buffer " << id;
    EXPECT_NO_THROW(table.find(id, 0, kKiB, 1));
  }
  EXPECT_EQ(table.count(), alive.size());
  EXPECT_EQ(table.release_owner(kClient), 0U);
}

TEST(BufferTableTest, DestroyingTheTableRemovesItsFiles) {
  const BufferFilesCleanup cleanup(unique_name("stop"));
  std::vector<std::uint64_t> ids;
  {
    BufferTable table(cleanup.name());
    ids.push_back(table.make(kClient, kKiB).id);
    ids.push_back(table.make(kOtherClient, kKiB).id);
    EXPECT_EQ(buffer_files(cleanup.name()).size(), 2U);
  }
  EXPECT_THAT(buffer_files(cleanup.name()), testing::IsEmpty());
}

TEST(BufferTableTest, IdsAreNeverReusedAndSkipNamesOthersTook) {
  const BufferFilesCleanup cleanup(unique_name("ids"));
  BufferTable table(cleanup.name());
  const Buffer first = table.make(kClient, kKiB);
  EXPECT_EQ(first.id, 1U);
  table.release(first.id, kClient);
  // A file planted under the next buffer's name (another local user may do this in /dev/shm).
  const std::string planted = buffer_path(cleanup.name(), 2);
  const PathCleanup planted_cleanup({planted});
  const int fd = ::open(planted.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ::close(fd);
  const Buffer next = table.make(kClient, kKiB);
  EXPECT_EQ(next.id, 3U);
  struct stat st {};
  ASSERT_EQ(::lstat(planted.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0) << "the planted file was replaced";
}

TEST(BufferTableTest, RemoveLeftoversRemovesADeadServersBuffersAndNothingElse) {
  const BufferFilesCleanup dead(unique_name("dead"));
  const BufferFilesCleanup longer(dead.name() + "x");  // a server whose name extends the dead one's
  const BufferFilesCleanup other(unique_name("other"));
  // The dead server: made three buffers and died without releasing them.
  const int code = run_in_child([&] {
    BufferTable table(dead.name());
    for (int i = 0; i < 3; ++i) {
      table.make(kClient, kKiB);
    }
    ::_exit(0);  // no destructor: as if killed
    return 1;
  });
  ASSERT_EQ(code, 0);
  ASSERT_EQ(buffer_files(dead.name()).size(), 3U);
  // Its segment (a successor's, say), other servers' buffers, and names that are no buffer's.
  Segment segment = Segment::create(dead.name(), 4096, 0600);
  ASSERT_TRUE(segment.publish());
  BufferTable longer_table(longer.name());
  const Buffer longer_buffer = longer_table.make(kClient, kKiB);
  BufferTable other_table(other.name());
  const Buffer other_buffer = other_table.make(kClient, kKiB);
  const std::string not_a_buffer = segment_path(dead.name()) + "@12x";
  const std::string no_id = segment_path(dead.name()) + "@";
  const PathCleanup hand_made({not_a_buffer, no_id});
  for (const std::string& path : {not_a_buffer, no_id}) {
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
    ::close(fd);
  }

  EXPECT_EQ(BufferTable::remove_leftovers(dead.name()), 3U);
  EXPECT_THAT(buffer_files(dead.name()),
              testing::UnorderedElementsAre("shmrpc." + dead.name() + "@12x",
                                            "shmrpc." + dead.name() + "@"));
  struct stat st {};
  EXPECT_EQ(::lstat(segment_path(dead.name()).c_str(), &st), 0) << "the server's own segment";
  EXPECT_TRUE(buffer_file_exists(longer.name(), longer_buffer.id));
  EXPECT_TRUE(buffer_file_exists(other.name(), other_buffer.id));
  EXPECT_EQ(BufferTable::remove_leftovers(dead.name()), 0U);
}

TEST(BufferTableTest, ConcurrentMakeFindGiveReleaseFromManyThreads) {
  const BufferFilesCleanup cleanup(unique_name("threads"));
  BufferTable table(cleanup.name());
  constexpr int kThreads = 4;
  constexpr int kRounds = 100;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&table, &failures, t] {
      const std::uint64_t owner = kClient + static_cast<std::uint64_t>(t);
      for (int round = 0; round < kRounds; ++round) {
        const Buffer buffer = table.make(detail::kServerOwner, 4 * kKiB);
        fill(buffer.data(), buffer.size, buffer.id);
        table.give(buffer.id, detail::kServerOwner, owner);
        const auto range = table.find(buffer.id, 0, buffer.size, 8);
        if (first_mismatch(range.data, range.length, buffer.id) != range.length) {
          ++failures.at(static_cast<std::size_t>(t));
        }
        table.release(buffer.id, owner);
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_THAT(failures, testing::Each(0));
  EXPECT_EQ(table.count(), 0U);
  EXPECT_THAT(buffer_files(cleanup.name()), testing::IsEmpty());
}

TEST(BufferTableTest, MakeRefusesAnEmptyBuffer) {
  const BufferFilesCleanup cleanup(unique_name("empty"));
  BufferTable table(cleanup.name());
  EXPECT_THROW(table.make(kClient, 0), std::invalid_argument);
  EXPECT_THROW(table.make(kClient, std::numeric_limits<std::uint64_t>::max()), std::length_error);
  EXPECT_THAT(buffer_files(cleanup.name()), testing::IsEmpty());
}

// Exit codes of the full-/dev/shm child.
constexpr int kNoNamespace = 77;

TEST(BufferTableTest, FullDevShmIsOutOfSharedMemoryNamingTheSizeAndTheFreeBytes) {
  static_assert(std::is_base_of_v<std::bad_alloc, OutOfSharedMemoryError>);
  const std::string name = unique_name("full");
  struct statvfs before {};
  ASSERT_EQ(::statvfs("/dev/shm", &before), 0) << std::strerror(errno);
  Pipe report;
  const pid_t child = start_child([&] {
    report.close_read();
    // A mount namespace of its own: the tmpfs below hides /dev/shm from this child only.
    if (::unshare(CLONE_NEWNS) != 0) {
      return kNoNamespace;
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      write_all(report.write_end(), std::string("mount --make-rprivate: ") + std::strerror(errno));
      return 2;
    }
    if (::mount("shmrpc-test", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m") != 0) {
      write_all(report.write_end(), std::string("mount tmpfs: ") + std::strerror(errno));
      return 3;
    }
    BufferTable table(name);
    try {
      table.make(kClient, 64 * kMiB);
      write_all(report.write_end(), "a 64 MiB buffer was made in a 16 MiB /dev/shm");
      return 4;
    } catch (const OutOfSharedMemoryError& error) {
      write_all(report.write_end(), error.what());
      if (error.requested_bytes() != 64 * kMiB || !error.free_bytes() ||
          *error.free_bytes() > 16 * kMiB) {
        return 5;
      }
    }
    if (!buffer_files(name).empty()) {
      return 6;  // the failed buffer's file was left behind
    }
    // The server keeps serving: a buffer that fits is made, and every byte of it is usable.
    const Buffer fits = table.make(kClient, 8 * kMiB);
    fill(fits.data(), fits.size, fits.id);
    return first_mismatch(fits.data(), fits.size, fits.id) == fits.size ? 0 : 7;
  });
  report.close_write();
  const std::string message = read_all(report.read_end());
  const int code = wait_child(child);
  if (code == kNoNamespace) {
    GTEST_SKIP() << "unshare(CLONE_NEWNS) is not permitted here (needs root)";
  }
  EXPECT_EQ(code, 0) << message;  // 128 + SIGBUS would mean the bytes were not reserved
  EXPECT_THAT(message, HasSubstr("shmrpc: cannot make a buffer of 67108864 bytes for server '" +
                                 name + "': /dev/shm has 16777216 bytes free"));
  // The test process kept its own /dev/shm.
  struct statvfs after {};
  ASSERT_EQ(::statvfs("/dev/shm", &after), 0) << std::strerror(errno);
  EXPECT_EQ(after.f_fsid, before.f_fsid);
  EXPECT_EQ(after.f_blocks, before.f_blocks);
  EXPECT_THAT(buffer_files(name), testing::IsEmpty());
}

TEST(BufferMappingsTest, MappingAnIdAgainIsACacheLookup) {
  const BufferFilesCleanup cleanup(unique_name("cache"));
  BufferTable table(cleanup.name());
  const Buffer buffer = table.make(kClient, 16 * kKiB);
  BufferMappings mappings(cleanup.name());
  const auto first = mappings.map(buffer.id, buffer.size);
  EXPECT_NE(first->data(), buffer.data());  // its own mapping, as in a client process
  EXPECT_EQ(mappings.count(), 1U);
  // With the file gone, only the cache can answer: mapping again opens nothing.
  table.release(buffer.id, kClient);
  const auto again = mappings.map(buffer.id, buffer.size);
  EXPECT_EQ(again, first);
  EXPECT_EQ(mappings.count(), 1U);
  // Once forgotten, the next map opens the file, which is gone.
  mappings.forget(buffer.id);
  EXPECT_EQ(mappings.count(), 0U);
  try {
    mappings.map(buffer.id, buffer.size);
    FAIL() << "mapped a released buffer";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), ENOENT);
    EXPECT_THAT(error.what(), HasSubstr(buffer_name(cleanup.name(), buffer.id)));
  }
  EXPECT_FALSE(buffer_file_exists(cleanup.name(), buffer.id)) << "map() created a file";
  // The first mapping still holds the bytes.
  first->data()[0] = std::byte{1};
  EXPECT_EQ(first->data()[0], std::byte{1});
}

TEST(BufferMappingsTest, MapRefusesAFileSmallerThanTheServerSaid) {
  const BufferFilesCleanup cleanup(unique_name("short"));
  BufferTable table(cleanup.name());
  const Buffer buffer = table.make(kClient, 4 * kKiB);
  BufferMappings mappings(cleanup.name());
  try {
    mappings.map(buffer.id, buffer.size + 1);
    FAIL() << "mapped a 4096-byte file as 4097 bytes";
  } catch (const ProtocolError& error) {
    EXPECT_THAT(error.what(),
                HasSubstr("buffer segment '" + buffer_name(cleanup.name(), buffer.id) +
                          "' holds 4096 bytes, but the server said it holds 4097 bytes"));
  }
  EXPECT_EQ(mappings.count(), 0U);
  ASSERT_NO_THROW(mappings.map(buffer.id, buffer.size));
  EXPECT_THROW(mappings.map(buffer.id, buffer.size + 1), ProtocolError);  // the cached one too
}

TEST(BufferMappingsTest, MapRefusesWhatIsNotARegularFile) {
  const BufferFilesCleanup cleanup(unique_name("notfile"));
  const std::string target = segment_path(cleanup.name()) + "-target";
  const std::string link = buffer_path(cleanup.name(), 1);
  const std::string fifo = buffer_path(cleanup.name(), 2);
  const PathCleanup hand_made({target, link, fifo});
  const int fd = ::open(target.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::ftruncate(fd, 4096), 0);
  ::close(fd);
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0) << std::strerror(errno);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  BufferMappings mappings(cleanup.name());
  try {
    mappings.map(1, 4096);
    FAIL() << "followed a symbolic link";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), ELOOP);
  }
  try {
    mappings.map(2, 1);  // O_NONBLOCK: a FIFO does not block the open
    FAIL() << "mapped a FIFO";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EINVAL);
    EXPECT_THAT(error.what(), HasSubstr("is a FIFO"));
  }
  EXPECT_EQ(mappings.count(), 0U);
}

}  // namespace
}  // namespace shmrpc::test
