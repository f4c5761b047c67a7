#include "chaos_harness.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "shmrpc/probe.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc::chaos {
namespace {

// Client processes at once in one round; a slot is reused once its client is reaped.
constexpr std::size_t kSlots = 1024;

// How often the checks run.
constexpr auto kTick = std::chrono::milliseconds(3);

// A longer gap between two runs of the checks means the harness itself was not scheduled (a
// machine stalled by other work). That time does not count against any bound: the bounds are the
// library's, not the machine's. A process that really hangs goes on hanging once the harness runs.
constexpr auto kStall = std::chrono::milliseconds(100);

// At the end of a round, a client still connecting after this long is SIGKILLed: it may wait
// Bounds::channel_wait for a channel, and the checks have watched it all round.
constexpr auto kFinishPatience = std::chrono::milliseconds(500);

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

long long ms(Clock::duration duration) {
  return std::chrono::duration_cast<Milliseconds>(duration).count();
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) {
    return "exit code " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status));
  }
  return "wait status " + std::to_string(status);
}

// In a child right after fork: SIGKILL it when the harness dies, even by SIGKILL, when no
// destructor runs. (Its segment may stay; it is a dead server's, which `shmrpc clean` removes.)
void die_with(pid_t harness) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != harness) {
    ::_exit(127);  // the harness died before prctl
  }
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string segment_path(const std::string& name) {
  return "/dev/shm" + shm_object_name(name);
}

bool segment_exists(const std::string& name) {
  struct stat st {};
  return ::stat(segment_path(name).c_str(), &st) == 0;
}

// The names of the segments in /dev/shm whose file names start with `prefix`.
std::vector<std::string> segments_with_prefix(const std::string& prefix) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", error)) {
    const std::string file = entry.path().filename().string();
    if (file.starts_with(prefix)) {
      names.push_back(file.substr(std::string_view("shmrpc.").size()));
    }
  }
  return names;
}

std::string describe_probe(const std::string& name) {
  try {
    const ServerProbe probe = probe_server(name);
    switch (probe.liveness) {
      case Liveness::kNone:
        return "no segment";
      case Liveness::kStarting:
        return "a segment without a header (starting)";
      case Liveness::kAlive:
        return "alive, pid " + std::to_string(probe.server.pid);
      case Liveness::kDead:
        return "dead, pid " + std::to_string(probe.server.pid);
    }
  } catch (const std::exception& error) {
    return std::string("probe failed: ") + error.what();
  }
  return "?";
}

// What /proc/PID/maps says the process maps of the segment `name`: its inodes, and whether each
// file was removed (another segment has the name now, or none does).
std::string describe_mappings(pid_t pid, const std::string& name) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  const std::string path = segment_path(name);
  std::set<std::string> seen;
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range;
    std::string perms;
    std::string offset;
    std::string device;
    std::string inode;
    std::string file;
    fields >> range >> perms >> offset >> device >> inode >> file;
    std::string rest;
    std::getline(fields, rest);
    if (file == path) {
      seen.insert("inode " + inode +
                  (rest.find("(deleted)") != std::string::npos ? " (removed)" : ""));
    }
  }
  if (seen.empty()) {
    return "maps no segment of that name";
  }
  std::string text = "maps";
  for (const std::string& mapping : seen) {
    text += " " + mapping;
  }
  return text;
}

std::string current_inode(const std::string& name) {
  struct stat st {};
  if (::stat(segment_path(name).c_str(), &st) != 0) {
    return "none";
  }
  return std::to_string(st.st_ino);
}

}  // namespace

std::string_view check_name(Check check) {
  switch (check) {
    case Check::kWrongResult:
      return "wrong-result";
    case Check::kClientHang:
      return "client-hang";
    case Check::kMissedDeath:
      return "missed-death";
    case Check::kStopUnbounded:
      return "stop-unbounded";
    case Check::kTwoServers:
      return "two-servers";
    case Check::kUnreachable:
      return "unreachable";
    case Check::kLeakedSegment:
      return "leaked-segment";
    case Check::kUnexpectedExit:
      return "unexpected-exit";
    case Check::kStartFailed:
      return "start-failed";
    case Check::kClientError:
      return "client-error";
  }
  return "?";
}

Bounds Bounds::for_this_build() {
  Bounds bounds;
  if (kSanitized) {
    bounds.slack = Milliseconds(6000);
    bounds.stop = Milliseconds(16'000);
    bounds.start = Milliseconds(10'000);
    bounds.race_lead = Milliseconds(400);
    bounds.channel_wait = Milliseconds(8000);
    bounds.pace = 3;
  }
  return bounds;
}

Harness::Harness(Bounds bounds, std::string label)
    : bounds_(bounds), label_(std::move(label)), born_(Clock::now()) {
  void* memory = ::mmap(nullptr, kSlots * sizeof(ClientSlot), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    throw std::system_error(errno, std::generic_category(), "mmap of the client slots");
  }
  slots_ = static_cast<ClientSlot*>(memory);
  for (std::size_t slot = kSlots; slot > 0; --slot) {
    free_slots_.push_back(slot - 1);
  }
}

Harness::~Harness() {
  try {
    for (ServerChild& server : servers_) {
      if (!server.exited()) {
        ::kill(server.pid, SIGKILL);
        server.status = wait_for(server.pid);
      }
      if (server.out_fd >= 0) {
        ::close(server.out_fd);
      }
    }
    for (ClientChild& client : clients_) {
      if (!client.status) {
        ::kill(client.pid, SIGKILL);
        client.status = wait_for(client.pid);
      }
    }
    for (const std::string& name : segments_with_prefix(segment_prefix())) {
      Segment::unlink(name);
    }
  } catch (...) {
    // A destructor must not throw; the children are killed either way.
  }
  ::munmap(slots_, kSlots * sizeof(ClientSlot));
}

std::string Harness::new_name() {
  static std::atomic<int> counter{0};
  names_.push_back("chaos-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  return names_.back();
}

std::string Harness::segment_prefix() {
  return "shmrpc.chaos-" + std::to_string(::getpid()) + "-";
}

std::size_t Harness::start_server(const std::string& name, const ServerFlags& flags) {
  std::vector<std::string> arguments = {SHMRPC_CHAOS_SERVER, name, "--channels",
                                        std::to_string(flags.channels)};
  if (flags.start_at) {
    arguments.emplace_back("--start-at");
    arguments.push_back(std::to_string(
        std::chrono::duration_cast<std::chrono::nanoseconds>(flags.start_at->time_since_epoch())
            .count()));
  }
  if (!flags.inject.empty()) {
    arguments.emplace_back("--inject");
    arguments.push_back(flags.inject);
  }
  std::vector<char*> argv;
  argv.reserve(arguments.size() + 1);
  for (std::string& argument : arguments) {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);

  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  std::fflush(nullptr);
  const pid_t harness = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw std::system_error(error, std::generic_category(), "fork");
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec. dup2 clears FD_CLOEXEC on stdout; the
    // parent-death signal survives exec.
    die_with(harness);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  ::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
  ServerChild server;
  server.name = name;
  server.flags = flags;
  server.pid = pid;
  server.out_fd = pipe_fds[0];
  server.started = Clock::now();
  servers_.push_back(std::move(server));
  ++stats_.servers;
  return servers_.size() - 1;
}

void Harness::race_servers(const std::string& name, std::size_t count, std::uint32_t channels,
                           Rng& rng) {
  Clock::time_point at = Clock::now() + bounds_.race_lead;
  ++stats_.races;
  for (std::size_t i = 0; i < count; ++i) {
    start_server(name, {.channels = channels, .start_at = at});
    at += std::chrono::microseconds(rng.between(0, 40));
  }
}

std::size_t Harness::start_client(const ClientConfig& config) {
  if (free_slots_.empty()) {
    throw std::runtime_error("chaos: more than " + std::to_string(kSlots) + " clients at once");
  }
  const std::size_t slot = free_slots_.back();
  free_slots_.pop_back();
  ClientSlot* client_slot = std::construct_at(&slots_[slot]);
  std::fflush(nullptr);
  const pid_t harness = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    free_slots_.push_back(slot);
    throw std::system_error(errno, std::generic_category(), "fork");
  }
  if (pid == 0) {
    die_with(harness);
    int code = 99;
    try {
      code = run_client(config, *client_slot);
    } catch (const std::exception& error) {
      client_slot->record_error(std::string("escaped the client loop: ") + error.what());
    } catch (...) {
      client_slot->record_error("a non-standard exception escaped the client loop");
    }
    ::_exit(code);
  }
  ClientChild client;
  client.config = config;
  client.pid = pid;
  client.slot = slot;
  client.started = Clock::now();
  clients_.push_back(std::move(client));
  ++stats_.clients;
  return clients_.size() - 1;
}

void Harness::kill_server(std::size_t id) {
  ServerChild& server = servers_.at(id);
  if (server.gone()) {
    return;
  }
  server.killed_at = Clock::now();
  ::kill(server.pid, SIGKILL);  // works on a SIGSTOPped process too
  server.status = wait_for(server.pid);
  ++stats_.kills;
  on_server_exit(server);
}

void Harness::term_server(std::size_t id) {
  ServerChild& server = servers_.at(id);
  if (server.gone() || server.termed_at || !server.ready_at) {
    return;
  }
  server.termed_at = Clock::now();
  ::kill(server.pid, SIGTERM);
  if (server.cont_at) {
    ::kill(server.pid, SIGCONT);  // a stopped process takes SIGTERM only once it runs
    server.cont_at.reset();
  }
  ++stats_.terms;
}

void Harness::stop_server(std::size_t id, Clock::duration how_long) {
  ServerChild& server = servers_.at(id);
  if (server.gone() || server.cont_at) {
    return;
  }
  ::kill(server.pid, SIGSTOP);
  server.cont_at = Clock::now() + how_long;
  ++stats_.stops;
}

void Harness::kill_client(std::size_t id) {
  ClientChild& client = clients_.at(id);
  if (client.status) {
    return;
  }
  client.killed_at = Clock::now();
  ::kill(client.pid, SIGKILL);
  client.status = wait_for(client.pid);
  ++stats_.kills;
  on_client_exit(client);
}

void Harness::term_client(std::size_t id) {
  ClientChild& client = clients_.at(id);
  if (client.gone()) {
    return;
  }
  client.termed_at = Clock::now();
  ::kill(client.pid, SIGTERM);
  if (client.cont_at) {
    ::kill(client.pid, SIGCONT);
    client.cont_at.reset();
  }
  ++stats_.terms;
}

void Harness::stop_client(std::size_t id, Clock::duration how_long) {
  ClientChild& client = clients_.at(id);
  if (client.gone() || client.cont_at) {
    return;
  }
  ::kill(client.pid, SIGSTOP);
  client.cont_at = Clock::now() + how_long;
  ++stats_.stops;
}

void Harness::run_for(Clock::duration how_long) {
  const Clock::time_point end = Clock::now() + how_long;
  do {
    tick();
    std::this_thread::sleep_for(kTick);
  } while (Clock::now() < end);
}

bool Harness::wait_ready(std::size_t id) {
  while (servers_.at(id).starting()) {
    tick();
    std::this_thread::sleep_for(kTick);
  }
  const ServerChild& server = servers_.at(id);
  return server.ready_at && !server.gone();
}

bool Harness::found(Check check) const {
  return std::any_of(findings_.begin(), findings_.end(),
                     [check](const Finding& finding) { return finding.check == check; });
}

void Harness::add(Check check, const std::string& key, const std::string& text) {
  if (!keys_.insert(std::string(chaos::check_name(check)) + ":" + key).second) {
    return;
  }
  findings_.push_back({check, label_ + ": " + std::string(chaos::check_name(check)) + ": " + text});
}

std::string Harness::since_text(Clock::time_point when) const {
  return "+" + std::to_string(ms(when - born_)) + " ms";
}

void Harness::tick() {
  const Clock::time_point begin = Clock::now();
  if (last_tick_ && begin - *last_tick_ > kStall) {
    stalls_.push_back({*last_tick_, begin});
    stats_.stalled_ms += static_cast<std::uint64_t>(ms(begin - *last_tick_));
    stats_.longest_stall_ms =
        std::max(stats_.longest_stall_ms, static_cast<std::uint64_t>(ms(begin - *last_tick_)));
  }
  for (ServerChild& server : servers_) {
    if (server.starting()) {
      read_output(server);
    }
  }
  reap();
  const Clock::time_point now = Clock::now();
  resume_due(now);
  check_clients(now);
  check_servers(now);
  last_tick_ = Clock::now();
}

Clock::duration Harness::observed(Clock::time_point since, Clock::time_point now) const {
  Clock::duration lost{0};
  for (const Stall& stall : stalls_) {
    const Clock::time_point from = std::max(stall.from, since);
    const Clock::time_point to = std::min(stall.to, now);
    if (to > from) {
      lost += to - from;
    }
  }
  return now - since - lost;
}

std::string Harness::stalled_note(Clock::time_point since, Clock::time_point now) const {
  const Clock::duration lost = now - since - observed(since, now);
  if (lost == Clock::duration(0)) {
    return "";
  }
  return " (" + std::to_string(ms(now - since - lost)) +
         " ms of it while the harness ran; it was " + "not scheduled for " +
         std::to_string(ms(lost)) + " ms)";
}

void Harness::read_output(ServerChild& server) {
  if (server.out_fd < 0) {
    return;
  }
  std::array<char, 512> buffer{};
  for (;;) {
    const ssize_t n = ::read(server.out_fd, buffer.data(), buffer.size());
    if (n > 0) {
      server.out.append(buffer.data(), static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EAGAIN (nothing more now) or end of file
    }
  }
  const auto end = server.out.find('\n');
  if (end == std::string::npos || server.ready_at || server.error) {
    return;
  }
  const std::string line = server.out.substr(0, end);
  if (line == "ready") {
    server.ready_at = Clock::now();
    server.identity = {server.pid, detail::process_start_time(server.pid)};
    ++stats_.ready;
  } else {
    server.error = line.starts_with("error: ") ? line.substr(7) : line;
  }
}

void Harness::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      return;
    }
    on_exit(pid, status);
  }
}

void Harness::on_exit(pid_t pid, int status) {
  for (ServerChild& server : servers_) {
    if (server.pid == pid && !server.exited()) {
      server.status = status;
      on_server_exit(server);
      return;
    }
  }
  for (ClientChild& client : clients_) {
    if (client.pid == pid && !client.status) {
      client.status = status;
      on_client_exit(client);
      return;
    }
  }
}

void Harness::record_death(const std::string& name, Clock::time_point when) {
  deaths_[name].push_back(when);
}

void Harness::on_server_exit(ServerChild& server) {
  read_output(server);
  if (server.out_fd >= 0) {
    ::close(server.out_fd);
    server.out_fd = -1;
  }
  const int status = *server.status;
  if (server.ready_at) {
    // Only a server that served can be the one a client waits on (see check_client).
    record_death(server.name, server.killed_at.value_or(Clock::now()));
  }
  if (server.killed_at) {
    return;
  }
  const std::string who = "server pid " + std::to_string(server.pid) + " of '" + server.name + "'";
  if (server.termed_at) {
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      add(Check::kUnexpectedExit, std::to_string(server.pid),
          who + " ended with " + describe_status(status) + " after SIGTERM, not exit code 0");
      return;
    }
    try {
      const ServerProbe probe = probe_server(server.name);
      if (probe.liveness != Liveness::kNone && probe.server.pid == server.pid &&
          probe.server.start_time == server.identity.start_time) {
        add(Check::kLeakedSegment, std::to_string(server.pid),
            who + " exited after SIGTERM and left its segment " + segment_path(server.name));
      }
    } catch (const std::exception& error) {
      add(Check::kLeakedSegment, std::to_string(server.pid),
          who + " exited after SIGTERM; its name cannot be probed: " + error.what());
    }
    return;
  }
  if (server.error) {
    if (!server.cleanup && server.error->find("is already running") != std::string::npos) {
      ++stats_.refused;  // the documented answer to a second server of a live name
      return;
    }
    add(Check::kStartFailed, std::to_string(server.pid),
        who + " failed to start: " + *server.error);
    return;
  }
  add(Check::kUnexpectedExit, std::to_string(server.pid),
      who +
          (server.ready_at
               ? " exited by itself " + std::to_string(ms(Clock::now() - *server.ready_at)) +
                     " ms after it was ready"
               : " exited before it was ready") +
          ", with " + describe_status(status) +
          (server.out.empty() ? "" : "; it said: " + server.out));
}

void Harness::on_client_exit(ClientChild& client) {
  check_client(client, Clock::now());  // its last wrong results and errors
  const ClientSlot& slot = slots_[client.slot];
  stats_.calls += slot.calls();
  stats_.timeouts += slot.timeouts();
  stats_.gone += slot.gone();
  stats_.no_server += slot.no_server();
  stats_.busy += slot.busy();
  stats_.reconnects += slot.reconnects();
  free_slots_.push_back(client.slot);
  const int status = *client.status;
  if (client.killed_at || client.termed_at) {
    return;
  }
  if (client.stop_requested_at && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return;
  }
  add(Check::kUnexpectedExit, "client " + std::to_string(client.pid),
      "client pid " + std::to_string(client.pid) + " of '" + client.config.name +
          "' ended by itself with " + describe_status(status));
}

void Harness::resume_due(Clock::time_point now) {
  for (ServerChild& server : servers_) {
    if (server.cont_at && *server.cont_at <= now && !server.gone()) {
      ::kill(server.pid, SIGCONT);
      server.cont_at.reset();
    }
  }
  for (ClientChild& client : clients_) {
    if (client.cont_at && *client.cont_at <= now && !client.gone()) {
      ::kill(client.pid, SIGCONT);
      client.cont_at.reset();
      client.resumed_at = now;
    }
  }
}

Clock::duration Harness::call_bound(const ClientConfig& config) const {
  return config.timeout + config.liveness + bounds_.slack;
}

Clock::duration Harness::connect_bound(const ClientConfig& config) const {
  return config.connect_timeout + config.channel_wait.value_or(Milliseconds(0)) + config.liveness +
         bounds_.slack;
}

Clock::duration Harness::death_bound(const ClientConfig& config) const {
  return config.connect_timeout + config.liveness + bounds_.slack;
}

void Harness::check_clients(Clock::time_point now) {
  for (ClientChild& client : clients_) {
    if (!client.gone()) {
      check_client(client, now);
    }
  }
}

void Harness::check_client(ClientChild& client, Clock::time_point now) {
  check_notes(client);
  if (client.gone() || client.cont_at) {
    return;  // exited, or SIGSTOPped: its waits are on hold
  }
  const auto [phase, began] = slots_[client.slot].phase();
  const Clock::time_point since =
      std::max({began, client.started, client.resumed_at.value_or(client.started)});
  if (phase == Phase::kConnecting) {
    check_missed_death(client, since, now);
  }
  const Clock::duration bound = phase == Phase::kCalling      ? call_bound(client.config)
                                : phase == Phase::kConnecting ? connect_bound(client.config)
                                                              : Clock::duration(bounds_.slack);
  if (observed(since, now) <= bound || client.hang_reported) {
    return;
  }
  client.hang_reported = true;
  const char* doing = phase == Phase::kCalling      ? "in a call"
                      : phase == Phase::kConnecting ? "connecting"
                                                    : "between calls";
  const ClientConfig& config = client.config;
  add(Check::kClientHang, std::to_string(client.pid),
      describe_client(client) + " has been " + doing + " for " + std::to_string(ms(now - since)) +
          " ms" + stalled_note(since, now) + " (bound " + std::to_string(ms(bound)) +
          " ms: timeout " + std::to_string(config.timeout.count()) + " ms, liveness interval " +
          std::to_string(config.liveness.count()) + " ms, connect timeout " +
          std::to_string(config.connect_timeout.count()) + " ms, channel wait " +
          std::to_string(config.channel_wait.value_or(Milliseconds(0)).count()) + " ms, slack " +
          std::to_string(bounds_.slack.count()) + " ms); SIGKILLed");
  kill_client(static_cast<std::size_t>(&client - clients_.data()));
}

void Harness::check_notes(ClientChild& client) {
  const ClientSlot& slot = slots_[client.slot];
  if (slot.wrong() > 0 && !client.wrong_reported) {
    const std::string note = slot.wrong_note();
    if (!note.empty()) {
      client.wrong_reported = true;
      add(Check::kWrongResult, std::to_string(client.pid), describe_client(client) + ": " + note);
    }
  }
  if (slot.errors() > 0 && !client.error_reported) {
    const std::string note = slot.error_note();
    if (!note.empty()) {
      client.error_reported = true;
      add(Check::kClientError, std::to_string(client.pid), describe_client(client) + ": " + note);
    }
  }
}

void Harness::check_missed_death(ClientChild& client, Clock::time_point since,
                                 Clock::time_point now) {
  if (client.death_reported || two_server_names_.contains(client.config.name)) {
    return;  // with two servers of the name, which one the client waits on is unknown
  }
  const Clock::duration bound = death_bound(client.config);
  for (const Clock::time_point death : deaths_[client.config.name]) {
    if (death > since && observed(death, now) > bound) {
      client.death_reported = true;
      add(Check::kMissedDeath, std::to_string(client.pid),
          describe_client(client) + " has been connecting for " + std::to_string(ms(now - since)) +
              " ms; its server died at " + since_text(death) + ", " +
              std::to_string(ms(now - death)) + " ms ago" + stalled_note(death, now) +
              " (bound: connect timeout + liveness interval + slack = " +
              std::to_string(ms(bound)) + " ms)");
      return;
    }
  }
}

std::string Harness::describe_client(const ClientChild& client) {
  return "client pid " + std::to_string(client.pid) + " of '" + client.config.name + "'";
}

bool Harness::still_running(ServerChild& server) {
  if (server.exited()) {
    return false;
  }
  int status = 0;
  if (::waitpid(server.pid, &status, WNOHANG) == server.pid) {
    server.status = status;
    on_server_exit(server);
    return false;
  }
  return true;
}

void Harness::check_name(const std::string& name) {
  std::vector<const ServerChild*> serving;
  for (ServerChild& server : servers_) {
    if (server.name == name && server.serving() && still_running(server)) {
      serving.push_back(&server);
    }
  }
  if (serving.size() >= 2) {
    two_server_names_.insert(name);
    std::string key = name;
    for (const ServerChild* server : serving) {
      key += " " + std::to_string(server->pid);
    }
    add(Check::kTwoServers, key,
        "name '" + name + "' has " + std::to_string(serving.size()) +
            " live servers: " + describe_holders(name, serving));
    return;
  }
  if (serving.size() == 1) {
    const ServerChild& server = *serving.front();
    bool reachable = false;
    try {
      const ServerProbe probe = probe_server(name);
      reachable = probe.liveness == Liveness::kAlive && probe.server.pid == server.pid &&
                  probe.server.start_time == server.identity.start_time;
    } catch (const std::exception&) {
      reachable = false;
    }
    if (!reachable) {
      add(Check::kUnreachable, std::to_string(server.pid),
          "server pid " + std::to_string(server.pid) + " of '" + name +
              "' runs, but its name does not lead to it" +
              (two_server_names_.contains(name) ? " (the name had two live servers before)" : "") +
              ": " + describe_holders(name, serving));
    }
  }
}

std::string Harness::describe_holders(const std::string& name,
                                      const std::vector<const ServerChild*>& holders) const {
  std::string text;
  for (const ServerChild* server : holders) {
    text += "pid " + std::to_string(server->pid) + " (ready at " + since_text(*server->ready_at) +
            ", " + describe_mappings(server->pid, name) + "); ";
  }
  return text + segment_path(name) + " is inode " + current_inode(name) +
         "; probe_server: " + describe_probe(name);
}

std::string Harness::describe_server(const ServerChild& server) const {
  std::string text = "server pid " + std::to_string(server.pid) + " of '" + server.name + "'";
  for (const ClientChild& client : clients_) {
    if (client.config.name == server.name && client.config.long_call_after) {
      text += " (client pid " + std::to_string(client.pid) + " calls slow(" +
              std::to_string(client.config.long_call_ms) + " ms) on that name from " +
              since_text(client.started + *client.config.long_call_after) + ")";
    }
  }
  return text;
}

void Harness::check_servers(Clock::time_point now) {
  for (const std::string& name : names_) {
    check_name(name);
  }
  for (std::size_t id = 0; id < servers_.size(); ++id) {
    ServerChild& server = servers_[id];
    if (server.gone()) {
      continue;
    }
    if (server.termed_at && observed(*server.termed_at, now) > bounds_.stop) {
      add(Check::kStopUnbounded, std::to_string(server.pid),
          describe_server(server) + " still runs " + std::to_string(ms(now - *server.termed_at)) +
              " ms after SIGTERM" + stalled_note(*server.termed_at, now) + " (bound " +
              std::to_string(bounds_.stop.count()) + " ms); SIGKILLed");
      kill_server(id);
      continue;
    }
    const Clock::time_point start =
        std::max(server.started, server.flags.start_at.value_or(server.started));
    if (!server.ready_at && observed(start, now) > bounds_.start) {
      add(Check::kStartFailed, std::to_string(server.pid),
          "server pid " + std::to_string(server.pid) + " of '" + server.name + "' " +
              (server.error ? "reported '" + *server.error + "' but did not exit"
                            : "neither started nor failed") +
              " within " + std::to_string(bounds_.start.count()) + " ms" +
              stalled_note(start, now) + "; SIGKILLed");
      kill_server(id);
    }
  }
}

void Harness::finish() {
  stop_clients();
  stop_servers();
  for (const std::string& name : std::vector<std::string>(names_)) {
    replace_leftover(name);
  }
  check_no_segment_left();
}

void Harness::stop_clients() {
  const Clock::time_point begin = Clock::now();
  for (ServerChild& server : servers_) {
    if (server.cont_at && !server.gone()) {
      ::kill(server.pid, SIGCONT);
      server.cont_at.reset();
    }
  }
  Clock::duration longest = bounds_.slack;
  for (ClientChild& client : clients_) {
    if (client.gone()) {
      continue;
    }
    if (client.cont_at) {
      ::kill(client.pid, SIGCONT);
      client.cont_at.reset();
      client.resumed_at = begin;
    }
    slots_[client.slot].request_stop();
    client.stop_requested_at = begin;
    longest = std::max(longest, call_bound(client.config) + bounds_.slack);
  }
  // Clients finish their call and exit; the checks bound each call.
  for (bool any = true; any;) {
    tick();
    any = false;
    for (std::size_t id = 0; id < clients_.size(); ++id) {
      if (clients_[id].gone()) {
        continue;
      }
      const Phase phase = slots_[clients_[id].slot].phase().first;
      const Clock::duration waited = Clock::now() - begin;
      if ((phase == Phase::kConnecting && waited > kFinishPatience) || waited > longest) {
        kill_client(id);
      } else {
        any = true;
      }
    }
    std::this_thread::sleep_for(kTick);
  }
}

void Harness::stop_servers() {
  // Servers still starting become ready or fail (or are SIGKILLed at Bounds::start); then every
  // ready server is told to stop. Each must exit: within Bounds::stop of its SIGTERM, or within
  // Bounds::start of its start if it failed to start (check_servers SIGKILLs it otherwise).
  const auto wait_while = [this](bool (*busy)(const ServerChild&)) {
    for (;;) {
      tick();
      if (std::none_of(servers_.begin(), servers_.end(), busy)) {
        return;
      }
      std::this_thread::sleep_for(kTick);
    }
  };
  wait_while([](const ServerChild& server) { return server.starting(); });
  for (std::size_t id = 0; id < servers_.size(); ++id) {
    term_server(id);
  }
  wait_while([](const ServerChild& server) { return !server.gone(); });
}

void Harness::replace_leftover(const std::string& name) {
  if (!segment_exists(name)) {
    return;
  }
  // A segment may be left only by a server that was SIGKILLed: after it was ready (its header
  // names it), or while it was starting (no header yet).
  const std::string state = describe_probe(name);
  ServerProbe probe;
  try {
    probe = probe_server(name);
  } catch (const std::exception&) {
    probe.liveness = Liveness::kStarting;
  }
  bool by_design = false;
  for (const ServerChild& server : servers_) {
    if (server.name != name || !server.killed_at) {
      continue;
    }
    if (probe.liveness == Liveness::kDead && server.identity.pid == probe.server.pid &&
        server.identity.start_time == probe.server.start_time) {
      by_design = true;
    }
    // Killed after writing its header but before it reported ready: only its pid is known.
    if (probe.liveness == Liveness::kDead && !server.ready_at && server.pid == probe.server.pid) {
      by_design = true;
    }
    if (probe.liveness == Liveness::kStarting && !server.ready_at) {
      by_design = true;
    }
  }
  if (!by_design) {
    add(Check::kLeakedSegment, "left " + name,
        segment_path(name) + " is left at the end of the round (" + state +
            ") and no SIGKILLed server of that name explains it");
  }
  // The documented way to remove it: a new server of the name replaces it, and removes its own
  // segment on SIGTERM.
  const std::size_t id = start_server(name, {.channels = 2});
  servers_[id].cleanup = true;
  if (wait_ready(id)) {
    term_server(id);
    while (!servers_[id].gone()) {
      tick();
      std::this_thread::sleep_for(kTick);
    }
  } else {
    add(Check::kStartFailed, "cleanup " + name,
        "a new server of '" + name + "' did not replace the leftover segment (" + state + ")");
  }
  if (segment_exists(name)) {
    add(Check::kLeakedSegment, "remains " + name,
        segment_path(name) + " remains after a new server replaced it and was SIGTERMed (" +
            describe_probe(name) + ")");
    Segment::unlink(name);
  }
}

void Harness::check_no_segment_left() {
  for (const std::string& name : segments_with_prefix(segment_prefix())) {
    add(Check::kLeakedSegment, "end " + name,
        segment_path(name) + " remains after every process of the round has stopped (" +
            describe_probe(name) + "); removed");
    Segment::unlink(name);
  }
}

}  // namespace shmrpc::chaos
