#pragma once
/// CallSlots: the call slots of one Client, shared by all its threads. A slot is a Connection: a
/// channel of the server, with its frame and heap. A call takes a free slot and gives it back when
/// it ends, so idle threads hold nothing; a thread that calls again takes the slot it used last,
/// still hot in its cache. More slots are claimed while every held one is busy, up to
/// ClientOptions::max_slots; past that (or when the server has no free channel) a call waits
/// for one to be given back. docs/SPEC.md, section 8.
///
/// Code that calls by schema takes a slot for each call:
///
///   const shmrpc::CallSlots::Lease slot = client.slots().take();
///   shmrpc::DynamicCall call(*slot, *client.schema().find("add"));

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shmrpc/client_options.hpp"
#include "shmrpc/connection.hpp"
#include "shmrpc/detail/buffer_mappings.hpp"
#include "shmrpc/detail/spin_limit.hpp"

namespace shmrpc {

class CallSlots {
 public:
  /// Attaches to server `name` and claims the first slot; throws as the Connection constructor.
  CallSlots(std::string_view name, const ClientOptions& options);
  CallSlots(const CallSlots&) = delete;
  CallSlots& operator=(const CallSlots&) = delete;
  CallSlots(CallSlots&&) = delete;
  CallSlots& operator=(CallSlots&&) = delete;
  ~CallSlots() = default;

  /// One slot, held for one call (or one allocation); given back when the lease ends.
  class Lease {
   public:
    ~Lease() {
      if (pool_ != nullptr) {
        pool_->give_back(index_);
      }
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), index_(other.index_) {}
    Lease& operator=(Lease&&) = delete;

    Connection& operator*() const noexcept { return *shared(); }
    Connection* operator->() const noexcept { return shared().get(); }
    const std::shared_ptr<Connection>& shared() const noexcept {
      return pool_->slots_[index_].connection;
    }

   private:
    friend class CallSlots;
    Lease(CallSlots& pool, std::uint32_t index) noexcept : pool_(&pool), index_(index) {}

    CallSlots* pool_;  // null once moved from
    std::uint32_t index_;
  };

  /// A slot for one call: the one this thread used last if it is free, else any free one whose
  /// late call (if it had one) has ended, else a new one, else a free one with a late call still
  /// running (the call waits it out), else the first given back. Waits up to the client's
  /// timeout (TimeoutError), checking the server as a call does (ServerGoneError) and calling
  /// ClientOptions::interrupt_check.
  Lease take();
  /// The same without waiting and without claiming a slot: nullopt when every slot is busy or
  /// has a late call still running. Never blocks.
  std::optional<Lease> try_take() noexcept;
  /// Whether [data, data + bytes) lies in one of the slots' heaps or in a buffer the client has
  /// mapped. Any thread.
  bool holds(const void* data, std::size_t bytes) const;

  /// The first slot: the schema, the server, diagnostics. Its calls go through take() as well.
  Connection& first() const noexcept { return *slots_[0].connection; }
  const std::shared_ptr<Connection>& first_shared() const noexcept { return slots_[0].connection; }
  /// Slots claimed so far, and the most there may be.
  std::uint32_t slots() const noexcept { return count_.load(std::memory_order_acquire); }
  std::uint32_t max_slots() const noexcept { return capacity_; }
  /// Sets the timeout of later calls on every slot; any thread.
  void set_timeout(std::optional<std::chrono::nanoseconds> timeout) noexcept;

 private:
  struct Slot {
    std::atomic<std::uint32_t> busy{0};      // 1 while a lease holds it
    std::shared_ptr<Connection> connection;  // set once, before count_ covers it
    bool set_aside = false;                  // counted in set_aside_; by the lease holder only
  };

  bool try_take_last() noexcept;  // the slot this thread used last, if it is free
  std::optional<std::uint32_t> take_free(bool skip_late) noexcept;
  bool try_take(std::uint32_t index, bool skip_late) noexcept;
  std::optional<std::uint32_t> grow();
  std::uint32_t take_any();
  void give_back(std::uint32_t index) noexcept;

  std::uint32_t capacity_;
  std::vector<Slot> slots_;              // capacity_ of them; the first count_ are claimed
  std::atomic<std::uint32_t> count_{0};  // release: publishes a new slot's connection
  // Slots given back with a late call still running. While there are any, take() looks at every
  // slot from the first, so that one whose late call has ended is taken (its deferred frees
  // done) before the others, and a thread goes back to its old slot.
  std::atomic<std::uint32_t> set_aside_{0};
  std::shared_ptr<detail::BufferMappings> mappings_;
  std::shared_ptr<detail::SpinLimit> spin_limit_;       // of the calls waiting on all slots
  std::mutex grow_mutex_;                               // one claim at a time
  std::chrono::steady_clock::time_point next_claim_{};  // guarded by grow_mutex_
  // Waiting for a slot: waiters sleep on given_back_, which give_back() bumps when any wait.
  std::atomic<std::uint32_t> waiters_{0};
  std::atomic<std::uint32_t> given_back_{0};
};

}  // namespace shmrpc
