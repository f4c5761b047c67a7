// Clients in different processes own different channels and call in parallel; one Client shared
// by many threads gives each call a call slot of its own.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc::test {
namespace {

TEST(ConcurrencyTest, TwoClientProcessesCallInParallel) {
  ServerProcess server(unique_name("parallel"), define_test_functions);
  // rendezvous(2) returns true only if both calls are inside the server at the same time, so
  // serialized calls would fail here without any timing being measured.
  const auto meet = [&] {
    Client client(server.name());
    return client.call<bool>("rendezvous", 2, 5000) ? 0 : 1;
  };
  const pid_t first = start_child(meet);
  const pid_t second = start_child(meet);
  EXPECT_EQ(wait_child(first), 0);
  EXPECT_EQ(wait_child(second), 0);
}

TEST(ConcurrencyTest, ClientsInThreadsGetSeparateChannels) {
  ServerProcess server(unique_name("threads"), define_test_functions);
  constexpr std::size_t kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<int> wrong(kThreads, 0);
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client client(server.name());
      for (std::int64_t i = 0; i < 2000; ++i) {
        // Distinct arguments per thread: a mixed-up reply would show as a wrong sum.
        const auto offset = static_cast<std::int64_t>(t) * 1000000;
        wrong[t] += client.call<std::int64_t>("add", i, offset) == i + offset ? 0 : 1;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_THAT(wrong, ::testing::Each(0));
}

TEST(ConcurrencyTest, AllChannelsBusyIsAClearError) {
  ServerProcess server(unique_name("busy"), define_test_functions, ServerOptions{.channels = 2});
  Client first(server.name());
  Client second(server.name());
  EXPECT_NE(first.channel(), second.channel());
  try {
    Client third(server.name());
    FAIL() << "a third client got a channel";
  } catch (const ChannelsBusyError& error) {
    EXPECT_THAT(error.what(), ::testing::HasSubstr("all 2 channels"));
  }
}

TEST(ConcurrencyTest, ClosedAndDeadClientsReleaseTheirChannels) {
  ServerProcess server(unique_name("reclaim"), define_test_functions, ServerOptions{.channels = 1});
  { Client first(server.name()); }  // closed: releases its channel
  // A client process that dies without closing leaves its channel to be reclaimed.
  EXPECT_EQ(run_in_child([&] {
              static std::optional<Client> leaked;
              leaked.emplace(server.name());
              ::_exit(0);  // no destructors: the channel stays owned by a dead process
              return 0;
            }),
            0);
  Client next(server.name());
  EXPECT_EQ(next.channel(), 0U);
  EXPECT_EQ(next.call<std::int64_t>("add", 20, 22), 42);
}

TEST(ConcurrencyTest, ClientCanWaitForAChannel) {
  ServerProcess server(unique_name("wait"), define_test_functions, ServerOptions{.channels = 1});
  std::optional<Client> holder(std::in_place, server.name());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    holder.reset();
  });
  ClientOptions options;
  options.channel_wait = std::chrono::seconds(10);
  Client waiter(server.name(), options);  // blocks until the holder lets go
  releaser.join();
  EXPECT_FALSE(holder.has_value());
  EXPECT_EQ(waiter.call<std::int64_t>("add", 1, 1), 2);
}

TEST(ConcurrencyTest, ServerFreesTheChannelOfAClientThatDied) {
  ServerProcess server(unique_name("abandoned"), define_test_functions,
                       ServerOptions{.channels = 1});
  EXPECT_EQ(run_in_child([&] {
              static std::optional<Client> leaked;
              leaked.emplace(server.name());
              ::_exit(leaked->call<std::int64_t>("add", 1, 2) == 3 ? 0 : 1);
              return 1;
            }),
            0);
  // The server's channel thread notices the dead owner on an idle wake-up and frees the
  // channel, without any client claiming it.
  const Segment segment = Segment::open(server.name());
  const auto& header = *reinterpret_cast<const layout::SegmentHeader*>(segment.data());
  const auto& block =
      *reinterpret_cast<const layout::CommandBlock*>(segment.data() + header.channel_table_offset);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (block.owner.load() != 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(block.owner.load(), 0U);
}

TEST(ConcurrencyTest, ClientKilledDuringACallLeavesAUsableChannel) {
  ServerProcess server(unique_name("killedclient"), define_test_functions,
                       ServerOptions{.channels = 1});
  const pid_t child = ::fork();
  if (child == 0) {
    Client client(server.name());
    client.call("sleep_ms", 2000);
    ::_exit(0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the call is under way
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  // The server finishes the dead client's call; then the only channel serves a new client.
  ClientOptions options;
  options.channel_wait = std::chrono::seconds(20);
  Client next(server.name(), options);
  EXPECT_EQ(next.call<std::int64_t>("add", 40, 2), 42);
}

// --- one Client shared by threads ---------------------------------------------------------------

// Runs body(t) on `count` threads at once and joins them.
template <class Body>
void on_threads(std::size_t count, const Body& body) {
  std::vector<std::thread> threads;
  threads.reserve(count);
  for (std::size_t t = 0; t < count; ++t) {
    threads.emplace_back([&body, t] { body(t); });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
}

// Until another thread's call holds every slot of `client` (a slot taken here is given back at
// once).
void wait_until_all_slots_busy(Client& client) {
  while (client.slots().try_take()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(SharedClientTest, EightThreadsShareOneClientAndLoseNothing) {
  ServerProcess server(unique_name("shared"), define_test_functions);
  // Fewer slots than threads: calls also wait for slots given back by other threads.
  ClientOptions options;
  options.max_slots = 4;
  Client client(server.name(), options);
  const auto add = client.function<std::int64_t(std::int64_t, std::int64_t)>("add");
  constexpr std::size_t kThreads = 8;
  // 100,000 calls per thread; under the sanitizers (SHMRPC_LOAD_CALLS, a tenth of the load
  // test's calls) a tenth of that.
  const char* load_calls = std::getenv("SHMRPC_LOAD_CALLS");
  const std::int64_t calls =
      load_calls != nullptr ? std::strtoll(load_calls, nullptr, 10) / 2 : 100'000;
  std::vector<std::int64_t> wrong(kThreads, 0);
  std::vector<std::int64_t> checksum(kThreads, 0);
  on_threads(kThreads, [&](std::size_t t) {
    const auto offset = static_cast<std::int64_t>(t) << 40U;
    for (std::int64_t i = 0; i < calls; ++i) {
      // Distinct arguments per thread and call: a reply of another call shows as a wrong sum.
      const std::int64_t sum =
          i % 2 == 0 ? add(i, offset) : client.call<std::int64_t>("add", i, offset);
      wrong[t] += sum == i + offset ? 0 : 1;
      checksum[t] += sum - offset;
      if (i % 1000 == 0) {  // a variable result too, through the slot's heap
        const std::string text = client.call<std::string>("upper", "t" + std::to_string(t));
        wrong[t] += text == "T" + std::to_string(t) ? 0 : 1;
      }
    }
  });
  EXPECT_THAT(wrong, ::testing::Each(0));
  EXPECT_THAT(checksum, ::testing::Each(calls * (calls - 1) / 2));
  EXPECT_LE(client.slots().slots(), 4U);
}

TEST(SharedClientTest, CallsOnThreadsRunInParallelOnSlotsOfTheirOwn) {
  ServerProcess server(unique_name("parallelslots"), define_test_functions);
  Client client(server.name());
  constexpr std::size_t kThreads = 4;
  std::vector<int> met(kThreads, 0);
  // rendezvous returns true only if all four calls are inside the server at once.
  on_threads(kThreads, [&](std::size_t t) {
    met[t] = client.call<bool>("rendezvous", static_cast<std::int32_t>(kThreads), 10'000) ? 1 : 0;
  });
  EXPECT_THAT(met, ::testing::Each(1));
  EXPECT_EQ(client.slots().slots(), kThreads);
}

TEST(SharedClientTest, ManyThreadsShareAFewSlotsAndIdleThreadsHoldNone) {
  ServerProcess server(unique_name("fewslots"), define_test_functions);
  ClientOptions options;
  options.max_slots = 2;
  Client client(server.name(), options);
  std::atomic<int> done{0};
  // 64 threads, each one call that takes a while: the calls wait for the two slots in turn.
  on_threads(64, [&](std::size_t t) {
    client.call("sleep_ms", 2);
    done += client.call<std::int64_t>("add", static_cast<std::int64_t>(t), 1) ==
                    static_cast<std::int64_t>(t) + 1
                ? 1
                : 0;
  });
  EXPECT_EQ(done.load(), 64);
  EXPECT_EQ(client.slots().slots(), 2U);
  // Every thread ended without holding a slot: another client gets the server's other channels.
  Client other(server.name());
  EXPECT_EQ(other.call<std::int64_t>("add", 2, 3), 5);
}

TEST(SharedClientTest, ACallWaitsForABusySlotUntilItsTimeout) {
  ServerProcess server(unique_name("slottimeout"), define_test_functions);
  ClientOptions options;
  options.max_slots = 1;
  Client client(server.name(), options);
  std::thread holder([&] { client.call("sleep_ms", 1000); });
  wait_until_all_slots_busy(client);
  client.set_timeout(std::chrono::milliseconds(50));
  EXPECT_THROW(
      {
        try {
          client.call<std::int64_t>("add", 1, 2);
        } catch (const TimeoutError& error) {
          EXPECT_THAT(error.what(), ::testing::HasSubstr("all 1 call slots"));
          throw;
        }
      },
      TimeoutError);
  client.set_timeout(std::nullopt);
  EXPECT_EQ(client.call<std::int64_t>("add", 1, 2), 3);  // waits for the holder's call
  holder.join();
}

TEST(SharedClientTest, AFullServerMakesCallsWaitForTheClientsOwnSlots) {
  ServerProcess server(unique_name("fullserver"), define_test_functions,
                       ServerOptions{.channels = 2});
  Client client(server.name());
  std::vector<int> ok(6, 0);
  on_threads(6, [&](std::size_t t) {
    client.call("sleep_ms", 20);
    ok[t] = client.call<std::int64_t>("add", 1, 1) == 2 ? 1 : 0;
  });
  EXPECT_THAT(ok, ::testing::Each(1));
  EXPECT_EQ(client.slots().slots(), 2U);                   // all the server has; the others waited
  EXPECT_THROW(Client(server.name()), ChannelsBusyError);  // no channel for a second client
}

TEST(SharedClientTest, ALateCallDoesNotHoldUpTheNextCall) {
  ServerProcess server(unique_name("lateslot"), define_test_functions);
  Client client(server.name());
  client.set_timeout(std::chrono::milliseconds(50));
  EXPECT_THROW(client.call("sleep_ms", 1500), TimeoutError);
  // The timed-out call's slot is set aside while the server runs it; the next call takes
  // another one at once instead of waiting for it (or failing for it).
  EXPECT_EQ(client.call<std::int64_t>("add", 2, 3), 5);
  EXPECT_EQ(client.slots().slots(), 2U);
  EXPECT_TRUE(client.connection()->has_late_call());
  // Once the late call has ended, a call takes the first slot again and ends it there.
  client.set_timeout(std::nullopt);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (client.connection()->has_late_call() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(client.call<std::int64_t>("add", 2, 3), 5);
  }
  EXPECT_FALSE(client.connection()->has_late_call());
  EXPECT_EQ(client.slots().slots(), 2U);
}

TEST(SharedClientTest, AWaitForASlotNoticesTheServerDying) {
  ServerProcess server(unique_name("slotdeath"), define_test_functions);
  ClientOptions options;
  options.max_slots = 1;
  Client client(server.name(), options);
  std::thread holder([&] {
    try {
      client.call("sleep_ms", 5000);
    } catch (const ServerGoneError&) {  // expected: the server is killed under it
    }
  });
  wait_until_all_slots_busy(client);
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(server.pid(), SIGKILL);
  });
  EXPECT_THROW(client.call<std::int64_t>("add", 1, 2), ServerGoneError);
  killer.join();
  holder.join();
}

}  // namespace
}  // namespace shmrpc::test
