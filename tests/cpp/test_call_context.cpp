// A server function that takes a CallContext learns its caller and deadline, and sees the call
// cancelled when the client gives it up (timeout, Future::cancel); clients do not see the
// parameter.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <tuple>

#include "server_process.hpp"
#include "shmrpc/client.hpp"

namespace shmrpc::test {
namespace {

class CallContextTest : public testing::Test {
 protected:
  CallContextTest()
      : server_(unique_name("context"), define_test_functions), client_(server_.name()) {}

  // Until the server's last wait_for_cancel has ended, on another slot: 1 when it saw its call
  // cancelled, 2 when it ran out of time.
  std::int32_t cancel_outcome() {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::int32_t outcome = 0;
    while (outcome == 0 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      outcome = client_.call<std::int32_t>("last_cancel_outcome");
    }
    return outcome;
  }

  ServerProcess server_;
  Client client_;
};

TEST_F(CallContextTest, TheContextIsNotPartOfTheSignature) {
  const FunctionSchema* info = client_.schema().find("call_info");
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->arguments.empty());
  EXPECT_THAT(info->signature, ::testing::StartsWith("call_info() -> "));
  const FunctionSchema* wait = client_.schema().find("wait_for_cancel");
  ASSERT_NE(wait, nullptr);
  EXPECT_EQ(wait->signature, "wait_for_cancel(max_ms: int32) -> bool");
}

TEST_F(CallContextTest, AFunctionLearnsItsCallerAndDeadline) {
  using Info = std::tuple<std::int32_t, std::int64_t>;
  const auto [pid, no_deadline] = client_.call<Info>("call_info");
  EXPECT_EQ(pid, ::getpid());
  EXPECT_EQ(no_deadline, -1);
  client_.set_timeout(std::chrono::seconds(30));
  const auto [same_pid, left_ms] = client_.call<Info>("call_info");
  EXPECT_EQ(same_pid, ::getpid());
  EXPECT_GT(left_ms, 0);
  EXPECT_LE(left_ms, 30'000);
}

TEST_F(CallContextTest, ATimeoutCancelsTheCallOnTheServer) {
  client_.set_timeout(std::chrono::milliseconds(100));
  EXPECT_THROW(client_.call<bool>("wait_for_cancel", 20'000), TimeoutError);
  client_.set_timeout(std::nullopt);
  EXPECT_EQ(cancel_outcome(), 1) << "the function did not see its call cancelled";
}

TEST_F(CallContextTest, CancellingAFutureCancelsTheCallOnTheServer) {
  Future<bool> waiting = client_.call_async<bool>("wait_for_cancel", 20'000);
  EXPECT_FALSE(waiting.wait_for(std::chrono::milliseconds(100)));  // runs until cancelled
  waiting.cancel();
  EXPECT_EQ(cancel_outcome(), 1) << "the function did not see its call cancelled";
}

TEST_F(CallContextTest, ACallNotGivenUpIsNotCancelled) {
  client_.set_timeout(std::chrono::seconds(30));
  EXPECT_FALSE(client_.call<bool>("wait_for_cancel", 50));  // a deadline, not a cancel
  EXPECT_EQ(client_.call<std::int32_t>("last_cancel_outcome"), 2);
  // The cancel of an earlier call on the slot does not carry over to the next one.
  client_.set_timeout(std::chrono::milliseconds(100));
  EXPECT_THROW(client_.call<bool>("wait_for_cancel", 20'000), TimeoutError);
  client_.set_timeout(std::nullopt);
  EXPECT_EQ(cancel_outcome(), 1);
  EXPECT_FALSE(client_.call<bool>("wait_for_cancel", 50));
  EXPECT_EQ(client_.call<std::int32_t>("last_cancel_outcome"), 2);
}

}  // namespace
}  // namespace shmrpc::test
