// Calls in flight: Client::call_async and Function::async return a Future that holds the call's
// slot until get(); many calls may be in flight from one thread.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/detail/call_protocol.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc::test {
namespace {

using ::testing::HasSubstr;

class FutureTest : public testing::Test {
 protected:
  FutureTest() : server_(unique_name("futures"), define_test_functions), client_(server_.name()) {}

  // Until the call on `channel` has been taken by the server (its state word is kRunning).
  void wait_until_running(std::uint32_t channel) const {
    const Segment segment = Segment::open(server_.name());
    const auto& header = *reinterpret_cast<const layout::SegmentHeader*>(segment.data());
    const auto& block = *reinterpret_cast<const layout::CommandBlock*>(
        segment.data() + header.channel_table_offset + channel * header.channel_stride);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (detail::state_of(block.state.load()) != layout::CallState::kRunning &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(detail::state_of(block.state.load()), layout::CallState::kRunning);
  }

  ServerProcess server_;
  Client client_;
};

TEST_F(FutureTest, ACallInFlightReturnsItsResult) {
  Future<std::int64_t> sum = client_.call_async<std::int64_t>("add", 2, 3);
  EXPECT_TRUE(sum.valid());
  EXPECT_EQ(sum.get(), 5);
  EXPECT_FALSE(sum.valid());
  EXPECT_THROW(sum.get(), std::logic_error);  // once
}

TEST_F(FutureTest, OneThreadHasAsManyCallsInFlightAsItHasSlots) {
  // rendezvous(n) returns true only if n calls are inside the server at once: these were all
  // sent before the first get().
  const auto slots = static_cast<std::int32_t>(ClientOptions{}.max_slots);
  std::vector<Future<bool>> meetings;
  for (std::int32_t i = 0; i < slots; ++i) {
    meetings.push_back(client_.call_async<bool>("rendezvous", slots, 10'000));
  }
  for (Future<bool>& met : meetings) {
    EXPECT_TRUE(met.get());
  }
  EXPECT_EQ(client_.slots().slots(), ClientOptions{}.max_slots);
}

TEST_F(FutureTest, FunctionHandlesSendCallsToo) {
  const auto add = client_.function<std::int64_t(std::int64_t, std::int64_t)>("add");
  const auto upper = client_.function<std::string(std::string)>("upper");
  std::vector<Future<std::int64_t>> sums;
  for (std::int64_t i = 0; i < 100; ++i) {
    sums.push_back(add.async(i, 1000));
    if (sums.size() == 4) {  // four in flight at a time, got in order
      for (Future<std::int64_t>& sum : sums) {
        EXPECT_EQ(sum.get(), (i - 3) + 1000 + (&sum - sums.data()));
      }
      sums.clear();
    }
  }
  Future<std::string> text = upper.async("abc");  // a variable result, through the slot's heap
  EXPECT_EQ(text.get(), "ABC");
}

TEST_F(FutureTest, ReadyAndWaitForTellWhenTheCallHasEnded) {
  Future<void> slow = client_.call_async("sleep_ms", 300);
  EXPECT_FALSE(slow.ready());
  EXPECT_FALSE(slow.wait_for(std::chrono::milliseconds(10)));
  EXPECT_TRUE(slow.wait_for(std::chrono::seconds(20)));
  EXPECT_TRUE(slow.ready());
  slow.get();
  EXPECT_FALSE(slow.ready());
}

TEST_F(FutureTest, GetThrowsWhatTheFunctionThrew) {
  Future<void> failing = client_.call_async("fail", std::string("on purpose"));
  try {
    failing.get();
    FAIL() << "get() returned";
  } catch (const RemoteError& error) {
    EXPECT_THAT(error.what(), HasSubstr("on purpose"));
  }
  EXPECT_EQ(client_.call<std::int64_t>("add", 1, 2), 3);
}

TEST_F(FutureTest, ACancelledOrDroppedCallDoesNotHoldUpTheNextCalls) {
  Future<void> cancelled = client_.call_async("sleep_ms", 1000);  // on the first slot
  wait_until_running(client_.channel());  // taken by the server: cancel() cannot withdraw it
  cancelled.cancel();
  EXPECT_FALSE(cancelled.valid());
  {
    Future<void> dropped = client_.call_async("sleep_ms", 1000);
    EXPECT_TRUE(dropped.valid());
  }
  // Calls that waited for the abandoned ones would time out: they take other slots instead.
  client_.set_timeout(std::chrono::milliseconds(300));
  EXPECT_EQ(client_.call<std::int64_t>("add", 2, 3), 5);
  Future<std::int64_t> next = client_.call_async<std::int64_t>("add", 4, 5);
  EXPECT_EQ(next.get(), 9);
  EXPECT_GE(client_.slots().slots(), 2U);
}

TEST_F(FutureTest, AWrongCallThrowsBeforeAnythingIsSent) {
  EXPECT_THROW(client_.call_async<std::int64_t>("no_such_function"), std::invalid_argument);
  EXPECT_THROW(client_.call_async<std::string>("add", 1, 2), std::invalid_argument);
  EXPECT_THROW(client_.call_async<std::int64_t>("add", 1.5, 2), std::invalid_argument);
  EXPECT_EQ(client_.call<std::int64_t>("add", 1, 2), 3);
}

TEST_F(FutureTest, ACallInFlightTimesOutInGet) {
  client_.set_timeout(std::chrono::milliseconds(50));
  Future<void> slow = client_.call_async("sleep_ms", 1000);
  EXPECT_THROW(slow.get(), TimeoutError);
  EXPECT_FALSE(slow.valid());
  client_.set_timeout(std::nullopt);
  EXPECT_EQ(client_.call<std::int64_t>("add", 1, 2), 3);
}

}  // namespace
}  // namespace shmrpc::test
