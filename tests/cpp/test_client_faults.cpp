// Faults of the client side of a call: a late call and the heap blocks it may still use.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <thread>

#include "server_process.hpp"
#include "shmrpc/client.hpp"

namespace shmrpc::test {
namespace {

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

}  // namespace
}  // namespace shmrpc::test
