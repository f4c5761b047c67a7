#include "chaos_client.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <span>
#include <thread>
#include <vector>

#include "chaos_functions.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/errors.hpp"

namespace shmrpc::chaos {
namespace {

using Clock = std::chrono::steady_clock;

// After this many timeouts in a row (a late call the server still runs), start afresh on a new
// channel rather than wait for it.
constexpr int kTimeoutsBeforeNewClient = 3;

// Calls before a kStallCalling client stalls.
constexpr std::uint64_t kCallsBeforeStall = 50;

void sleep_ms(std::int64_t ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

[[noreturn]] void stall() {
  for (;;) {
    ::pause();
  }
}

std::string hex(std::uint64_t value) {
  std::array<char, 24> text{};
  (void)std::snprintf(text.data(), text.size(), "0x%016llx",
                      static_cast<unsigned long long>(value));
  return text.data();
}

// One call of a random kind, its result checked. Throws what Client::call throws.
class Caller {
 public:
  Caller(const ClientConfig& config, ClientSlot& slot) : config_(config), slot_(slot) {}

  void call_once(Client& client, Rng& rng) {
    if (config_.fault == ClientFault::kUnknownFunction) {
      client.call<std::uint64_t>("no_such_function", std::uint64_t{1});
    }
    const std::uint64_t kind = rng.below(1000);
    const std::uint64_t seed = rng.next();
    if (kind < 500) {
      const auto n = static_cast<std::uint32_t>(rng.below(3000));
      expect("checksum", checksum(seed, n), client.call<std::uint64_t>("checksum", seed, n));
    } else if (kind < 700) {
      auto out = client.empty<std::uint64_t>(1 + rng.below(2048));
      std::fill(out.begin(), out.end(), ~std::uint64_t{0});
      client.call("fill", out.span(), seed);
      expect_filled(out.span(), seed);
    } else if (kind < 900) {
      std::vector<std::uint64_t> out(1 + rng.below(2048), ~std::uint64_t{0});
      client.call("fill", std::span<std::uint64_t>(out), seed);
      expect_filled(out, seed);
    } else if (kind < 950) {
      // The process that serves the call is the one the segment names.
      const auto server = static_cast<std::uint64_t>(client.connection()->server().pid);
      expect("pid", server, static_cast<std::uint64_t>(client.call<std::int64_t>("pid")));
    } else {
      // Mostly a millisecond or two; one in a hundred up to twice the timeout, so that calls time
      // out and the next call waits for the late one (about a tenth of the client's time).
      const auto longest = rng.percent(1) ? 2 * config_.timeout.count() : 2;
      const auto ms = static_cast<std::uint32_t>(rng.between(0, longest));
      expect("slow", slow_value(ms, seed), client.call<std::uint64_t>("slow", ms, seed));
    }
    slot_.count_call();
  }

  void long_call(Client& client, Rng& rng) {
    const std::uint64_t seed = rng.next();
    expect("slow", slow_value(config_.long_call_ms, seed),
           client.call<std::uint64_t>("slow", config_.long_call_ms, seed));
    slot_.count_call();
  }

 private:
  void expect(const char* function, std::uint64_t expected, std::uint64_t got) {
    if (got != expected) {
      slot_.record_wrong(std::string(function) + " on server '" + config_.name + "' returned " +
                         hex(got) + ", expected " + hex(expected));
    }
  }

  void expect_filled(std::span<const std::uint64_t> out, std::uint64_t seed) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i] != fill_value(seed, i)) {
        slot_.record_wrong("fill on server '" + config_.name + "' wrote " + hex(out[i]) +
                           " at index " + std::to_string(i) + " of " + std::to_string(out.size()) +
                           ", expected " + hex(fill_value(seed, i)));
        return;
      }
    }
  }

  const ClientConfig& config_;
  ClientSlot& slot_;
};

}  // namespace

void ClientSlot::enter(Phase phase) noexcept {
  const auto now = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
  phase_.store((now << 2U) | static_cast<std::uint64_t>(phase), std::memory_order_relaxed);
}

std::pair<Phase, Clock::time_point> ClientSlot::phase() const noexcept {
  const std::uint64_t word = phase_.load(std::memory_order_relaxed);
  const auto ns = static_cast<std::int64_t>(word >> 2U);
  return {static_cast<Phase>(word & 3U), Clock::time_point(std::chrono::nanoseconds(ns))};
}

void ClientSlot::record_wrong(std::string_view what) noexcept {
  wrong_.record(what);
}

void ClientSlot::record_error(std::string_view what) noexcept {
  error_.record(what);
}

void ClientSlot::Note::record(std::string_view what) noexcept {
  count.fetch_add(1, std::memory_order_relaxed);
  std::uint32_t empty = 0;
  if (!state.compare_exchange_strong(empty, 1, std::memory_order_relaxed)) {
    return;  // only the first event is described
  }
  const std::size_t n = std::min(what.size(), chars.size() - 1);
  std::memcpy(chars.data(), what.data(), n);
  chars.at(n) = '\0';
  state.store(2, std::memory_order_release);  // pairs with the acquire load in text()
}

std::string ClientSlot::Note::text() const {
  if (state.load(std::memory_order_acquire) != 2) {  // pairs with the release store in record()
    return {};
  }
  return chars.data();
}

namespace {

// The client's loop: connect when needed, one call, and the documented answer to each error.
class ClientLoop {
 public:
  ClientLoop(const ClientConfig& config, ClientSlot& slot)
      : config_(config),
        slot_(slot),
        rng_(config.seed),
        caller_(config, slot),
        born_(Clock::now()) {
    options_.timeout = config.timeout;
    options_.liveness_interval = config.liveness;
    options_.connect_timeout = config.connect_timeout;
    options_.channel_wait = config.channel_wait;
  }

  void run() {
    slot_.enter(Phase::kIdle);
    while (!slot_.stop_requested()) {
      if (!step()) {
        slot_.enter(Phase::kIdle);
        sleep_ms(rng_.between(1, 15));  // back off before connecting or calling again
      }
    }
  }

 private:
  // Connects if needed and makes one call; false when that failed.
  bool step() {
    try {
      connect();
      call();
      slot_.enter(Phase::kIdle);
      return true;
    } catch (const ServerGoneError&) {
      slot_.count_gone();
      if (config_.use_reconnect) {
        gone_ = true;
      } else {
        client_.reset();
      }
    } catch (const TimeoutError&) {
      slot_.count_timeout();
      if (++timeouts_in_a_row_ >= kTimeoutsBeforeNewClient) {
        client_.reset();
      }
    } catch (const NoServerError&) {
      slot_.count_no_server();
    } catch (const ChannelsBusyError&) {
      slot_.count_busy();
    } catch (const std::exception& error) {
      slot_.record_error(error.what());
      client_.reset();
    }
    return false;
  }

  void connect() {
    if (client_ && !gone_) {
      return;
    }
    slot_.enter(Phase::kConnecting);
    if (config_.fault == ClientFault::kStallConnecting) {
      stall();
    }
    if (client_) {
      client_->reconnect();  // on failure the old connection stays, and the next step retries
      slot_.count_reconnect();
    } else {
      client_.emplace(config_.name, options_);
    }
    gone_ = false;
    timeouts_in_a_row_ = 0;
  }

  void call() {
    slot_.enter(Phase::kCalling);
    if (config_.fault == ClientFault::kStallCalling && slot_.calls() >= kCallsBeforeStall) {
      stall();
    }
    if (long_call_due_ && Clock::now() - born_ >= *config_.long_call_after) {
      try {
        caller_.long_call(*client_, rng_);
        long_call_due_ = false;
      } catch (const TimeoutError&) {
        // Made once the server runs it (a late call); not when the server was gone or stopped
        // and the request was withdrawn: then it is tried again on the next call.
        long_call_due_ = !client_->connection()->has_late_call();
        throw;
      }
    } else {
      caller_.call_once(*client_, rng_);
    }
    timeouts_in_a_row_ = 0;
  }

  const ClientConfig& config_;
  ClientSlot& slot_;
  Rng rng_;
  Caller caller_;
  ClientOptions options_;
  Clock::time_point born_;
  bool long_call_due_ = config_.long_call_after.has_value();
  std::optional<Client> client_;
  bool gone_ = false;  // the server of client_ went away: reconnect before the next call
  int timeouts_in_a_row_ = 0;
};

}  // namespace

int run_client(const ClientConfig& config, ClientSlot& slot) {
  ClientLoop loop(config, slot);
  loop.run();
  return 0;
}

}  // namespace shmrpc::chaos
