#pragma once
/// Future<R>: a call in flight (Client::call_async, Function::async).
///
///   auto sum = client.call_async<std::int64_t>("add", 2, 3);  // sent; this thread goes on
///   ...
///   std::int64_t value = sum.get();                           // waits, or throws
///
/// The call holds one of the client's call slots until get() (or until the future is dropped or
/// cancelled), so a client has at most ClientOptions::max_slots calls in flight: a further
/// call_async waits for a slot, bounded by the timeout. Arguments are copied into shared memory
/// when the call is sent, except arrays that already lie there (SharedArray, a Python array over
/// a buffer), which the server reads in place: those, and ranges the function writes into
/// (copied back in get()), must stay alive until get().

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "shmrpc/call_slots.hpp"
#include "shmrpc/detail/typed_call.hpp"
#include "shmrpc/dynamic_call.hpp"

namespace shmrpc {

template <class R>
class Future {
 public:
  Future(Future&&) noexcept = default;
  Future& operator=(Future&&) = delete;  // would drop a call in flight unseen
  Future(const Future&) = delete;
  Future& operator=(const Future&) = delete;
  /// A future dropped before get() gives its call up, as cancel() does.
  ~Future() { cancel(); }

  /// Waits for the call's end and returns its result, or throws what Client::call throws
  /// (TimeoutError once the client's timeout, counted from the call's start, has passed). Once:
  /// afterwards the future is no longer valid().
  R get() {
    if (!call_) {
      throw std::logic_error("shmrpc: Future::get() on a future without a call (got or cancelled)");
    }
    const Finished finished(*this);
    call_->finish();
    return detail::take_result<R>(*call_);
  }

  /// Whether the call has ended (get() will not wait). False once it was got or cancelled.
  bool ready() const noexcept { return call_ && call_->ended(); }

  /// Waits up to `duration` for the call's end, without giving it up; true once it has ended.
  /// Throws ServerGoneError when the server died.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> duration) {
    return call_ && call_->wait_until(std::chrono::steady_clock::now() + duration);
  }

  /// Gives the call up: withdrawn if the server has not taken it yet, else the server finishes
  /// it while its slot is set aside (the client's other calls use other slots). The future is
  /// no longer valid().
  void cancel() noexcept {
    if (call_) {
      try {
        call_->give_up();
      } catch (...) {  // no memory to note it: freeing the call below still defers every free
      }
      call_.reset();
      slot_.reset();
    }
  }

  /// Whether the future still has its call (neither got nor cancelled).
  bool valid() const noexcept { return call_ != nullptr; }

 private:
  friend class Client;
  template <class Signature>
  friend class Function;

  Future(std::shared_ptr<CallSlots> slots, CallSlots::Lease slot,
         std::unique_ptr<DynamicCall> call) noexcept
      : slots_(std::move(slots)), slot_(std::move(slot)), call_(std::move(call)) {}

  // Takes a slot, writes the arguments and sends the call; the future holds all three.
  template <class... Args>
  static Future start(const std::shared_ptr<CallSlots>& slots, const FunctionSchema& function,
                      Args&&... args) {
    CallSlots::Lease slot = slots->take();
    auto call = detail::prepare_call(*slot, function, std::forward<Args>(args)...);
    call->start();
    return Future(slots, std::move(slot), std::move(call));
  }

  // Ends the future when get() returns or throws: the call, then its slot.
  struct Finished {
    explicit Finished(Future& future) noexcept : future_(future) {}
    ~Finished() {
      future_.call_.reset();
      future_.slot_.reset();
    }
    Finished(const Finished&) = delete;
    Finished& operator=(const Finished&) = delete;
    Finished(Finished&&) = delete;
    Finished& operator=(Finished&&) = delete;
    Future& future_;
  };

  // Destroyed in reverse: the call (its blocks freed, or deferred while it is late), then the
  // slot (given back), then the slots the lease belongs to.
  std::shared_ptr<CallSlots> slots_;
  std::optional<CallSlots::Lease> slot_;
  std::unique_ptr<DynamicCall> call_;
};

}  // namespace shmrpc
