#include "shmrpc/server.hpp"

#include <csignal>
#include <stdexcept>
#include <system_error>

#include "shmrpc/detail/command_block.hpp"
#include "shmrpc/detail/dispatch.hpp"
#include "shmrpc/detail/metadata_writer.hpp"
#include "shmrpc/detail/process.hpp"
#include "shmrpc/detail/stats.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/probe.hpp"

namespace shmrpc {
namespace {

using detail::CallState;
using layout::Status;

// A sleeping channel thread wakes this often to notice stop() even if its wake-up was lost in
// the race between checking stopping_ and sleeping. Idle cost: a few wake-ups per second.
constexpr auto kIdleWakeInterval = std::chrono::milliseconds(250);

// Every this many idle wake-ups a channel thread checks whether its client died.
constexpr unsigned kIdleWakesPerOwnerCheck = 4;

// While a segment of the name is being created by another process, look this often, 10 ms
// apart, for its header before taking the segment for a leftover.
constexpr int kStartingChecks = 100;

// The stop word of the server whose run() handles signals; read by the signal handler.
// A signal handler can reach nothing but globals.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<std::atomic<std::uint32_t>*> g_signal_stop_word{nullptr};

extern "C" void on_stop_signal(int /*signal*/) {
  // Async-signal-safe: lock-free atomics and a raw futex syscall.
  if (auto* word = g_signal_stop_word.load(std::memory_order_acquire)) {
    word->store(1, std::memory_order_release);  // pairs with the acquire load in run()
    detail::futex_wake_all(*word);
  }
}

// Installs SIGINT/SIGTERM handlers for the life of one run() and restores the previous ones.
class SignalScope {
 public:
  explicit SignalScope(std::atomic<std::uint32_t>* stop_word) : active_(stop_word != nullptr) {
    if (!active_) {
      return;
    }
    std::atomic<std::uint32_t>* expected = nullptr;
    if (!g_signal_stop_word.compare_exchange_strong(expected, stop_word)) {
      throw std::logic_error("shmrpc: another Server::run() already handles signals");
    }
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_int_);
    sigaction(SIGTERM, &action, &previous_term_);
  }
  ~SignalScope() {
    if (active_) {
      sigaction(SIGINT, &previous_int_, nullptr);
      sigaction(SIGTERM, &previous_term_, nullptr);
      g_signal_stop_word.store(nullptr, std::memory_order_release);
    }
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;
  SignalScope(SignalScope&&) = delete;
  SignalScope& operator=(SignalScope&&) = delete;

 private:
  bool active_;
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

}  // namespace

Server::Server(std::string name, ServerOptions options)
    : name_(std::move(name)), options_(options) {
  validate_name(name_);
}

Server::~Server() {
  stop();
}

void Server::check_not_started() const {
  if (running()) {
    throw std::logic_error("shmrpc: server '" + name_ +
                           "' is running; def() functions before start()");
  }
}

Segment Server::create_segment(std::size_t size) {
  for (int check = 0;; ++check) {
    try {
      return Segment::create(name_, size, options_.mode,
                             options_.group.value_or(static_cast<gid_t>(-1)));
    } catch (const std::system_error& error) {
      if (error.code().value() != EEXIST) {
        throw;
      }
    }
    const ServerProbe probe = probe_server(name_);
    if (probe.liveness == Liveness::kAlive) {
      throw Error("shmrpc: a server named '" + name_ + "' is already running (pid " +
                  std::to_string(probe.server.pid) + ")");
    }
    if (probe.liveness == Liveness::kStarting && check < kStartingChecks) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    // Left by a dead server (or never finished): replace it. Its clients keep their mapping of
    // the old file and find its server dead.
    Segment::unlink(name_);
  }
}

void Server::start() {
  const std::lock_guard lock(lifecycle_);
  if (running()) {
    return;
  }
  if (stopping_.load()) {
    throw std::logic_error("shmrpc: server '" + name_ + "' was stopped; create a new Server");
  }
  const detail::SegmentPlan plan =
      detail::plan_segment(registry_.functions(), options_.channels, options_.arena_size);
  Segment segment = create_segment(plan.segment_size);
  detail::write_segment(segment.data(), plan, detail::current_process());
  channel_table_offset_ = plan.channels.table_offset;
  channel_stride_ = plan.channels.stride;
  heap_offset_ = plan.channels.heap_offset;
  heap_size_ = plan.channels.heap_size;
  stats_offset_ = plan.stats_offset;
  segment_.emplace(std::move(segment));
  for (std::uint32_t channel = 0; channel < options_.channels; ++channel) {
    threads_.emplace_back([this, channel] { serve(channel); });
  }
  running_.store(true, std::memory_order_release);
  auto& header = *reinterpret_cast<layout::SegmentHeader*>(segment_->data());
  // Release: clients that read kReady (acquire) see the whole metadata written above.
  header.state.store(static_cast<std::uint32_t>(layout::ServerState::kReady),
                     std::memory_order_release);
}

void Server::run(RunOptions options) {
  start();
  const SignalScope signals(options.stop_on_signals ? &stop_requested_ : nullptr);
  // Acquire pairs with the release store in stop() or the signal handler.
  while (stop_requested_.load(std::memory_order_acquire) == 0) {
    detail::futex_wait(stop_requested_, 0, detail::Deadline::max());
  }
  stop();
}

void Server::stop() noexcept {
  stop_requested_.store(1, std::memory_order_release);  // pairs with the acquire in run()
  detail::futex_wake_all(stop_requested_);
  const std::lock_guard lock(lifecycle_);
  if (!running()) {
    return;
  }
  auto& header = *reinterpret_cast<layout::SegmentHeader*>(segment_->data());
  header.state.store(static_cast<std::uint32_t>(layout::ServerState::kStopping),
                     std::memory_order_release);
  stopping_.store(true, std::memory_order_release);  // read by the channel threads
  const auto block = [&](std::uint32_t channel) -> layout::CommandBlock& {
    return *reinterpret_cast<layout::CommandBlock*>(segment_->data() + channel_table_offset_ +
                                                    channel * channel_stride_);
  };
  for (std::uint32_t channel = 0; channel < options_.channels; ++channel) {
    detail::futex_wake_all(block(channel).state);  // a sleeping channel thread sees stopping_
  }
  for (std::thread& thread : threads_) {
    thread.join();  // each finishes the call it runs
  }
  threads_.clear();
  // Requests that no thread took fail with "stopping", waking their clients.
  for (std::uint32_t channel = 0; channel < options_.channels; ++channel) {
    layout::CommandBlock& cb = block(channel);
    if (detail::state_of(cb.state.load(std::memory_order_acquire)) == CallState::kRequest) {
      detail::write_failure(cb, Status::kServerStopping, "", "server '" + name_ + "' is stopping");
      // Only if the client has not withdrawn the request meanwhile.
      detail::post_state_if(cb.state, CallState::kRequest, CallState::kFailed);
    }
  }
  header.state.store(static_cast<std::uint32_t>(layout::ServerState::kStopped),
                     std::memory_order_release);
  Segment::unlink(name_);
  segment_.reset();
  running_.store(false, std::memory_order_release);
}

void Server::serve(std::uint32_t channel) {
  auto& block = *reinterpret_cast<layout::CommandBlock*>(segment_->data() + channel_table_offset_ +
                                                         channel * channel_stride_);
  bool just_served = false;
  unsigned idle_wakes = 0;
  // Acquire pairs with the release store in stop().
  while (!stopping_.load(std::memory_order_acquire)) {
    std::optional<CallState> state;
    if (just_served) {
      state = detail::spin_for_state(block.state, detail::WaitFor::kRequest, options_.spin);
    }
    if (!state) {
      state = detail::sleep_for_state(block.state, detail::WaitFor::kRequest,
                                      std::chrono::steady_clock::now() + kIdleWakeInterval);
    }
    just_served = false;
    if (!state) {
      if (++idle_wakes % kIdleWakesPerOwnerCheck == 0) {
        reclaim_if_abandoned(channel);
      }
      continue;
    }
    if (stopping_.load(std::memory_order_acquire)) {
      continue;
    }
    // The client may cancel a request it timed out on; then this fails and we wait again.
    if (detail::change_state_quietly(block.state, CallState::kRequest, CallState::kRunning)) {
      run_call(channel);
      just_served = true;
    }
  }
}

void Server::reclaim_if_abandoned(std::uint32_t channel) {
  auto& block = *reinterpret_cast<layout::CommandBlock*>(segment_->data() + channel_table_offset_ +
                                                         channel * channel_stride_);
  std::uint64_t owner = block.owner.load(std::memory_order_acquire);
  if (owner == 0 || detail::owner_alive(owner)) {
    return;
  }
  // The owner died between calls: free the channel for the next client. (A client that finds a
  // dead owner claims the channel itself too; whichever CAS comes first wins.)
  const CallState state = detail::state_of(block.state.load(std::memory_order_acquire));
  if (state != CallState::kRequest && state != CallState::kRunning) {
    detail::change_state_quietly(block.state, state, CallState::kIdle);
    // Release: our reset of the state happens before a new owner's claim.
    block.owner.compare_exchange_strong(owner, 0, std::memory_order_release,
                                        std::memory_order_relaxed);
  }
}

void Server::run_call(std::uint32_t channel) {
  std::byte* base = segment_->data() + channel_table_offset_ + channel * channel_stride_;
  auto& block = *reinterpret_cast<layout::CommandBlock*>(base);
  const auto& functions = registry_.functions();
  // The function index is read once more here (dispatch() checks its own read): a client that
  // rewrites it during the call only misattributes its own call in the statistics.
  const std::uint32_t index = block.function_index;
  auto* records = reinterpret_cast<layout::StatsRecord*>(segment_->data() + stats_offset_);
  layout::StatsRecord* record = index < functions.size()
                                    ? &records[std::size_t{channel} * functions.size() + index]
                                    : nullptr;
  const bool timed = record != nullptr && detail::should_time(*record);
  const std::uint64_t start = timed ? detail::stats_clock_ns() : 0;
  const Status status = detail::dispatch(functions, block, base + layout::kFrameOffset,
                                         base + heap_offset_, heap_size_);
  if (record != nullptr) {
    // Before the end is posted, so that a client that sees its call done finds it counted.
    detail::record_call(*record, status != Status::kOk, timed,
                        timed ? detail::stats_clock_ns() - start : 0);
  }
  // Release (in post_state): the result, status and error text are visible to the client that
  // sees kDone/kFailed.
  detail::post_state(block.state, status == Status::kOk ? CallState::kDone : CallState::kFailed);
}

}  // namespace shmrpc
