// Streaming functions through real processes: elements in order, large arrays without a copy,
// flow control against a slow reader, cancellation by the reader, and either side dying.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/result_array.hpp"
#include "shmrpc/stream.hpp"

namespace shmrpc::test {
namespace {

using Checked = std::tuple<std::uint64_t, std::uint64_t>;

std::uint64_t checksum(std::uint64_t i) {
  return (i * 0x9E37'79B9'7F4A'7C15ULL) ^ (i >> 7U);
}

// State of the server child, seen by the client through the functions below.
std::atomic<std::int64_t> g_written{0};
std::atomic<int> g_cancelled{0};

void define_stream_functions(Server& server) {
  server.def("count",
             [](Stream<std::int64_t>& out, std::int64_t n) {
               for (std::int64_t i = 0; i < n; ++i) {
                 out.write(i);
               }
             },
             {"n"});
  server.def("checked",
             [](Stream<Checked>& out, std::uint64_t n) {
               for (std::uint64_t i = 0; i < n; ++i) {
                 out.write({i, checksum(i)});
               }
             },
             {"n"});
  server.def("words",
             [](Stream<std::string>& out, std::int64_t n) {
               for (std::int64_t i = 0; i < n; ++i) {
                 // Short ones lie in the entry, long ones (beyond its 1 KiB window) in buffers.
                 out.write(std::string(static_cast<std::size_t>(i * 97 % 3000),
                                       static_cast<char>('a' + i % 26)));
               }
             },
             {"n"});
  server.def("arrays",
             [](Stream<ResultArray<std::uint8_t>>& out, std::int64_t n, std::uint64_t bytes) {
               for (std::int64_t i = 0; i < n; ++i) {
                 ResultArray<std::uint8_t> array(bytes);
                 std::memset(array.data(), static_cast<int>(i), bytes);
                 out.write(array);
               }
             },
             {"n", "bytes"});
  // Element i: a zeroed array with byte i written at i % bytes, alone.
  server.def("marked",
             [](Stream<ResultArray<std::uint8_t>>& out, std::int64_t n, std::uint64_t bytes) {
               for (std::int64_t i = 0; i < n; ++i) {
                 ResultArray<std::uint8_t> array(bytes);
                 array[static_cast<std::uint64_t>(i) % bytes] = static_cast<std::uint8_t>(i | 1);
                 out.write(array);
               }
             },
             {"n", "bytes"});
  server.def("fail_after",
             [](Stream<std::int64_t>& out, std::int64_t n) {
               for (std::int64_t i = 0; i < n; ++i) {
                 out.write(i);
               }
               throw std::runtime_error("no more");
             },
             {"n"});
  // Writes until the reader stops; counts what it wrote and whether it saw the stop.
  server.def("endless", [](CallContext& /*call*/, Stream<std::int64_t>& out) {
    g_written = 0;
    g_cancelled = 0;
    try {
      for (std::int64_t i = 0;; ++i) {
        out.write(i);
        g_written = i + 1;
      }
    } catch (const StreamCancelled&) {
      g_cancelled = 1;
      throw;
    }
  });
  server.def("written", [] { return g_written.load(); });
  server.def("cancelled", [] { return g_cancelled.load(); });
}

// Polls `probe` until it holds or `patience` passes.
template <class Probe>
bool eventually(Probe probe, std::chrono::seconds patience = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + patience;
  while (!probe()) {
    if (std::chrono::steady_clock::now() >= end) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(StreamTest, ElementsArriveInOrderAndTheStreamEnds) {
  ServerProcess server(unique_name("count"), define_stream_functions);
  Client client(server.name());
  std::vector<std::int64_t> seen;
  for (const std::int64_t value : client.stream<std::int64_t>("count", 1000)) {
    seen.push_back(value);
  }
  ASSERT_EQ(seen.size(), 1000U);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    ASSERT_EQ(seen[i], static_cast<std::int64_t>(i));
  }
  // The slot is free again: an ordinary call follows.
  EXPECT_EQ(client.stream<std::int64_t>("count", 0).next(), std::nullopt);
}

TEST(StreamTest, AMillionSmallElementsWithChecksums) {
  ServerProcess server(unique_name("million"), define_stream_functions);
  Client client(server.name());
  constexpr std::uint64_t kCount = 1'000'000;
  std::uint64_t expected = 0;
  std::uint64_t wrong = 0;
  for (const auto& [index, sum] : client.stream<Checked>("checked", kCount)) {
    wrong += index == expected && sum == checksum(index) ? 0U : 1U;
    ++expected;
  }
  EXPECT_EQ(expected, kCount);
  EXPECT_EQ(wrong, 0U);
}

TEST(StreamTest, StringsInTheEntryAndInBuffers) {
  ServerProcess server(unique_name("words"), define_stream_functions);
  Client client(server.name());
  std::int64_t i = 0;
  for (const std::string& word : client.stream<std::string>("words", 200)) {
    ASSERT_EQ(word, std::string(static_cast<std::size_t>(i * 97 % 3000),
                                static_cast<char>('a' + i % 26)));
    ++i;
  }
  EXPECT_EQ(i, 200);
}

TEST(StreamTest, LargeArraysCrossWithoutACopy) {
  ServerProcess server(unique_name("arrays"), define_stream_functions);
  ClientOptions options;
  options.stream_buffer = 4;
  Client client(server.name(), options);
  constexpr std::uint64_t kBytes = std::uint64_t{64} << 20U;
  std::int64_t i = 0;
  std::size_t most_buffers = 0;
  for (const SharedArray<std::uint8_t>& array :
       client.stream<SharedArray<std::uint8_t>>("arrays", 100, kBytes)) {
    ASSERT_EQ(array.size(), kBytes);
    // The elements lie where the server wrote them: in a buffer this client has mapped, not in
    // its own memory.
    const auto located = client.connection()->locate(array.data(), array.size());
    ASSERT_TRUE(located.has_value());
    EXPECT_NE(located->buffer, layout::kHeapBuffer);
    const auto value = static_cast<std::uint8_t>(i);
    ASSERT_EQ(array[0], value);
    ASSERT_EQ(array[kBytes / 2], value);
    ASSERT_EQ(array[kBytes - 1], value);
    // Handed back as the reader goes: no more buffers live than the ring holds, the one read
    // and those on their way back.
    most_buffers = std::max(most_buffers, buffer_files(server.name()).size());
    ++i;
  }
  EXPECT_EQ(i, 100);
  // The ring, the element held, and the returns array of a 4-entry ring (8 ids).
  EXPECT_LE(most_buffers, 4U + 1U + 8U);
}

// Pins this process, and the server it forks, to one CPU for its lifetime: writer and reader
// then take turns, each running until it waits, the way they do on a machine with more busy
// threads than cores.
class OneCpu {
 public:
  OneCpu() {
    sched_getaffinity(0, sizeof(saved_), &saved_);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof(one), &one);
  }
  OneCpu(const OneCpu&) = delete;
  OneCpu& operator=(const OneCpu&) = delete;
  ~OneCpu() { sched_setaffinity(0, sizeof(saved_), &saved_); }

 private:
  cpu_set_t saved_{};
};

TEST(StreamTest, BuffersHandedBackKeepUpWhenWriterAndReaderTakeTurns) {
  const OneCpu one_cpu;
  ServerProcess server(unique_name("turns"), define_stream_functions);
  ClientOptions options;
  options.stream_buffer = 16;
  Client client(server.name(), options);
  // Each turn the reader consumes the whole ring while the writer waits, then the writer
  // refills it while the reader waits: the reader must be able to hand back a ring's worth of
  // buffers in one turn, or those it cannot pile up turn after turn.
  // A third thread that never waits: the scheduler gives each its slice of the CPU in turn.
  std::atomic<bool> done{false};
  std::thread busy([&done] {
    while (!done.load(std::memory_order_relaxed)) {
    }
  });
  std::size_t most_buffers = 0;
  std::int64_t i = 0;
  for (const SharedArray<std::uint8_t>& array :
       client.stream<SharedArray<std::uint8_t>>("arrays", 3000, 1)) {
    ASSERT_EQ(array[0], static_cast<std::uint8_t>(i));
    if (i % 100 == 0) {
      most_buffers = std::max(most_buffers, buffer_files(server.name()).size());
    }
    ++i;
  }
  done = true;
  busy.join();
  EXPECT_EQ(i, 3000);
  // The ring, the element held, the one being made and the returns array (32 ids).
  EXPECT_LE(most_buffers, 16U + 2U + 32U);
}

TEST(StreamTest, BuffersHandedBackAreReusedZeroedAndGoneWhenTheStreamEnds) {
  ServerProcess server(unique_name("reuse"), define_stream_functions);
  ClientOptions options;
  options.stream_buffer = 2;
  Client client(server.name(), options);
  constexpr std::uint64_t kBytes = 256 * 1024;  // buffers, not the entry's window
  std::int64_t i = 0;
  std::vector<std::uint64_t> ids;
  for (const SharedArray<std::uint8_t>& array :
       client.stream<SharedArray<std::uint8_t>>("marked", 200, kBytes)) {
    ASSERT_EQ(array.size(), kBytes);
    const auto located = client.connection()->locate(array.data(), array.size());
    ASSERT_TRUE(located.has_value());
    ids.push_back(located->buffer);
    // Every element is zero but its mark, though most lie in buffers earlier elements had.
    const auto mark = static_cast<std::uint64_t>(i) % kBytes;
    ASSERT_EQ(array[mark], static_cast<std::uint8_t>(i | 1));
    ASSERT_EQ(std::count(array.begin(), array.end(), std::uint8_t{0}),
              static_cast<std::ptrdiff_t>(kBytes - 1))
        << "element " << i;
    ++i;
  }
  EXPECT_EQ(i, 200);
  // Each element has an id of its own, new or reused: a handle never reaches another's bytes.
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
  // The buffers kept for reuse go with the stream's end; those the writer had not taken back
  // yet, with the client's next call on the slot. Then nothing is left: the client holds none.
  (void)client.call<std::int64_t>("written");
  EXPECT_TRUE(eventually([&] { return buffer_files(server.name()).empty(); }))
      << buffer_files(server.name()).size() << " buffer files left";
}

TEST(StreamTest, AFunctionThatThrowsEndsTheStreamAfterItsElements) {
  ServerProcess server(unique_name("throws"), define_stream_functions);
  Client client(server.name());
  auto stream = client.stream<std::int64_t>("fail_after", 3);
  EXPECT_EQ(stream.next(), 0);
  EXPECT_EQ(stream.next(), 1);
  EXPECT_EQ(stream.next(), 2);
  try {
    (void)stream.next();
    FAIL() << "the stream ended without the function's error";
  } catch (const RemoteError& error) {
    EXPECT_THAT(error.what(), ::testing::HasSubstr("no more"));
  }
  EXPECT_FALSE(stream.active());
  EXPECT_EQ(client.call<std::int64_t>("written"), 0);  // the slot serves calls again
}

TEST(StreamTest, ASlowReaderMakesTheWriterWait) {
  ServerProcess server(unique_name("slow"), define_stream_functions);
  ClientOptions options;
  options.stream_buffer = 16;
  Client client(server.name(), options);
  auto stream = client.stream<std::int64_t>("endless");
  EXPECT_EQ(stream.next(), 0);
  // However long the reader pauses, the writer gets no further than the ring holds.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::int64_t ahead = client.call<std::int64_t>("written");
  EXPECT_GE(ahead, 16);
  EXPECT_LE(ahead, 1 + 16);
  for (std::int64_t i = 1; i < 1000; ++i) {
    ASSERT_EQ(stream.next(), i);
  }
  EXPECT_LE(client.call<std::int64_t>("written"), 1000 + 16);
}

TEST(StreamTest, BreakingOutCancelsTheServerFunction) {
  ServerProcess server(unique_name("break"), define_stream_functions);
  Client client(server.name());
  for (const std::int64_t value : client.stream<std::int64_t>("endless")) {
    if (value == 100) {
      break;
    }
  }
  EXPECT_TRUE(eventually([&] { return client.call<int>("cancelled") == 1; }));
  // The cancelled stream's slot is usable again once the function has ended.
  EXPECT_EQ(client.stream<std::int64_t>("count", 3).next(), 0);
}

TEST(StreamTest, ADeadReaderCancelsTheWriter) {
  ServerProcess server(unique_name("deadreader"), define_stream_functions);
  const pid_t reader = start_child([&] {
    Client client(server.name());
    auto stream = client.stream<std::int64_t>("endless");
    (void)stream.next();
    ::kill(::getpid(), SIGKILL);
    return 1;
  });
  EXPECT_EQ(wait_child(reader), 128 + SIGKILL);
  Client client(server.name());
  EXPECT_TRUE(eventually([&] { return client.call<int>("cancelled") == 1; }));
}

TEST(StreamTest, ADeadServerEndsTheReadWithServerGone) {
  ServerProcess server(unique_name("deadserver"), define_stream_functions);
  Client client(server.name());
  auto stream = client.stream<std::int64_t>("endless");
  EXPECT_EQ(stream.next(), 0);
  server.kill(SIGKILL);
  EXPECT_THROW(
      {
        while (stream.next()) {
        }
      },
      ServerGoneError);
}

TEST(StreamTest, OneClientSharedByThreadsReadsManyStreams) {
  ServerProcess server(unique_name("shared"), define_stream_functions);
  Client client(server.name());
  constexpr std::size_t kThreads = 8;
  std::vector<std::int64_t> sums(kThreads, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto n = static_cast<std::int64_t>(20000 + t);
      for (const std::int64_t value : client.stream<std::int64_t>("count", n)) {
        sums[t] += value;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (std::size_t t = 0; t < kThreads; ++t) {
    const auto n = static_cast<std::int64_t>(20000 + t);
    EXPECT_EQ(sums[t], n * (n - 1) / 2) << "thread " << t;
  }
}

TEST(StreamTest, FunctionHandlesAndWrongUsesAreClearErrors) {
  ServerProcess server(unique_name("handles"), define_stream_functions);
  Client client(server.name());
  const auto count = client.function<StreamReader<std::int64_t>(std::int64_t)>("count");
  std::int64_t total = 0;
  for (const std::int64_t value : count(5)) {
    total += value;
  }
  EXPECT_EQ(total, 10);
  EXPECT_EQ(client.schema().find("count")->signature, "count(n: int64) -> stream<int64>");
  EXPECT_THAT(
      [&] { (void)client.call<std::int64_t>("count", 3); },
      ::testing::ThrowsMessage<std::invalid_argument>(::testing::HasSubstr("streams its results")));
  EXPECT_THAT(
      [&] { (void)client.stream<std::int64_t>("written"); },
      ::testing::ThrowsMessage<std::invalid_argument>(::testing::HasSubstr("does not stream")));
  EXPECT_THAT([&] { (void)client.stream<double>("count", 3); },
              ::testing::ThrowsMessage<std::invalid_argument>(
                  ::testing::HasSubstr("streams int64, not float64")));
  EXPECT_THROW((void)client.function<std::int64_t(std::int64_t)>("count"), std::invalid_argument);
}

}  // namespace
}  // namespace shmrpc::test
