#include "shmrpc/call_slots.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "shmrpc/detail/futex.hpp"
#include "shmrpc/errors.hpp"

namespace shmrpc {

namespace {

using Clock = std::chrono::steady_clock;

// After the server had no free channel for another slot, calls wait for one of the client's own
// slots for this long before trying to claim one again (a claim tries every channel's lock).
constexpr auto kClaimRetry = std::chrono::milliseconds(2);

// The slot this thread used last, and whose slots it is one of: its next call takes it first.
struct LastSlot {
  const CallSlots* slots = nullptr;
  std::uint32_t index = 0;
};

LastSlot& last_slot() noexcept {
  thread_local LastSlot last;  // constant-initialised: no guard on the fast path
  return last;
}

}  // namespace

CallSlots::CallSlots(std::string_view name, const ClientOptions& options)
    : capacity_(std::max(1U, options.max_slots)),
      slots_(capacity_),
      mappings_(std::make_shared<detail::BufferMappings>(std::string(name))),
      // The calls spin on at most half the cores, so that the server threads they wait for find
      // the other half (on 2 cores: one spinning call; the others sleep at once).
      spin_limit_(std::make_shared<detail::SpinLimit>(
          std::max(1U, std::thread::hardware_concurrency() / 2))) {
  slots_[0].connection =
      std::shared_ptr<Connection>(new Connection(name, options, mappings_, spin_limit_));
  count_.store(1, std::memory_order_release);
}

void CallSlots::set_timeout(std::optional<std::chrono::nanoseconds> timeout) noexcept {
  // Under the lock: a slot claimed meanwhile copies the first slot's timeout.
  const std::lock_guard lock(grow_mutex_);
  for (std::uint32_t i = 0; i < count_.load(std::memory_order_acquire); ++i) {
    slots_[i].connection->set_timeout(timeout);
  }
}

bool CallSlots::try_take_last() noexcept {
  const LastSlot& last = last_slot();
  // Relaxed: set_aside_ only says where to look first.
  return last.slots == this && last.index < count_.load(std::memory_order_acquire) &&
         set_aside_.load(std::memory_order_relaxed) == 0 && try_take(last.index, true);
}

CallSlots::Lease CallSlots::take() {
  if (try_take_last()) {
    return {*this, last_slot().index};
  }
  const std::uint32_t index = take_any();
  last_slot() = {.slots = this, .index = index};
  return {*this, index};
}

std::optional<CallSlots::Lease> CallSlots::try_take() noexcept {
  if (try_take_last()) {
    return Lease(*this, last_slot().index);
  }
  if (const auto index = take_free(true)) {
    last_slot() = {.slots = this, .index = *index};
    return Lease(*this, *index);
  }
  return std::nullopt;
}

bool CallSlots::holds(const void* data, std::size_t bytes) const {
  const std::uint32_t count = count_.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (slots_[i].connection->in_heap(data, bytes)) {
      return true;
    }
  }
  return mappings_->locate(data, bytes).has_value();
}

bool CallSlots::try_take(std::uint32_t index, bool skip_late) noexcept {
  Slot& slot = slots_[index];
  std::uint32_t free = 0;
  // Acquire pairs with the release in give_back(): the last holder's use of the connection
  // happens before ours. Sequentially consistent, as the waiters_ count (see give_back()).
  if (!slot.busy.compare_exchange_strong(free, 1, std::memory_order_seq_cst,
                                         std::memory_order_relaxed)) {
    return false;
  }
  const bool late = slot.connection->late_call_running();
  if (slot.set_aside && !late) {
    slot.set_aside = false;
    set_aside_.fetch_sub(1, std::memory_order_relaxed);
  }
  if (late && skip_late) {
    // Set aside while the server still runs a call this slot gave up on.
    give_back(index);
    return false;
  }
  return true;
}

std::optional<std::uint32_t> CallSlots::take_free(bool skip_late) noexcept {
  const std::uint32_t count = count_.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (try_take(i, skip_late)) {
      return i;
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> CallSlots::grow() {
  const std::lock_guard lock(grow_mutex_);
  const std::uint32_t count = count_.load(std::memory_order_relaxed);
  if (count >= capacity_ || Clock::now() < next_claim_) {
    return std::nullopt;
  }
  Connection& first = *slots_[0].connection;
  ClientOptions options = first.options();  // with the timeout set since
  options.channel_wait.reset();             // the call waits for its own slots instead
  options.connect_timeout = std::chrono::nanoseconds(0);
  std::shared_ptr<Connection> connection;
  try {
    connection = std::shared_ptr<Connection>(
        new Connection(first.server_name(), options, mappings_, spin_limit_));
  } catch (const ChannelsBusyError&) {
    next_claim_ = Clock::now() + kClaimRetry;
    return std::nullopt;
  } catch (const NoServerError& error) {
    throw ServerGoneError(error.what());
  }
  Slot& slot = slots_[count];
  slot.connection = std::move(connection);
  slot.busy.store(1, std::memory_order_relaxed);  // ours; published with count_
  count_.store(count + 1, std::memory_order_release);
  if (count + 1 > spin_limit_->limit()) {
    spin_limit_->count_spinners(true);
  }
  return count;
}

std::uint32_t CallSlots::take_any() {
  const auto attempt = [&]() -> std::optional<std::uint32_t> {
    if (auto index = take_free(true)) {
      return index;
    }
    if (auto index = grow()) {
      return index;
    }
    return take_free(false);
  };
  if (const auto index = attempt()) {
    return *index;
  }
  Connection& first = *slots_[0].connection;
  const ClientOptions options = first.options();
  const auto deadline = first.call_deadline();
  const auto slice = options.liveness_interval / 2;
  for (;;) {
    // Count ourselves in before looking again: a slot given back after that look wakes us.
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    const std::uint32_t seen = given_back_.load(std::memory_order_seq_cst);
    std::optional<std::uint32_t> index = attempt();
    if (!index) {
      detail::futex_wait(given_back_, seen, std::min(deadline, Clock::now() + slice));
    }
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    if (!index) {
      index = attempt();
    }
    if (index) {
      return *index;
    }
    if (!first.server_alive()) {
      throw ServerGoneError(fmt::format(
          "shmrpc: server '{}' (pid {}) is gone: it stopped or died while a call waited for a "
          "free call slot",
          first.server_name(), first.server().pid));
    }
    if (options.interrupt_check) {
      options.interrupt_check();
    }
    if (Clock::now() >= deadline) {
      throw TimeoutError(fmt::format(
          "shmrpc: all {} call slots of this client of server '{}' stayed busy until the call's "
          "timeout (ClientOptions::max_slots is {})",
          count_.load(std::memory_order_acquire), first.server_name(), capacity_));
    }
  }
}

void CallSlots::give_back(std::uint32_t index) noexcept {
  Slot& slot = slots_[index];
  if (!slot.set_aside && slot.connection->has_late_call()) {
    slot.set_aside = true;
    set_aside_.fetch_add(1, std::memory_order_relaxed);
  }
  // Release: our use of the connection happens before the next holder's. Sequentially
  // consistent with the load of waiters_ below and with a waiter's increment and look: either
  // the waiter's look finds the slot free, or we see the waiter and wake it.
  slot.busy.store(0, std::memory_order_seq_cst);
  if (waiters_.load(std::memory_order_seq_cst) != 0) {
    given_back_.fetch_add(1, std::memory_order_seq_cst);
    detail::futex_wake_all(given_back_);
  }
}

}  // namespace shmrpc
