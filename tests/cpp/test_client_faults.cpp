// Faults of the client side of a call: a late call and the heap blocks it may still use, a wait
// for a free channel of a server that goes away, how soon a waiting caller notices a dead server,
// and a state word that another process rewrote.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <future>
#include <iostream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/detail/call_protocol.hpp"
#include "shmrpc/segment.hpp"

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

// One steady-clock reading in memory shared with forked children (steady_clock is
// CLOCK_MONOTONIC, the same clock in every process), so that a server can say when it died.
class SharedTime {
 public:
  SharedTime()
      : page_(::mmap(nullptr, sizeof(std::atomic<std::int64_t>), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0)) {
    if (page_ == MAP_FAILED) {
      throw std::runtime_error("mmap of a shared page failed");
    }
    word()->store(0);
  }
  ~SharedTime() { ::munmap(page_, sizeof(std::atomic<std::int64_t>)); }
  SharedTime(const SharedTime&) = delete;
  SharedTime& operator=(const SharedTime&) = delete;

  void set(Clock::time_point time) const { word()->store(time.time_since_epoch().count()); }
  Clock::time_point get() const { return Clock::time_point(Clock::duration(word()->load())); }

 private:
  std::atomic<std::int64_t>* word() const { return static_cast<std::atomic<std::int64_t>*>(page_); }
  void* page_;
};

// The test functions, plus fill_slowly, and die_after(us): sleeps `us` microseconds, notes the
// time in `death` and kills the server process with SIGKILL.
auto fault_functions(const SharedTime* death = nullptr) {
  return [death](Server& server) {
    define_test_functions(server);
    server.def("fill_slowly", fill_slowly, {"values", "value", "ms"});
    server.def("die_after", [death](std::int32_t us) {
      std::this_thread::sleep_for(std::chrono::microseconds(us));
      if (death != nullptr) {
        death->set(Clock::now());
      }
      std::raise(SIGKILL);
    });
  };
}

// The command block of `channel` in the segment of server `name`, as another process maps it.
class MappedChannel {
 public:
  MappedChannel(const std::string& name, std::uint32_t channel) : segment_(Segment::open(name)) {
    const auto& header = *reinterpret_cast<const layout::SegmentHeader*>(segment_.data());
    block_ = reinterpret_cast<layout::CommandBlock*>(segment_.data() + header.channel_table_offset +
                                                     channel * header.channel_stride);
  }
  layout::CommandBlock& block() const noexcept { return *block_; }
  layout::CallState state() const { return detail::state_of(block_->state.load()); }

 private:
  Segment segment_;
  layout::CommandBlock* block_;
};

std::uint64_t free_bytes(const Client& client) {
  return client.connection()->heap_free_bytes();
}

// --- 1. A late call and the heap blocks it may still use ---------------------------------------

TEST(LateCallTest, FreedArrayIsNotReusedWhileTheLateCallWritesIt) {
  ServerProcess server(unique_name("latefree"), fault_functions());
  Client client(server.name());
  const std::uint64_t all_free = free_bytes(client);
  constexpr std::size_t kCount = 8000;  // in the heap (Connection::inline_limit)
  client.set_timeout(milliseconds(100));
  // A unique_ptr rather than an optional: GCC 12 misreads optional's destructor as reading an
  // uninitialized member (-Wmaybe-uninitialized) in the ThreadSanitizer build.
  auto first = std::make_unique<SharedArray<double>>(client.zeros<double>(kCount));
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
  ServerProcess server(unique_name("lateint"), fault_functions());
  ClientOptions options;
  std::atomic<bool> interrupt{false};
  options.interrupt_check = [&interrupt] {
    if (interrupt.exchange(false)) {
      throw std::runtime_error("interrupted");
    }
  };
  Client client(server.name(), options);
  const std::uint64_t all_free = free_bytes(client);
  auto first = std::make_unique<SharedArray<double>>(client.zeros<double>(1000));
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

// --- 3. How soon a waiting caller notices that the server died --------------------------------

// Latencies from a server's death during a call to the caller's ServerGoneError, one per trial;
// the server dies `i * step` into the call of trial i.
std::vector<Clock::duration> death_latencies(const ClientOptions& options, int trials,
                                             std::chrono::microseconds step) {
  std::vector<Clock::duration> latencies;
  const SharedTime death;
  for (int i = 0; i < trials; ++i) {
    ServerProcess server(unique_name("death"), fault_functions(&death),
                         ServerOptions{.channels = 1});
    Client client(server.name(), options);
    death.set(Clock::time_point{});
    try {
      client.call("die_after", static_cast<std::int32_t>(i * step.count()));
      ADD_FAILURE() << "die_after returned";
    } catch (const ServerGoneError&) {
      latencies.push_back(Clock::now() - death.get());
    }
  }
  return latencies;
}

std::string summary(std::vector<Clock::duration> latencies) {
  std::sort(latencies.begin(), latencies.end());
  const auto ms = [](Clock::duration d) {
    return std::to_string(std::chrono::duration<double, std::milli>(d).count()) + " ms";
  };
  return "min " + ms(latencies.front()) + ", median " + ms(latencies[latencies.size() / 2]) +
         ", max " + ms(latencies.back());
}

TEST(LivenessTest, WaitingCallerNoticesDeathWithinTheLivenessInterval) {
  // A spinning caller (spin 30 ms), and one with the default spin; deaths spread over one
  // liveness interval, in the spin and in the sleep.
  for (const auto spin : {std::chrono::nanoseconds(milliseconds(30)), ClientOptions{}.spin}) {
    ClientOptions options;
    options.spin = spin;
    const auto latencies = death_latencies(options, 20, std::chrono::microseconds(5000));
    ASSERT_EQ(latencies.size(), 20U);
    std::cout << "death noticed after (spin " << spin.count() << " ns, liveness_interval "
              << std::chrono::duration_cast<milliseconds>(options.liveness_interval).count()
              << " ms): " << summary(latencies) << "\n";
    for (const auto latency : latencies) {
      EXPECT_LE(latency, options.liveness_interval) << "documented in ClientOptions";
    }
  }
}

// --- 4. A state word that another process rewrote ----------------------------------------------

// After a late call ended, another process stores `state` into the channel's state word while
// the server's channel thread waits for kRequest.
void rewrite_after_a_late_call(layout::CallState state) {
  ServerProcess server(unique_name("rewritten"), define_test_functions,
                       ServerOptions{.channels = 1});
  ClientOptions options;
  options.timeout = milliseconds(300);
  Client client(server.name(), options);
  EXPECT_THROW(client.call("sleep_ms", 500), TimeoutError);
  {
    const MappedChannel channel(server.name(), client.channel());
    const auto give_up = Clock::now() + std::chrono::seconds(10);
    while (channel.state() != layout::CallState::kDone && Clock::now() < give_up) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    ASSERT_EQ(channel.state(), layout::CallState::kDone) << "the late call did not end";
  }
  EXPECT_EQ(run_in_child([&] {
              const MappedChannel channel(server.name(), 0);
              channel.block().state.store(static_cast<std::uint32_t>(state));
              return 0;
            }),
            0);
  for (std::int64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(client.call<std::int64_t>("add", i, 1), i + 1) << "call " << i;
  }
}

TEST(StateWordTest, RunningStoredAfterALateCallDoesNotWedgeTheClient) {
  rewrite_after_a_late_call(layout::CallState::kRunning);
}

TEST(StateWordTest, IdleStoredAfterALateCallDoesNotWedgeTheClient) {
  rewrite_after_a_late_call(layout::CallState::kIdle);
}

TEST(StateWordTest, RequestRewrittenToRunningEndsWithinTheTimeout) {
  ServerProcess server(unique_name("stolen"), define_test_functions, ServerOptions{.channels = 1});
  ClientOptions options;
  options.timeout = milliseconds(300);
  Client client(server.name(), options);
  EXPECT_EQ(client.call<std::int64_t>("add", 1, 1), 2);
  const MappedChannel channel(server.name(), client.channel());
  std::this_thread::sleep_for(milliseconds(20));  // the channel thread sleeps by now
  // Clear the sleeper bit, so that the next request does not wake the channel thread: it finds
  // the request only on its next idle wake-up (every 250 ms), and another process can take it
  // away first.
  channel.block().state.store(static_cast<std::uint32_t>(layout::CallState::kDone));
  std::atomic<bool> call_over{false};
  std::thread thief([&] {
    while (channel.state() != layout::CallState::kRequest && !call_over) {
      detail::cpu_relax();  // the window is the channel thread's sleep: up to 250 ms
    }
    if (!call_over) {
      channel.block().state.store(static_cast<std::uint32_t>(layout::CallState::kRunning));
    }
  });
  const auto start = Clock::now();
  try {
    (void)client.call<std::int64_t>("add", 2, 2);  // may win the race against the thief
  } catch (const TimeoutError&) {
  }
  const auto took = Clock::now() - start;
  call_over = true;
  thief.join();
  EXPECT_LT(took, milliseconds(300) + std::chrono::seconds(1))
      << "the call ends within its timeout (and a generous margin)";
  for (std::int64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(client.call<std::int64_t>("add", i, 2), i + 2) << "call " << i;
  }
}

}  // namespace
}  // namespace shmrpc::test
