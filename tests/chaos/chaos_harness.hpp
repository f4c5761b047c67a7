#pragma once
// The chaos suite's harness: server processes (shmrpc_chaos_server, fork+exec) and client
// processes (forked, chaos_client.hpp) of a few server names, the signals sent to them, and the
// checks that run all the while:
//
//   wrong-result     every result equals the client's own computation
//   client-hang      a client's call ends within timeout + liveness interval + slack, a connect
//                    within connect timeout + channel wait + liveness interval + slack
//   missed-death     a client connecting (waiting for a channel) notices its server died within
//                    connect timeout + liveness interval + slack
//   stop-unbounded   a SIGTERMed server exits within Bounds::stop
//   two-servers      at most one live server per name
//   unreachable      a live server's segment is the one its name opens (probe_server)
//   leaked-segment   a SIGTERMed server leaves no segment; once everything has stopped (and the
//                    segments of SIGKILLed servers were replaced by a new server, which was then
//                    SIGTERMed), no segment of the run is left
//   unexpected-exit  no process exits unless told to, and a SIGTERMed server exits with 0
//   start-failed     a server either starts or is refused because a live server has the name
//   client-error     clients see only the documented errors
//
// One Harness is one round. Its destructor kills every child and removes every segment of the
// run, also when a test fails or throws. Fork happens from the calling (main) thread only.

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chaos_client.hpp"
#include "chaos_functions.hpp"
#include "shmrpc/detail/process.hpp"

namespace shmrpc::chaos {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::milliseconds;

enum class Check : std::uint8_t {
  kWrongResult,
  kClientHang,
  kMissedDeath,
  kStopUnbounded,
  kTwoServers,
  kUnreachable,
  kLeakedSegment,
  kUnexpectedExit,
  kStartFailed,
  kClientError,
};

inline constexpr std::array kAllChecks{
    Check::kWrongResult, Check::kClientHang,  Check::kMissedDeath,   Check::kStopUnbounded,
    Check::kTwoServers,  Check::kUnreachable, Check::kLeakedSegment, Check::kUnexpectedExit,
    Check::kStartFailed, Check::kClientError,
};

/// "wrong-result", "two-servers", ...: the names in the list above.
std::string_view check_name(Check check);

struct Finding {
  Check check;
  std::string text;
};

/// How long things may take. Generous, because the suite runs on two busy cores and under
/// sanitizers, but finite: exceeding a bound is a finding, never a stalled test.
struct Bounds {
  Milliseconds slack{2000};           ///< scheduling noise on a loaded machine
  Milliseconds stop{12'000};          ///< SIGTERM to exit
  Milliseconds start{4000};           ///< start (or --start-at) to "ready" or "error"
  Milliseconds race_lead{60};         ///< racing servers are timed this far ahead of their fork
  Milliseconds connect_timeout{300};  ///< ClientOptions::connect_timeout of every client
  Milliseconds channel_wait{4000};    ///< ClientOptions::channel_wait of clients that wait
  int pace = 1;                       ///< multiplies the pauses between chaos actions

  /// The bounds for this build: larger under the sanitizers, which are several times slower.
  static Bounds for_this_build();
};

struct ServerFlags {
  std::uint32_t channels = 4;
  std::optional<Clock::time_point> start_at{};  ///< --start-at
  std::string inject{};                         ///< --inject
};

/// Tallies of what a round did, to show that it did something.
struct RoundStats {
  std::uint64_t servers = 0;           ///< server processes started
  std::uint64_t ready = 0;             ///< of which reported ready
  std::uint64_t refused = 0;           ///< of which were refused the name (a live server had it)
  std::uint64_t races = 0;             ///< groups of servers started at the same instant
  std::uint64_t kills = 0;             ///< SIGKILLs (servers and clients)
  std::uint64_t terms = 0;             ///< SIGTERMs
  std::uint64_t stops = 0;             ///< SIGSTOPs
  std::uint64_t clients = 0;           ///< client processes started
  std::uint64_t calls = 0;             ///< calls whose result was checked
  std::uint64_t timeouts = 0;          ///< TimeoutErrors
  std::uint64_t gone = 0;              ///< ServerGoneErrors
  std::uint64_t no_server = 0;         ///< NoServerErrors
  std::uint64_t busy = 0;              ///< ChannelsBusyErrors
  std::uint64_t reconnects = 0;        ///< successful Client::reconnect()s
  std::uint64_t stalled_ms = 0;        ///< time the harness was not scheduled (not counted)
  std::uint64_t longest_stall_ms = 0;  ///< of which the longest stretch
};

struct ServerChild {
  std::string name;
  ServerFlags flags;
  pid_t pid = -1;
  int out_fd = -1;  // its stdout: "ready" or "error: MESSAGE"
  std::string out;
  Clock::time_point started;
  bool cleanup = false;  // started by finish() to replace a leftover segment: must not be refused
  std::optional<Clock::time_point> ready_at;
  ProcessIdentity identity;          // once ready
  std::optional<std::string> error;  // what start() failed with
  std::optional<Clock::time_point> termed_at;
  std::optional<Clock::time_point> killed_at;
  std::optional<Clock::time_point> cont_at;  // SIGSTOPped until then
  std::optional<int> status;                 // wait status, once reaped

  bool exited() const { return status.has_value(); }
  bool gone() const { return exited() || killed_at.has_value(); }
  bool starting() const { return !gone() && !ready_at && !error; }
  /// Ready and not told to go: it should be serving its name.
  bool serving() const { return ready_at && !gone() && !termed_at; }
};

struct ClientChild {
  ClientConfig config;
  pid_t pid = -1;
  std::size_t slot = 0;
  Clock::time_point started;
  std::optional<Clock::time_point> resumed_at;
  std::optional<Clock::time_point> cont_at;  // SIGSTOPped until then
  std::optional<Clock::time_point> killed_at;
  std::optional<Clock::time_point> termed_at;
  std::optional<Clock::time_point> stop_requested_at;
  std::optional<int> status;
  bool wrong_reported = false;
  bool error_reported = false;
  bool hang_reported = false;
  bool death_reported = false;

  bool gone() const { return status.has_value() || killed_at || termed_at; }
};

class Harness {
 public:
  /// `label` prefixes every finding ("round 3 (seed ...)").
  Harness(Bounds bounds, std::string label);
  /// Kills and reaps every child still running and removes every segment of the run.
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
  Harness(Harness&&) = delete;
  Harness& operator=(Harness&&) = delete;

  /// A server name unique to this test process: "chaos-<pid>-<n>".
  std::string new_name();
  /// "shmrpc.chaos-<pid>-": the /dev/shm prefix of every segment of this process's runs.
  static std::string segment_prefix();

  std::size_t start_server(const std::string& name, const ServerFlags& flags = {});
  /// Starts `count` servers of `name` that call start() at the same instant, Bounds::race_lead
  /// from now, each a few microseconds after the last (so that their steps interleave).
  void race_servers(const std::string& name, std::size_t count, std::uint32_t channels, Rng& rng);
  std::size_t start_client(const ClientConfig& config);

  void kill_server(std::size_t id);
  void term_server(std::size_t id);
  void stop_server(std::size_t id, Clock::duration how_long);
  void kill_client(std::size_t id);
  void term_client(std::size_t id);
  void stop_client(std::size_t id, Clock::duration how_long);

  /// Runs the checks every few milliseconds for `how_long`.
  void run_for(Clock::duration how_long);
  /// Runs the checks until the server is ready or gone, at most Bounds::start (+ its start_at).
  bool wait_ready(std::size_t id);
  /// Ends the round: resumes what is stopped, lets the clients stop (SIGKILLing those still
  /// connecting), SIGTERMs every server and waits for it, replaces every leftover segment with a
  /// new server and SIGTERMs that one too, and checks that no segment of the run is left.
  void finish();

  const std::vector<ServerChild>& servers() const { return servers_; }
  const std::vector<ClientChild>& clients() const { return clients_; }
  const ClientSlot& slot(std::size_t client) const { return slots_[clients_.at(client).slot]; }
  const std::vector<Finding>& findings() const { return findings_; }
  const RoundStats& stats() const { return stats_; }
  const Bounds& bounds() const { return bounds_; }
  /// Whether any finding of `check` was made.
  bool found(Check check) const;

 private:
  void tick();
  void add(Check check, const std::string& key, const std::string& text);
  void read_output(ServerChild& server);
  void reap();
  void on_exit(pid_t pid, int status);
  void on_server_exit(ServerChild& server);
  void on_client_exit(ClientChild& client);
  void resume_due(Clock::time_point now);
  void check_clients(Clock::time_point now);
  void check_client(ClientChild& client, Clock::time_point now);
  void check_notes(ClientChild& client);
  void check_missed_death(ClientChild& client, Clock::time_point since, Clock::time_point now);
  static std::string describe_client(const ClientChild& client);
  void check_servers(Clock::time_point now);
  void check_name(const std::string& name);
  bool still_running(ServerChild& server);
  void record_death(const std::string& name, Clock::time_point when);
  void stop_clients();
  void stop_servers();
  void replace_leftover(const std::string& name);
  void check_no_segment_left();
  std::string describe_server(const ServerChild& server) const;
  std::string describe_holders(const std::string& name,
                               const std::vector<const ServerChild*>& holders) const;
  Clock::duration call_bound(const ClientConfig& config) const;
  Clock::duration connect_bound(const ClientConfig& config) const;
  Clock::duration death_bound(const ClientConfig& config) const;
  std::string since_text(Clock::time_point when) const;
  /// now - since, less the stalls of the harness in between (see kStall).
  Clock::duration observed(Clock::time_point since, Clock::time_point now) const;
  /// "" or " (N ms of it while the harness ran; ...)".
  std::string stalled_note(Clock::time_point since, Clock::time_point now) const;

  struct Stall {
    Clock::time_point from;
    Clock::time_point to;
  };

  Bounds bounds_;
  std::string label_;
  Clock::time_point born_;
  std::vector<std::string> names_;
  std::vector<ServerChild> servers_;
  std::vector<ClientChild> clients_;
  ClientSlot* slots_ = nullptr;  // kSlots of them, MAP_SHARED with every client
  std::vector<std::size_t> free_slots_;
  std::optional<Clock::time_point> last_tick_;
  std::vector<Stall> stalls_;
  std::map<std::string, std::vector<Clock::time_point>> deaths_;  // of the servers of each name
  std::set<std::string> two_server_names_;
  std::set<std::string> keys_;  // of findings made, so that each is made once
  std::vector<Finding> findings_;
  RoundStats stats_;
};

}  // namespace shmrpc::chaos
