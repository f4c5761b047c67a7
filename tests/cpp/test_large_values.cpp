// Values of any size through a default server: arguments and results larger than the channel heap
// cross in buffer segments, copied or without a copy, and the buffers are freed, reclaimed and
// bounded as docs/SPEC.md (section 6.6) says. Real server processes, the real /dev/shm (and a
// private tmpfs for a full one).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/detail/buffer_table.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/shared_array.hpp"

namespace shmrpc::test {
namespace {

using testing::HasSubstr;

constexpr std::uint64_t kKiB = std::uint64_t{1} << 10U;
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20U;
constexpr std::uint64_t kGiB = std::uint64_t{1} << 30U;

// The server's checksum and pattern functions (server_process.cpp), computed here.
std::uint64_t checksum(const std::uint8_t* bytes, std::size_t size) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < size; ++i) {
    sum += std::uint64_t{bytes[i]} * (i % 251 + 1);
  }
  return sum;
}

std::vector<std::uint8_t> pattern(std::uint64_t size) {
  std::vector<std::uint8_t> out(size);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(i % 253);
  }
  return out;
}

// Index of the first byte of `bytes` that is not the pattern's, or its size.
std::size_t first_mismatch(const std::vector<std::uint8_t>& bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != static_cast<std::uint8_t>(i % 253)) {
      return i;
    }
  }
  return bytes.size();
}

// The buffer files of server `name` in this process's /dev/shm.
std::size_t buffer_files(const std::string& name) {
  const std::string prefix = "shmrpc." + name + "@";
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    if (entry.path().filename().string().starts_with(prefix)) {
      ++count;
    }
  }
  return count;
}

// Waits up to 10 s for the server to have `count` buffer files; returns how many it has.
std::size_t await_buffer_files(const std::string& name, std::size_t count) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (buffer_files(name) != count && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return buffer_files(name);
}

// Buffers left by a server a test killed.
class LeftoverCleanup {
 public:
  explicit LeftoverCleanup(std::string name) : name_(std::move(name)) {}
  ~LeftoverCleanup() {
    try {
      detail::BufferTable::remove_leftovers(name_);
    } catch (...) {  // nothing to clean
    }
  }
  LeftoverCleanup(const LeftoverCleanup&) = delete;
  LeftoverCleanup& operator=(const LeftoverCleanup&) = delete;

 private:
  std::string name_;
};

class LargeValuesTest : public testing::Test {
 protected:
  std::string name_ = unique_name("large");
  LeftoverCleanup cleanup_{name_};
  ServerProcess server_{name_, define_test_functions};  // default options
  Client client_{server_.name()};
};

TEST_F(LargeValuesTest, ArgumentsOfAnySizeAreCopiedIn) {
  for (const std::uint64_t size : {kKiB, kMiB, 16 * kMiB, 256 * kMiB}) {
    const std::vector<std::uint8_t> bytes = pattern(size);
    EXPECT_EQ(client_.call<std::uint64_t>("checksum", bytes), checksum(bytes.data(), size))
        << size << " bytes";
  }
}

TEST_F(LargeValuesTest, ResultsOfAnySizeComeBack) {
  for (const std::uint64_t size : {kKiB, kMiB, 16 * kMiB, 256 * kMiB}) {
    const auto bytes = client_.call<std::vector<std::uint8_t>>("pattern", size);
    ASSERT_EQ(bytes.size(), size);
    EXPECT_EQ(first_mismatch(bytes), size) << size << " bytes";
  }
}

TEST_F(LargeValuesTest, OneGibibyteGoesInAndComesBack) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "6 GiB of page faults take minutes under a sanitizer; the release build runs it";
#endif
  const std::vector<std::uint8_t> in = pattern(kGiB);
  EXPECT_EQ(client_.call<std::uint64_t>("checksum", in), checksum(in.data(), in.size()));
  const auto out = client_.call<std::vector<std::uint8_t>>("pattern", kGiB);
  ASSERT_EQ(out.size(), kGiB);
  EXPECT_EQ(first_mismatch(out), kGiB);
  // Made in shared memory, filled by the server in place, read back without a copy.
  SharedArray<std::uint8_t> shared = client_.zeros<std::uint8_t>(kGiB);
  client_.call("fill_bytes", shared.span(), std::uint8_t{3});
  EXPECT_EQ(client_.call<std::uint64_t>("checksum", shared.span()),
            checksum(std::vector<std::uint8_t>(kGiB, 3).data(), kGiB));
}

TEST_F(LargeValuesTest, AnArrayInABufferPassesWithoutACopy) {
  SharedArray<std::uint8_t> shared = client_.zeros<std::uint8_t>(64 * kMiB);
  EXPECT_GT(shared.size() * sizeof(std::uint8_t), client_.connection()->heap_size());
  const std::size_t mapped = client_.connection()->mapped_buffers();
  client_.call("fill_bytes", shared.span(), std::uint8_t{5});  // in place
  EXPECT_EQ(std::count(shared.begin(), shared.end(), 5), static_cast<std::ptrdiff_t>(64 * kMiB));
  const std::span<std::uint8_t> half = shared.span().subspan(32 * kMiB);
  client_.call("fill_bytes", half, std::uint8_t{6});  // a view into the buffer, at an offset
  EXPECT_EQ(shared[32 * kMiB - 1], 5);
  EXPECT_EQ(shared[32 * kMiB], 6);
  EXPECT_EQ(client_.connection()->mapped_buffers(), mapped)
      << "a copy would have needed a scratch buffer";
}

TEST_F(LargeValuesTest, AResultArrayIsFilledInPlaceAndKeptWithoutACopy) {
  constexpr std::uint64_t kCount = 32 * kMiB / sizeof(double);
  const std::size_t files = buffer_files(name_);
  SharedArray<double> kept = client_.call<SharedArray<double>>("ramp", kCount);
  ASSERT_EQ(kept.size(), kCount);
  EXPECT_EQ(kept[0], 0.0);
  EXPECT_EQ(kept[kCount - 1], static_cast<double>(kCount - 1));
  EXPECT_EQ(buffer_files(name_), files + 1) << "the result is the server's buffer, kept";
  // The same result as a std::vector: one copy, and the buffer is given back.
  const auto copied = client_.call<std::vector<double>>("ramp", std::uint64_t{1000});
  EXPECT_EQ(copied.back(), 999.0);
  // Passed back where it lies.
  EXPECT_EQ(client_.call<std::uint64_t>(
                "checksum",
                std::span<const std::uint8_t>(reinterpret_cast<std::uint8_t*>(kept.data()), 16)),
            checksum(reinterpret_cast<const std::uint8_t*>(kept.data()), 16));
  const auto small = client_.call<SharedArray<double>>("ramp", std::uint64_t{4});
  EXPECT_EQ(small[3], 3.0);  // fits the heap window: kept in the heap
  EXPECT_EQ(client_.call<SharedArray<double>>("ramp", std::uint64_t{0}).size(), 0U);
}

TEST_F(LargeValuesTest, AResultArrayTheFunctionDropsIsReleased) {
  client_.call("noop");
  const std::size_t files = buffer_files(name_);
  EXPECT_EQ(client_.call<std::vector<std::uint8_t>>("drop_result_array", 8 * kMiB, false).size(),
            3U);
  EXPECT_THROW((void)client_.call<std::vector<std::uint8_t>>("drop_result_array", 8 * kMiB, true),
               RemoteError);
  EXPECT_EQ(buffer_files(name_), files);
}

TEST_F(LargeValuesTest, KeptArraysAndResultsDoNotRunOut) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr int kTimes = 100;  // the same checks; the sanitizers' copies take a minute per 1,000
#else
  constexpr int kTimes = 1000;
#endif
  (void)client_.call<std::vector<std::uint8_t>>("pattern", 2 * kMiB);
  client_.call("noop");  // the last result's buffer is released at the next call
  const std::size_t baseline = buffer_files(name_);
  for (int i = 0; i < kTimes; ++i) {
    ASSERT_EQ(client_.call<std::vector<std::uint8_t>>("pattern", 2 * kMiB).size(), 2 * kMiB);
  }
  client_.call("noop");
  EXPECT_EQ(buffer_files(name_), baseline) << "every result buffer was released";
  std::vector<SharedArray<std::uint8_t>> kept;
  for (int i = 0; i < kTimes; ++i) {
    kept.push_back(client_.empty<std::uint8_t>(kMiB));  // 1 GiB in all, in the release build
  }
  EXPECT_EQ(buffer_files(name_), baseline + kTimes);
  kept.clear();
  client_.call("noop");
  EXPECT_EQ(buffer_files(name_), baseline);
}

TEST_F(LargeValuesTest, BuffersOfAKilledClientAreReclaimed) {
  const std::size_t baseline = buffer_files(name_);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = start_child([&] {
    ::close(ready[0]);
    Client client(name_);
    const SharedArray<std::uint8_t> a = client.zeros<std::uint8_t>(32 * kMiB);
    const SharedArray<double> b = client.empty<double>(4 * kMiB);
    (void)client.call<std::uint64_t>("checksum", pattern(8 * kMiB));  // a scratch buffer
    if (::write(ready[1], "r", 1) != 1) {
      return 1;
    }
    ::pause();  // until SIGKILL
    return 0;
  });
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the child client did not get its buffers";
  ::close(ready[0]);
  EXPECT_EQ(buffer_files(name_), baseline + 3);
  ::kill(child, SIGKILL);
  EXPECT_EQ(wait_child(child), 128 + SIGKILL);
  EXPECT_EQ(await_buffer_files(name_, baseline), baseline) << "the server reclaimed them";
  EXPECT_EQ(client_.call<std::int64_t>("add", 2, 3), 5);
}

TEST_F(LargeValuesTest, ArraysStayReadableAfterTheServerDiesAndTheNextServerRemovesItsBuffers) {
  SharedArray<std::uint8_t> shared = client_.empty<std::uint8_t>(16 * kMiB);
  std::fill(shared.begin(), shared.end(), std::uint8_t{9});
  EXPECT_GE(buffer_files(name_), 1U);
  server_.kill(SIGKILL);
  EXPECT_EQ(std::count(shared.begin(), shared.end(), 9), static_cast<std::ptrdiff_t>(16 * kMiB));
  EXPECT_THROW(client_.call("noop"), ServerGoneError);
  EXPECT_GE(buffer_files(name_), 1U) << "a dead server's buffers stay until someone removes them";
  const ServerProcess next(name_, define_test_functions);
  EXPECT_EQ(buffer_files(name_), 0U) << "the next server of the name removed them";
  EXPECT_EQ(shared[16 * kMiB - 1], 9);
}

TEST(LargeValuesQuotaTest, AClientHoldsNoMoreThanItsQuota) {
  const std::string name = unique_name("quota");
  const LeftoverCleanup cleanup(name);
  const ServerProcess server(name, define_test_functions, {.client_buffer_quota = 32 * kMiB});
  Client client(server.name());
  auto first = std::make_unique<SharedArray<std::uint8_t>>(client.zeros<std::uint8_t>(16 * kMiB));
  try {
    (void)client.zeros<std::uint8_t>(24 * kMiB);
    ADD_FAILURE() << "a buffer past the quota was made";
  } catch (const OutOfSharedMemoryError& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot make a buffer of 25165824 bytes"));
    EXPECT_THAT(error.what(), HasSubstr("holds 16777216 bytes of buffers and may hold 33554432"));
  }
  EXPECT_THROW((void)client.call<std::vector<std::uint8_t>>("pattern", 20 * kMiB),
               OutOfSharedMemoryError);
  first.reset();
  EXPECT_EQ(client.zeros<std::uint8_t>(24 * kMiB).size(), 24 * kMiB);
  EXPECT_EQ(client.call<std::vector<std::uint8_t>>("pattern", 20 * kMiB).size(), 20 * kMiB);
}

// Exit codes of the full-/dev/shm child.
enum FullCode : int {
  kPassed = 0,
  kNoNamespace = 77,
  kNoTmpfs = 2,
  kArgumentFitted = 3,
  kArgumentMessage = 4,
  kResultFitted = 5,
  kResultMessage = 6,
  kStoppedServing = 7,
  kSmallFailed = 8,
};

TEST(LargeValuesFullTest, AFullDevShmIsOutOfSharedMemoryAndTheServerKeepsServing) {
  const int code = run_in_child([] {
    const PrivateDevShm entered = enter_private_dev_shm("48m");
    if (entered != PrivateDevShm::kEntered) {
      return entered == PrivateDevShm::kNotAllowed ? kNoNamespace : kNoTmpfs;
    }
    const ServerProcess server(unique_name("full"), define_test_functions);
    Client client(server.name());
    try {
      (void)client.call<std::uint64_t>("checksum", pattern(64 * kMiB));
      return kArgumentFitted;
    } catch (const OutOfSharedMemoryError& error) {
      if (std::string(error.what()).find("/dev/shm has") == std::string::npos ||
          error.requested_bytes() != 64 * kMiB) {
        return kArgumentMessage;
      }
    }
    try {
      (void)client.call<std::vector<std::uint8_t>>("pattern", 64 * kMiB);
      return kResultFitted;
    } catch (const OutOfSharedMemoryError& error) {
      if (std::string(error.what()).find("cannot make a buffer of 67108864 bytes") ==
          std::string::npos) {
        return kResultMessage;
      }
    }
    if (client.call<std::int64_t>("add", 2, 3) != 5) {
      return kStoppedServing;
    }
    const std::vector<std::uint8_t> fits = pattern(8 * kMiB);
    const bool small_ok =
        client.call<std::uint64_t>("checksum", fits) == checksum(fits.data(), fits.size()) &&
        client.call<std::vector<std::uint8_t>>("pattern", 8 * kMiB) == fits;
    return small_ok ? kPassed : kSmallFailed;
  });
  if (code == kNoNamespace) {
    GTEST_SKIP() << "unshare(CLONE_NEWNS) is not permitted here (needs root)";
  }
  EXPECT_EQ(code, kPassed) << "see FullCode; 128 + SIGBUS would mean bytes were not reserved";
}

}  // namespace
}  // namespace shmrpc::test
