#pragma once
// A chaos client: a forked process that calls one server name in a loop, checks every result
// against its own computation, and reconnects whenever the server goes away. It reports through
// a ClientSlot in memory shared with the harness (MAP_SHARED, set up before the fork): what it is
// doing since when, so that the harness can bound every wait, and what went wrong.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shmrpc::chaos {

/// What a client is doing. Each phase has a bound (see Harness): a client never stays longer.
enum class Phase : std::uint8_t {
  kIdle = 0,        ///< between calls: checking results, a short back-off sleep
  kConnecting = 1,  ///< in Client's constructor or Client::reconnect()
  kCalling = 2,     ///< in Client::call
};

/// Faults a client can be told to commit, for the suite's tests of its own checks.
enum class ClientFault : std::uint8_t {
  kNone,
  kStallCalling,     ///< after a few calls, claims to be calling and never returns
  kStallConnecting,  ///< claims to be connecting and never returns
  kUnknownFunction,  ///< calls a function the server does not have
};

struct ClientConfig {
  std::string name;  ///< the server name
  std::uint64_t seed = 0;
  std::chrono::milliseconds timeout{200};                   ///< ClientOptions::timeout
  std::chrono::milliseconds liveness{100};                  ///< ClientOptions::liveness_interval
  std::chrono::milliseconds connect_timeout{300};           ///< ClientOptions::connect_timeout
  std::optional<std::chrono::milliseconds> channel_wait{};  ///< ClientOptions::channel_wait
  bool use_reconnect = true;  ///< after ServerGoneError: Client::reconnect(), else a new Client
  /// Once, this long after starting: slow(long_call_ms), far longer than the timeout, so that the
  /// server still runs it when it is told to stop.
  std::optional<std::chrono::milliseconds> long_call_after{};
  std::uint32_t long_call_ms = 60'000;
  ClientFault fault = ClientFault::kNone;
};

/// Written by one client process, read by the harness. Every field is a lock-free atomic, so the
/// harness may read it while the client runs. Counters are relaxed: they are statistics, read
/// exactly once the client has exited.
class ClientSlot {
 public:
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

  // Client side.
  void enter(Phase phase) noexcept;
  bool stop_requested() const noexcept { return stop_.load(std::memory_order_relaxed) != 0; }
  void count_call() noexcept { calls_.fetch_add(1, std::memory_order_relaxed); }
  void count_timeout() noexcept { timeouts_.fetch_add(1, std::memory_order_relaxed); }
  void count_gone() noexcept { gone_.fetch_add(1, std::memory_order_relaxed); }
  void count_no_server() noexcept { no_server_.fetch_add(1, std::memory_order_relaxed); }
  void count_busy() noexcept { busy_.fetch_add(1, std::memory_order_relaxed); }
  void count_reconnect() noexcept { reconnects_.fetch_add(1, std::memory_order_relaxed); }
  /// A result that differs from the client's own computation; the first one is described.
  void record_wrong(std::string_view what) noexcept;
  /// An exception the client does not expect; the first one is described.
  void record_error(std::string_view what) noexcept;

  // Harness side.
  void request_stop() noexcept { stop_.store(1, std::memory_order_relaxed); }
  /// The phase and when it began (steady_clock, which is CLOCK_MONOTONIC: the same in every
  /// process).
  std::pair<Phase, std::chrono::steady_clock::time_point> phase() const noexcept;
  std::uint64_t calls() const noexcept { return calls_.load(std::memory_order_relaxed); }
  std::uint64_t timeouts() const noexcept { return timeouts_.load(std::memory_order_relaxed); }
  std::uint64_t gone() const noexcept { return gone_.load(std::memory_order_relaxed); }
  std::uint64_t no_server() const noexcept { return no_server_.load(std::memory_order_relaxed); }
  std::uint64_t busy() const noexcept { return busy_.load(std::memory_order_relaxed); }
  std::uint64_t reconnects() const noexcept { return reconnects_.load(std::memory_order_relaxed); }
  std::uint64_t wrong() const noexcept { return wrong_.count.load(std::memory_order_relaxed); }
  std::uint64_t errors() const noexcept { return error_.count.load(std::memory_order_relaxed); }
  /// The first wrong result or unexpected error, once described; else empty.
  std::string wrong_note() const { return wrong_.text(); }
  std::string error_note() const { return error_.text(); }

 private:
  // A counter with a description of its first event, written once by the client.
  struct Note {
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint32_t> state{0};  // 0 empty, 1 being written, 2 written
    std::array<char, 480> chars{};
    void record(std::string_view what) noexcept;
    std::string text() const;
  };

  // (steady_clock nanoseconds << 2) | Phase, in one word so that the harness reads a consistent
  // pair.
  std::atomic<std::uint64_t> phase_{0};
  std::atomic<std::uint64_t> stop_{0};
  std::atomic<std::uint64_t> calls_{0};
  std::atomic<std::uint64_t> timeouts_{0};
  std::atomic<std::uint64_t> gone_{0};
  std::atomic<std::uint64_t> no_server_{0};
  std::atomic<std::uint64_t> busy_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  Note wrong_;
  Note error_;
};

/// The body of a client process: calls `config.name` until the harness requests a stop. Returns
/// the process's exit code (0).
int run_client(const ClientConfig& config, ClientSlot& slot);

}  // namespace shmrpc::chaos
