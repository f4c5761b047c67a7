// The chaos suite: servers and clients of a few names SIGKILLed, SIGTERMed, SIGSTOPped and
// restarted at random while the clients check every result; after each round, the checks of
// chaos_harness.hpp must have found nothing. Then the suite's own tests: each check fires on the
// fault it is there to catch, and a round that ends early leaves no process or segment behind.
//
//   SHMRPC_CHAOS_SECONDS=300    rounds until their random phases add up to 300 s (default 5);
//                               the end of each round (stopping, checking) comes on top
//   SHMRPC_CHAOS_SEED=0x...     replay the rounds of a seed (printed by every run)
//   SHMRPC_CHAOS_ROUND=N        with the seed: only round N

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "chaos_harness.hpp"
#include "chaos_round.hpp"
#include "shmrpc/probe.hpp"

namespace shmrpc::chaos {
namespace {

struct Settings {
  double seconds = 5;
  std::uint64_t seed = 0;
  std::optional<int> only_round{};
};

// Read once, in the main thread, before any other thread could change the environment.
// NOLINTBEGIN(concurrency-mt-unsafe)
Settings settings_from_environment() {
  Settings settings;
  if (const char* seconds = std::getenv("SHMRPC_CHAOS_SECONDS")) {
    settings.seconds = std::strtod(seconds, nullptr);
  }
  if (const char* seed = std::getenv("SHMRPC_CHAOS_SEED")) {
    settings.seed = std::strtoull(seed, nullptr, 0);
  } else {
    std::random_device device;
    settings.seed = (std::uint64_t{device()} << 32U) ^ device() ^
                    static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
  }
  if (const char* round = std::getenv("SHMRPC_CHAOS_ROUND")) {
    settings.only_round = static_cast<int>(std::strtol(round, nullptr, 10));
  }
  return settings;
}
// NOLINTEND(concurrency-mt-unsafe)

std::string join(const std::vector<Finding>& findings) {
  std::string text;
  for (const Finding& finding : findings) {
    text += "  " + finding.text + "\n";
  }
  return text;
}

TEST(ChaosTest, RandomRoundsKeepEveryInvariant) {
  const Settings settings = settings_from_environment();
  const Bounds bounds = Bounds::for_this_build();
  std::printf("chaos: seed 0x%016llx, %.0f s of rounds (replay: SHMRPC_CHAOS_SEED=0x%016llx)\n",
              static_cast<unsigned long long>(settings.seed), settings.seconds,
              static_cast<unsigned long long>(settings.seed));
  std::map<Check, std::vector<std::string>> fired;  // check -> rounds where it fired
  std::map<Check, std::size_t> counts;
  RoundStats total;
  int rounds = 0;
  double chaos_seconds = 0;  // the rounds' random phases; stopping them comes on top
  const Clock::time_point begin = Clock::now();
  for (int index = settings.only_round.value_or(0);; ++index) {
    const RoundPlan plan = plan_round(settings.seed, index);
    const RoundReport report = run_round(plan, bounds);
    ++rounds;
    const RoundStats& s = report.stats;
    std::printf(
        "chaos: %s: %zu names, %llu servers (%llu ready, %llu refused, %llu races), %llu clients, "
        "%llu SIGKILL, %llu SIGTERM, %llu SIGSTOP; %llu calls checked, %llu timeouts, %llu gone, "
        "%llu no server, %llu busy, %llu reconnects; harness not scheduled for %llu ms (longest "
        "%llu ms); %zu findings\n",
        describe(plan).c_str(), report.names, static_cast<unsigned long long>(s.servers),
        static_cast<unsigned long long>(s.ready), static_cast<unsigned long long>(s.refused),
        static_cast<unsigned long long>(s.races), static_cast<unsigned long long>(s.clients),
        static_cast<unsigned long long>(s.kills), static_cast<unsigned long long>(s.terms),
        static_cast<unsigned long long>(s.stops), static_cast<unsigned long long>(s.calls),
        static_cast<unsigned long long>(s.timeouts), static_cast<unsigned long long>(s.gone),
        static_cast<unsigned long long>(s.no_server), static_cast<unsigned long long>(s.busy),
        static_cast<unsigned long long>(s.reconnects),
        static_cast<unsigned long long>(s.stalled_ms),
        static_cast<unsigned long long>(s.longest_stall_ms), report.findings.size());
    std::fflush(stdout);
    EXPECT_TRUE(report.findings.empty())
        << describe(plan) << " (replay: SHMRPC_CHAOS_SEED=0x" << std::hex << settings.seed
        << std::dec << " SHMRPC_CHAOS_ROUND=" << index << "):\n"
        << join(report.findings);
    for (const Finding& finding : report.findings) {
      auto& rounds_fired = fired[finding.check];
      if (rounds_fired.empty() || rounds_fired.back() != describe(plan)) {
        rounds_fired.push_back(describe(plan));
      }
      ++counts[finding.check];
    }
    total.calls += s.calls;
    total.servers += s.servers;
    total.kills += s.kills;
    chaos_seconds += std::chrono::duration<double>(plan.length).count();
    if (settings.only_round || chaos_seconds >= settings.seconds) {
      break;
    }
  }
  std::printf("chaos: %d rounds in %.1f s, %llu servers, %llu SIGKILLs, %llu calls checked\n",
              rounds, std::chrono::duration<double>(Clock::now() - begin).count(),
              static_cast<unsigned long long>(total.servers),
              static_cast<unsigned long long>(total.kills),
              static_cast<unsigned long long>(total.calls));
  for (const Check check : kAllChecks) {
    std::printf("chaos:   %-16s %zu findings in %zu of %d rounds\n",
                std::string(check_name(check)).c_str(), counts[check], fired[check].size(), rounds);
  }
  EXPECT_GT(total.calls, 0U) << "the clients checked no call at all";
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
