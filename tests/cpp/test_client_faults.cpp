// Faults of the client side of a call: a late call and the heap blocks it may still use, and a
// wait for a free channel of a server that goes away.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <future>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>

#include "server_process.hpp"
#include "shmrpc/client.hpp"

namespace shmrpc::test {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Fills `values` with `value` over and over for `ms` milliseconds, and once more at the end: a
// late call that keeps writing into the caller's array.
void fill_slowly(std::span<double> values, double value, std::int32_t ms) {
  const auto end = Clock::now() + milliseconds(ms);
  do {
    std::fill(values.begin(), values.end(), value);
    std::this_thread::sleep_for(milliseconds(5));
  } while (Clock::now() < end);
  std::fill(values.begin(), values.end(), value);
}

// The test functions, plus fill_slowly.
void fault_functions(Server& server) {
  define_test_functions(server);
  server.def("fill_slowly", fill_slowly, {"values", "value", "ms"});
}

std::uint64_t free_bytes(const Client& client) {
  return client.connection()->allocator().free_bytes();
}

// --- 1. A late call and the heap blocks it may still use ---------------------------------------

TEST(LateCallTest, FreedArrayIsNotReusedWhileTheLateCallWritesIt) {
  ServerProcess server(unique_name("latefree"), fault_functions);
  Client client(server.name());
  const std::uint64_t all_free = free_bytes(client);
  constexpr std::size_t kCount = 100000;
  client.set_timeout(milliseconds(100));
  std::optional<SharedArray<double>> first(client.zeros<double>(kCount));
  EXPECT_THROW(client.call("fill_slowly", first->span(), 7.0, 400), TimeoutError);
  first.reset();  // the server still writes into it
  const SharedArray<double> second = client.zeros<double>(kCount);
  client.set_timeout(std::chrono::seconds(10));
  // This call waits until the late one has ended: by then it has written all it will write.
  EXPECT_EQ(client.call<std::int64_t>("add", 2, 3), 5);
  EXPECT_EQ(std::count(second.begin(), second.end(), 0.0), static_cast<std::ptrdiff_t>(kCount))
      << "the late call wrote into an array allocated after its own was freed";
  EXPECT_EQ(free_bytes(client), all_free - kCount * sizeof(double))
      << "the free deferred during the late call was performed once it ended";
}

TEST(LateCallTest, InterruptedCallDefersTheFreesOfItsArrays) {
  ServerProcess server(unique_name("lateint"), fault_functions);
  ClientOptions options;
  std::atomic<bool> interrupt{false};
  options.interrupt_check = [&interrupt] {
    if (interrupt.exchange(false)) {
      throw std::runtime_error("interrupted");
    }
  };
  Client client(server.name(), options);
  const std::uint64_t all_free = free_bytes(client);
  std::optional<SharedArray<double>> first(client.zeros<double>(1000));
  interrupt = true;
  EXPECT_THROW(client.call("fill_slowly", first->span(), 3.0, 400), std::runtime_error);
  first.reset();
  const SharedArray<double> second = client.zeros<double>(1000);
  EXPECT_EQ(client.call<std::int64_t>("add", 1, 1), 2);  // waits out the interrupted call
  EXPECT_EQ(std::count(second.begin(), second.end(), 0.0), 1000);
  EXPECT_EQ(free_bytes(client), all_free - 1000 * sizeof(double));
}

// --- 2. Waiting for a free channel of a server that goes away ---------------------------------

// Connects with a long channel_wait to `server`, whose only channel is taken, and ends the server
// with `signal` while the client waits; returns the NoServerError message and checks that it
// came soon after the end.
std::string wait_for_channel_while(ServerProcess& server, int signal) {
  const Client holder(server.name());
  ClientOptions options;
  options.channel_wait = std::chrono::seconds(20);
  auto waiter = std::async(std::launch::async, [&]() -> std::string {
    try {
      const Client waiting(server.name(), options);
      return "claimed a channel";
    } catch (const NoServerError& error) {
      return error.what();
    } catch (const std::exception& error) {
      return std::string("wrong exception: ") + error.what();
    }
  });
  std::this_thread::sleep_for(milliseconds(200));  // the waiter is waiting by now
  const auto ended = Clock::now();
  server.kill(signal);
  const std::string message = waiter.get();
  // Documented: within liveness_interval (100 ms) of the end; 20 s would be the channel_wait.
  EXPECT_LT(Clock::now() - ended, std::chrono::seconds(3));
  return message;
}

TEST(ConnectionTest, WaitForChannelNoticesServerDeath) {
  ServerProcess server(unique_name("waitdeath"), define_test_functions,
                       ServerOptions{.channels = 1});
  EXPECT_THAT(wait_for_channel_while(server, SIGKILL),
              HasSubstr("died while this client waited for a free channel"));
}

TEST(ConnectionTest, WaitForChannelNoticesServerStop) {
  ServerProcess server(unique_name("waitstop"), define_test_functions,
                       ServerOptions{.channels = 1});
  EXPECT_THAT(wait_for_channel_while(server, SIGTERM),
              HasSubstr("stopped while this client waited for a free channel"));
}

}  // namespace
}  // namespace shmrpc::test
