// Every failure a caller can meet, each with its exception and a message that says what happened.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"

namespace shmrpc::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// Runs `call`, expects exception E and returns its message.
template <class E, class Call>
std::string message_of(Call&& call) {
  try {
    call();
  } catch (const E& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

class ErrorsTest : public ::testing::Test {
 protected:
  ServerProcess server_{unique_name("errors"), define_test_functions};
  Client client_{server_.name()};
};

TEST_F(ErrorsTest, RemoteExceptionCarriesTypeAndMessage) {
  try {
    client_.call("fail", "boom");
    FAIL() << "fail() returned";
  } catch (const RemoteError& error) {
    EXPECT_EQ(error.function(), "fail");
    EXPECT_EQ(error.remote_type(), "std::runtime_error");
    EXPECT_EQ(error.remote_message(), "boom");
    EXPECT_STREQ(error.what(), "fail: std::runtime_error: boom");
  }
  EXPECT_THAT(message_of<RemoteError>([&] { client_.call<std::int32_t>("fail_invalid", 3); }),
              HasSubstr("std::invalid_argument: bad x = 3"));
  EXPECT_THAT(message_of<RemoteError>([&] { client_.call("fail_int"); }),
              HasSubstr("not derived from std::exception"));
  EXPECT_EQ(client_.call<std::int64_t>("add", 2, 3), 5) << "the channel works after a failure";
}

TEST_F(ErrorsTest, UnknownFunctionListsWhatExists) {
  EXPECT_THAT(message_of<std::invalid_argument>([&] { client_.call("nope"); }),
              AllOf(HasSubstr("no function 'nope'"), HasSubstr("add"), HasSubstr("echo_bool")));
}

TEST_F(ErrorsTest, WrongArityShowsTheSignature) {
  EXPECT_THAT(message_of<std::invalid_argument>([&] { client_.call<std::int64_t>("add", 1); }),
              AllOf(HasSubstr("add(a: int64, b: int64) -> int64"),
                    HasSubstr("takes 2 arguments, 1 given")));
}

TEST_F(ErrorsTest, WrongArgumentTypeIsRejectedBeforeAnythingIsSent) {
  EXPECT_THAT(message_of<std::invalid_argument>([&] { client_.call<std::int64_t>("add", "x", 1); }),
              AllOf(HasSubstr("argument 1 ('a')"), HasSubstr("is int64, but a string was given")));
  EXPECT_THAT(message_of<std::invalid_argument>([&] { client_.call<std::int64_t>("add", 1, 2.5); }),
              HasSubstr("a floating-point number"));
  EXPECT_THAT(message_of<std::invalid_argument>([&] { client_.call<bool>("echo_bool", 1); }),
              HasSubstr("is bool, but an integer"));
  const std::vector<double> doubles{1.0};
  EXPECT_THAT(
      message_of<std::invalid_argument>([&] { client_.call<std::int64_t>("sum_i16", doubles); }),
      HasSubstr("is span<const int16>, but a range of float64"));
  const std::vector<float> constant{1.0F};
  EXPECT_THAT(message_of<std::invalid_argument>([&] { client_.call("negate", constant); }),
              HasSubstr("read-only range"));
  EXPECT_THAT(message_of<std::out_of_range>([&] { client_.call<std::uint8_t>("echo_u8", 256); }),
              HasSubstr("256 does not fit uint8"));
  EXPECT_THAT(message_of<std::out_of_range>([&] { client_.call<std::uint64_t>("echo_u64", -1); }),
              HasSubstr("-1 does not fit uint64"));
}

TEST_F(ErrorsTest, WrongResultTypeIsRejected) {
  EXPECT_THAT(message_of<std::invalid_argument>([&] { client_.call<double>("add", 1, 2); }),
              HasSubstr("returns int64, not float64"));
  EXPECT_THAT(message_of<std::invalid_argument>(
                  [&] { (void)client_.function<std::int32_t(std::int64_t, std::int64_t)>("add"); }),
              AllOf(HasSubstr("add(a: int64, b: int64) -> int64"),
                    HasSubstr("expects add(a: int64, b: int64) -> int32")));
}

TEST_F(ErrorsTest, TimeoutLeavesTheClientUsable) {
  client_.set_timeout(std::chrono::milliseconds(50));
  EXPECT_THAT(message_of<TimeoutError>([&] { client_.call("sleep_ms", 400); }),
              HasSubstr("timed out"));
  client_.set_timeout(std::chrono::seconds(5));
  // The next call first waits for the late one, then runs normally.
  EXPECT_EQ(client_.call<std::int64_t>("add", 2, 3), 5);
}

TEST_F(ErrorsTest, ConnectingToNoServerSaysSo) {
  EXPECT_THAT(message_of<NoServerError>([] { Client missing("no-such-server-here"); }),
              HasSubstr("no server named 'no-such-server-here' is running"));
  EXPECT_THAT(message_of<std::invalid_argument>([] { Client bad("a/b"); }), HasSubstr("'/'"));
}

TEST(ServerGoneTest, KilledDuringACallWakesTheClientWithinOneSecond) {
  ServerProcess server(unique_name("killed"), define_test_functions);
  Client client(server.name());
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.kill(SIGKILL);
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(message_of<ServerGoneError>([&] { client.call("sleep_ms", 10000); }),
              AllOf(HasSubstr("died"), HasSubstr("during the call to 'sleep_ms'")));
  killer.join();
  // Bound, not a benchmark: the liveness check runs every 100 ms; 10 s would mean a hang.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_THROW(client.call<std::int64_t>("add", 1, 2), ServerGoneError) << "stays gone";
}

TEST(ServerGoneTest, KilledBetweenCallsFailsTheNextCall) {
  ServerProcess server(unique_name("idlekill"), define_test_functions);
  Client client(server.name());
  EXPECT_EQ(client.call<std::int64_t>("add", 1, 2), 3);
  server.kill(SIGKILL);
  EXPECT_THAT(message_of<ServerGoneError>([&] { client.call<std::int64_t>("add", 1, 2); }),
              HasSubstr("died during the call to 'add'"));
}

TEST(ServerGoneTest, GracefulStopFailsLaterCalls) {
  ServerProcess server(unique_name("stopped"), define_test_functions);
  Client client(server.name());
  EXPECT_EQ(client.call<std::int64_t>("add", 1, 2), 3);
  server.kill(SIGTERM);
  EXPECT_THAT(message_of<ServerGoneError>([&] { client.call<std::int64_t>("add", 1, 2); }),
              HasSubstr("stopped"));
}

TEST(ServerGoneTest, ReconnectAfterARestart) {
  const std::string name = unique_name("restart");
  std::optional<ServerProcess> server(std::in_place, name, define_test_functions);
  Client client(name);
  EXPECT_EQ(client.call<std::int64_t>("add", 1, 2), 3);
  server->kill(SIGKILL);
  EXPECT_THROW(client.call<std::int64_t>("add", 1, 2), ServerGoneError);
  EXPECT_THROW(client.reconnect(), NoServerError) << "the dead server's segment is no server";
  server.reset();
  server.emplace(name, define_test_functions);  // replaces the dead server's segment
  client.reconnect();
  EXPECT_EQ(client.call<std::int64_t>("add", 1, 2), 3);
}

TEST(ServerGoneTest, StopFinishesTheCallInFlight) {
  ServerProcess server(unique_name("drain"), define_test_functions);
  Client client(server.name());
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.kill(SIGTERM);
  });
  EXPECT_NO_THROW(client.call("sleep_ms", 300)) << "a call in flight completes during shutdown";
  stopper.join();
}

}  // namespace
}  // namespace shmrpc::test
