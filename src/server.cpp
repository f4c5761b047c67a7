#include "shmrpc/server.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "shmrpc/detail/buffer_table.hpp"
#include "shmrpc/detail/call_buffers.hpp"
#include "shmrpc/detail/call_protocol.hpp"
#include "shmrpc/detail/dispatch.hpp"
#include "shmrpc/detail/metadata_writer.hpp"
#include "shmrpc/detail/process.hpp"
#include "shmrpc/detail/spin_limit.hpp"
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

// A server that finds its name held looks again this many times, 10 ms apart, before reporting
// it taken: the holder may be a server that has just stopped (its lock goes with its last call).
constexpr int kTakenChecks = 20;

// Permission bits a segment may have: read and write, for user, group and others.
constexpr mode_t kModeBits = 0666;
constexpr mode_t kOwnerReadWrite = 0600;

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

void validate_mode(mode_t mode) {
  if ((mode & ~kModeBits) != 0 || (mode & kOwnerReadWrite) != kOwnerReadWrite) {
    throw std::invalid_argument(fmt::format(
        "shmrpc: ServerOptions::mode 0{:o} is not allowed; use read/write bits only (a subset of "
        "0666) including 0600, e.g. 0600, 0660 or 0666",
        static_cast<unsigned>(mode)));
  }
}

}  // namespace

// The part of a running server its channel threads use. Shared by the Server and every channel
// thread, so that a thread whose call outlived stop()'s grace still finds its segment mapped and
// its function alive after the Server is gone.
class Server::Serving {
 public:
  Serving(std::string name, Segment segment, std::shared_ptr<const FunctionRegistry> registry,
          const detail::SegmentPlan& plan, const ServerOptions& options)
      : name_(std::move(name)),
        segment_(std::move(segment)),
        registry_(std::move(registry)),
        buffers_(name_, options.mode, options.group.value_or(static_cast<gid_t>(-1)),
                 options.client_buffer_quota),
        call_buffers_(options.channels),
        channels_(options.channels),
        spin_(options.spin),
        spin_limit_(std::max(1U, std::thread::hardware_concurrency() / 2)),
        channel_table_offset_(plan.channels.table_offset),
        channel_stride_(plan.channels.stride),
        heap_offset_(plan.channels.heap_offset),
        heap_size_(plan.channels.heap_size),
        stats_offset_(plan.stats_offset),
        threads_serving_(options.channels) {
    for (CallBuffers& call : call_buffers_) {
      call.table = &buffers_;
    }
    spin_limit_.count_spinners(options.channels > spin_limit_.limit());
  }

  Segment& segment() noexcept { return segment_; }
  layout::SegmentHeader& header() noexcept {
    return *reinterpret_cast<layout::SegmentHeader*>(segment_.data());
  }

  void set_state(layout::ServerState state) noexcept {
    // Release: clients that read kReady (acquire) see the whole metadata written before it.
    header().state.store(static_cast<std::uint32_t>(state), std::memory_order_release);
  }

  // The body of channel `channel`'s thread: until stop, take requests and run them.
  void serve(std::uint32_t channel);

  // Tells the channel threads to take no more calls and wakes the sleeping ones.
  void begin_stop() noexcept {
    stopping_.store(true, std::memory_order_release);  // pairs with the acquires in serve()
    for (std::uint32_t channel = 0; channel < channels_; ++channel) {
      detail::futex_wake_all(block(channel).state);  // a sleeping thread sees stopping_
    }
  }

  // Waits until every channel thread has left serve(), or `deadline`. True when they all have.
  bool wait_for_threads(detail::Deadline deadline) noexcept {
    for (;;) {
      // Acquire pairs with the release decrement in serve(): the thread's last writes are seen.
      const std::uint32_t serving = threads_serving_.load(std::memory_order_acquire);
      if (serving == 0) {
        return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
      detail::futex_wait(threads_serving_, serving, deadline);
    }
  }

  // Fails the requests no thread took with "stopping", waking their clients.
  void fail_waiting_requests() {
    for (std::uint32_t channel = 0; channel < channels_; ++channel) {
      layout::CommandBlock& cb = block(channel);
      if (detail::state_of(cb.state.load(std::memory_order_acquire)) == CallState::kRequest) {
        detail::write_failure(cb, Status::kServerStopping, "",
                              fmt::format("server '{}' is stopping", name_));
        // Only if the client has not withdrawn the request meanwhile.
        detail::post_state_if(cb.state, CallState::kRequest, CallState::kFailed);
      }
    }
  }

 private:
  layout::CommandBlock& block(std::uint32_t channel) noexcept {
    return *reinterpret_cast<layout::CommandBlock*>(segment_.data() + channel_table_offset_ +
                                                    channel * channel_stride_);
  }
  void run_call(std::uint32_t channel);
  void reclaim_if_abandoned(std::uint32_t channel);

  std::string name_;
  Segment segment_;
  std::shared_ptr<const FunctionRegistry> registry_;
  detail::BufferTable buffers_;
  std::vector<CallBuffers> call_buffers_;  // one per channel, used by its thread only
  std::uint32_t channels_;
  std::chrono::nanoseconds spin_;
  // No more channel threads spin at once than half the cores: many channels waiting for their
  // next call do not spin each other, and the clients' spinning calls (the other half), out of
  // the CPU.
  detail::SpinLimit spin_limit_;
  std::uint64_t channel_table_offset_;
  std::uint64_t channel_stride_;
  std::uint64_t heap_offset_;
  std::uint64_t heap_size_;
  std::uint64_t stats_offset_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint32_t> threads_serving_;  // futex word stop() waits on
};

Server::Server(std::string name, ServerOptions options)
    : name_(std::move(name)), options_(options) {
  validate_name(name_);
  validate_mode(options_.mode);
}

Server::~Server() {
  stop();
}

void Server::check_not_started() const {
  if (running()) {
    throw std::logic_error(
        fmt::format("shmrpc: server '{}' is running; def() functions before start()", name_));
  }
}

void Server::start() {
  const std::lock_guard lock(lifecycle_);
  if (running()) {
    return;
  }
  if (stopped_.load()) {
    throw std::logic_error(
        fmt::format("shmrpc: server '{}' was stopped; create a new Server", name_));
  }
  const detail::SegmentPlan plan =
      detail::plan_segment(registry_->functions(), options_.channels, options_.arena_size);
  Segment segment = Segment::create(name_, plan.segment_size, options_.mode,
                                    options_.group.value_or(static_cast<gid_t>(-1)));
  detail::write_segment(segment.data(), plan, detail::current_process());
  // The segment is complete (state kStarting) before anyone can see it: publish() links it.
  for (int check = 0; !segment.publish(); ++check) {
    if (check >= kTakenChecks) {
      const ServerProbe probe = probe_server(name_);
      throw Error(fmt::format("shmrpc: a server named '{}' is already running (pid {}{})", name_,
                              probe.server.pid,
                              probe.same_pid_namespace() ? "" : " in another pid namespace"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The name is ours: buffers a dead server of that name left are garbage now.
  detail::BufferTable::remove_leftovers(name_);
  serving_ = std::make_shared<Serving>(name_, std::move(segment), registry_, plan, options_);
  for (std::uint32_t channel = 0; channel < options_.channels; ++channel) {
    threads_.emplace_back([serving = serving_, channel] { serving->serve(channel); });
  }
  running_.store(true, std::memory_order_release);
  serving_->set_state(layout::ServerState::kReady);
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
  stopped_.store(true);
  serving_->set_state(layout::ServerState::kStopping);
  serving_->begin_stop();
  const bool finished =
      serving_->wait_for_threads(std::chrono::steady_clock::now() + options_.stop_grace);
  for (std::thread& thread : threads_) {
    // A thread still running a call after the grace is abandoned; it holds its own reference to
    // what it uses and ends when the call returns.
    if (finished) {
      thread.join();
    } else {
      thread.detach();
    }
  }
  threads_.clear();
  serving_->fail_waiting_requests();
  // Clients waiting on an abandoned call see kStopped at their next liveness check.
  serving_->set_state(layout::ServerState::kStopped);
  serving_->segment().unlink_own();
  serving_.reset();
  running_.store(false, std::memory_order_release);
}

void Server::Serving::serve(std::uint32_t channel) {
  layout::CommandBlock& cb = block(channel);
  bool just_served = false;
  unsigned idle_wakes = 0;
  // Acquire pairs with the release store in begin_stop().
  while (!stopping_.load(std::memory_order_acquire)) {
    std::optional<CallState> state;
    if (just_served) {
      const detail::SpinLimit::Ticket ticket(spin_limit_);
      if (ticket) {
        state = detail::spin_for_state(cb.state, detail::WaitFor::kRequest, spin_);
      }
    }
    if (!state) {
      // Idle: a buffer released meanwhile must not stay mapped here for as long as that lasts.
      call_buffers_[channel].unpin();
      state = detail::sleep_for_state(cb.state, detail::WaitFor::kRequest,
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
    if (detail::change_state_quietly(cb.state, CallState::kRequest, CallState::kRunning)) {
      run_call(channel);
      just_served = true;
    }
  }
  // Release pairs with the acquire in wait_for_threads(); the wake with its futex_wait.
  threads_serving_.fetch_sub(1, std::memory_order_release);
  detail::futex_wake_all(threads_serving_);
}

void Server::Serving::reclaim_if_abandoned(std::uint32_t channel) {
  layout::CommandBlock& cb = block(channel);
  std::uint64_t owner = cb.owner.load(std::memory_order_acquire);
  // Its owner lives while it holds the channel's byte lock (SPEC 8), in any pid namespace.
  if (owner == 0 || segment_.locked(layout::channel_lock_byte(channel))) {
    return;
  }
  // The owner died between calls: free the channel for the next client. A client may claim it
  // meanwhile (taking the byte lock first, then storing its owner word): the CASes below then
  // fail and change nothing of its.
  const CallState state = detail::state_of(cb.state.load(std::memory_order_acquire));
  if (state != CallState::kRequest && state != CallState::kRunning) {
    detail::change_state_quietly(cb.state, state, CallState::kIdle);
    // Release: our reset of the state happens before a new owner's claim.
    if (cb.owner.compare_exchange_strong(owner, 0, std::memory_order_release,
                                         std::memory_order_relaxed)) {
      // Its buffers die with it. Arrays other processes were given stay mapped where they are.
      buffers_.release_owner(owner);
    }
  }
}

void Server::Serving::run_call(std::uint32_t channel) {
  std::byte* base = segment_.data() + channel_table_offset_ + channel * channel_stride_;
  layout::CommandBlock& cb = block(channel);
  const auto& functions = registry_->functions();
  // The function index is read once more here (dispatch() checks its own read): a client that
  // rewrites it during the call only misattributes its own call in the statistics.
  const std::uint32_t index = cb.function_index;
  auto* records = reinterpret_cast<layout::StatsRecord*>(segment_.data() + stats_offset_);
  layout::StatsRecord* record = index < functions.size()
                                    ? &records[std::size_t{channel} * functions.size() + index]
                                    : nullptr;
  const bool timed = record != nullptr && detail::should_time(*record);
  const std::uint64_t start = timed ? detail::stats_clock_ns() : 0;
  CallBuffers& buffers = call_buffers_[channel];
  const Status status =
      detail::dispatch(functions, cb, base + layout::kFrameOffset, base + heap_offset_, heap_size_,
                       &buffers, {.segment = &segment_, .index = channel, .stats = record});
  buffers.end_call(status == Status::kOk);
  if (record != nullptr) {
    // Before the end is posted, so that a client that sees its call done finds it counted.
    detail::record_call(*record, status != Status::kOk, timed,
                        timed ? detail::stats_clock_ns() - start : 0);
  }
  // Release (in post_state): the result, status and error text are visible to the client that
  // sees kDone/kFailed.
  detail::post_state(cb.state, status == Status::kOk ? CallState::kDone : CallState::kFailed);
}

}  // namespace shmrpc
