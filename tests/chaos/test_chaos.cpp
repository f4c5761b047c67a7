// The chaos suite's own tests: each check of chaos_harness.hpp fires on the fault it is there to
// catch, and a round that ends early leaves no process or segment behind.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>

#include "chaos_harness.hpp"
#include "shmrpc/probe.hpp"

namespace shmrpc::chaos {
namespace {

std::string join(const std::vector<Finding>& findings) {
  std::string text;
  for (const Finding& finding : findings) {
    text += "  " + finding.text + "\n";
  }
  return text;
}

// The suite's own tests: a harness with one name, one server and one client, a fault injected
// into one of them, and the check that must catch it. Shorter bounds where the fault is a wait.

Bounds quick_bounds() {
  Bounds bounds = Bounds::for_this_build();
  bounds.stop = std::chrono::milliseconds(1500);
  return bounds;
}

ClientConfig quiet_client(const std::string& name) {
  ClientConfig config;
  config.name = name;
  config.seed = 7;
  return config;
}

// Starts a server of a new name and waits until it is ready.
std::string ready_server(Harness& harness, const ServerFlags& flags = {}) {
  std::string name = harness.new_name();
  const std::size_t id = harness.start_server(name, flags);
  EXPECT_TRUE(harness.wait_ready(id)) << "the chaos server did not start";
  return name;
}

TEST(ChaosCheckTest, AQuietRoundFindsNothingAndLeavesNothing) {
  Harness harness(Bounds::for_this_build(), "quiet");
  const std::string name = ready_server(harness);
  const std::size_t client = harness.start_client(quiet_client(name));
  harness.run_for(std::chrono::milliseconds(300));
  EXPECT_GT(harness.slot(client).calls(), 0U);
  harness.finish();
  EXPECT_TRUE(harness.findings().empty()) << join(harness.findings());
  EXPECT_EQ(probe_server(name).liveness, Liveness::kNone);
}

TEST(ChaosCheckTest, WrongResultIsCaught) {
  Harness harness(quick_bounds(), "self-test");
  const std::string name = ready_server(harness, {.inject = "wrong"});
  const std::size_t client = harness.start_client(quiet_client(name));
  harness.run_for(std::chrono::milliseconds(1000));
  EXPECT_GT(harness.slot(client).calls(), 16U);
  harness.finish();
  EXPECT_TRUE(harness.found(Check::kWrongResult)) << join(harness.findings());
}

TEST(ChaosCheckTest, ClientStuckInACallIsCaught) {
  Harness harness(quick_bounds(), "self-test");
  const std::string name = ready_server(harness);
  ClientConfig config = quiet_client(name);
  config.fault = ClientFault::kStallCalling;
  harness.start_client(config);
  const auto bound = config.timeout + config.liveness + harness.bounds().slack;
  harness.run_for(bound + std::chrono::milliseconds(500));
  EXPECT_TRUE(harness.found(Check::kClientHang)) << join(harness.findings());
  harness.finish();
}

TEST(ChaosCheckTest, ClientConnectingAfterItsServerDiedIsCaught) {
  Harness harness(quick_bounds(), "self-test");
  const std::string name = ready_server(harness);
  ClientConfig config = quiet_client(name);
  config.fault = ClientFault::kStallConnecting;
  config.channel_wait = std::chrono::seconds(60);  // so that only the death bound can fire
  harness.start_client(config);
  harness.run_for(std::chrono::milliseconds(100));
  harness.kill_server(0);
  harness.run_for(config.connect_timeout + config.liveness + harness.bounds().slack +
                  std::chrono::milliseconds(500));
  EXPECT_TRUE(harness.found(Check::kMissedDeath)) << join(harness.findings());
  harness.finish();
}

TEST(ChaosCheckTest, ServerIgnoringSigtermIsCaught) {
  Harness harness(quick_bounds(), "self-test");
  const std::string name = ready_server(harness, {.inject = "ignore-term"});
  harness.finish();
  EXPECT_TRUE(harness.found(Check::kStopUnbounded)) << join(harness.findings());
  EXPECT_EQ(probe_server(name).liveness, Liveness::kNone) << "finish() replaced and removed it";
}

TEST(ChaosCheckTest, SegmentLeftAfterSigtermIsCaught) {
  Harness harness(quick_bounds(), "self-test");
  const std::string name = ready_server(harness, {.inject = "keep-segment"});
  harness.finish();
  EXPECT_TRUE(harness.found(Check::kLeakedSegment)) << join(harness.findings());
  EXPECT_EQ(probe_server(name).liveness, Liveness::kNone);
}

TEST(ChaosCheckTest, SecondLiveServerOfANameIsCaught) {
  Harness harness(quick_bounds(), "self-test");
  const std::string name = ready_server(harness);
  const std::size_t thief = harness.start_server(name, {.inject = "steal"});
  EXPECT_TRUE(harness.wait_ready(thief));
  harness.run_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(harness.found(Check::kTwoServers)) << join(harness.findings());
  harness.finish();
}

TEST(ChaosCheckTest, LiveServerWithoutItsSegmentIsCaught) {
  Harness harness(quick_bounds(), "self-test");
  const std::string name = ready_server(harness);
  const std::size_t thief = harness.start_server(name, {.inject = "steal"});
  EXPECT_TRUE(harness.wait_ready(thief));
  harness.term_server(thief);  // removes its own segment; the first server now has none
  harness.run_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(harness.found(Check::kUnreachable)) << join(harness.findings());
  harness.finish();
}

TEST(ChaosCheckTest, ServerThatDiesByItselfIsCaught) {
  Harness harness(quick_bounds(), "self-test");
  ready_server(harness);
  ::kill(harness.servers().front().pid, SIGKILL);  // not through the harness
  harness.run_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(harness.found(Check::kUnexpectedExit)) << join(harness.findings());
  harness.finish();
}

TEST(ChaosCheckTest, ServerThatCannotStartIsCaught) {
  Harness harness(quick_bounds(), "self-test");
  const std::size_t id = harness.start_server(harness.new_name(), {.channels = 0});
  EXPECT_FALSE(harness.wait_ready(id));
  harness.run_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(harness.found(Check::kStartFailed)) << join(harness.findings());
  harness.finish();
}

TEST(ChaosCheckTest, UnexpectedClientErrorIsCaught) {
  Harness harness(quick_bounds(), "self-test");
  const std::string name = ready_server(harness);
  ClientConfig config = quiet_client(name);
  config.fault = ClientFault::kUnknownFunction;
  harness.start_client(config);
  harness.run_for(std::chrono::milliseconds(300));
  harness.finish();
  EXPECT_TRUE(harness.found(Check::kClientError)) << join(harness.findings());
}

TEST(ChaosCheckTest, SegmentOfAKilledServerIsReplacedAndRemoved) {
  Harness harness(Bounds::for_this_build(), "self-test");
  const std::string name = ready_server(harness);
  harness.kill_server(0);
  EXPECT_EQ(probe_server(name).liveness, Liveness::kDead) << "a SIGKILLed server leaves it";
  harness.finish();
  EXPECT_TRUE(harness.findings().empty()) << join(harness.findings());
  EXPECT_EQ(probe_server(name).liveness, Liveness::kNone);
}

TEST(ChaosCheckTest, HarnessLeavesNoProcessOrSegmentWhenARoundEndsEarly) {
  std::string name;
  {
    Harness harness(Bounds::for_this_build(), "self-test");
    name = ready_server(harness);
    harness.start_client(quiet_client(name));
    harness.stop_server(0, std::chrono::seconds(60));
    harness.start_server(harness.new_name());  // still starting, perhaps
    // No finish(): the round ends as a failed assertion or an exception would end it.
  }
  int status = 0;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1) << "every child was reaped";
  EXPECT_EQ(errno, ECHILD);
  EXPECT_EQ(probe_server(name).liveness, Liveness::kNone);
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(Harness::segment_prefix()))
        << entry.path() << " is left";
  }
}

}  // namespace
}  // namespace shmrpc::chaos
