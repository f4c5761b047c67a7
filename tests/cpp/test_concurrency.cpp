// Clients in different processes and threads own different channels and call in parallel.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
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

}  // namespace
}  // namespace shmrpc::test
