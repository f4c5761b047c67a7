#pragma once
/// Function<R(A...)>: a server function whose signature was checked once, called like a C++
/// function.

#include <memory>
#include <utility>

#include "shmrpc/call_slots.hpp"
#include "shmrpc/connection.hpp"
#include "shmrpc/detail/typed_call.hpp"
#include "shmrpc/future.hpp"
#include "shmrpc/schema.hpp"
#include "shmrpc/stream_reader.hpp"

namespace shmrpc {

/// A function of a connected server whose signature was checked once against the C++ signature
/// R(A...); calling it skips the lookup by name.
template <class Signature>
class Function;

template <class R, class... A>
class Function<R(A...)> {
 public:
  /// Calls the function; throws as Client::call. Any thread.
  R operator()(A... args) const {
    const CallSlots::Lease slot = slots_->take();
    return detail::invoke<R>(*slot, *function_, std::forward<A>(args)...);
  }
  /// Sends the call and returns at once; throws as Client::call_async. Any thread.
  Future<R> async(A... args) const {
    return Future<R>::start(slots_, *function_, std::forward<A>(args)...);
  }
  const FunctionSchema& schema() const noexcept { return *function_; }

 private:
  friend class Client;
  Function(std::shared_ptr<CallSlots> slots, const FunctionSchema& function)
      : slots_(std::move(slots)), function_(&function) {}

  std::shared_ptr<CallSlots> slots_;
  const FunctionSchema* function_;
};

/// The handle of a streaming function: Client::function<StreamReader<T>(A...)>("name"). Each
/// call starts a stream and returns its reader.
template <class T, class... A>
class Function<StreamReader<T>(A...)> {
 public:
  StreamReader<T> operator()(A... args) const {
    return StreamReader<T>::start(slots_, *function_, std::forward<A>(args)...);
  }

  const FunctionSchema& schema() const noexcept { return *function_; }

 private:
  friend class Client;
  Function(std::shared_ptr<CallSlots> slots, const FunctionSchema& function)
      : slots_(std::move(slots)), function_(&function) {}

  std::shared_ptr<CallSlots> slots_;
  const FunctionSchema* function_;
};

}  // namespace shmrpc
