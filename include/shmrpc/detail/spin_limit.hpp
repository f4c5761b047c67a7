#pragma once
/// How many threads of a group may spin at once (the server's channel threads, one client's
/// calls: half the cores each), so that many channels or call slots waiting at once do not spin
/// each other, and the peers they wait for, out of the CPU. A thread that finds the limit
/// reached sleeps at once.

#include <algorithm>
#include <atomic>
#include <thread>

namespace shmrpc::detail {

class SpinLimit {
 public:
  /// At most `limit` spinners; 0: as many as the machine has cores.
  explicit SpinLimit(unsigned limit = 0)
      : limit_(limit != 0 ? limit : std::max(1U, std::thread::hardware_concurrency())) {}

  /// A right to spin while it lives, when one is free.
  class Ticket {
   public:
    // Relaxed throughout: a count and a flag, publishing nothing; a spinner too many for a
    // moment is harmless.
    explicit Ticket(SpinLimit& limit) noexcept
        : limit_(limit),
          counted_(limit.counting_.load(std::memory_order_relaxed)),
          granted_(!counted_ ||
                   limit.spinning_.fetch_add(1, std::memory_order_relaxed) < limit.limit_) {}
    ~Ticket() {
      if (counted_) {
        limit_.spinning_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket(Ticket&&) = delete;
    Ticket& operator=(Ticket&&) = delete;

    explicit operator bool() const noexcept { return granted_; }

   private:
    SpinLimit& limit_;
    bool counted_;
    bool granted_;
  };

  unsigned limit() const noexcept { return limit_; }
  /// Whether tickets are counted: a group with no more threads than the limit need not pay for
  /// the count (two atomic operations on a shared line per wait), so it starts uncounted. Any
  /// thread.
  void count_spinners(bool on) noexcept { counting_.store(on, std::memory_order_relaxed); }

 private:
  unsigned limit_;
  std::atomic<bool> counting_{false};
  std::atomic<unsigned> spinning_{0};
};

}  // namespace shmrpc::detail
