#pragma once
/// Function<R(A...)>: a server function whose signature was checked once, called like a C++
/// function.

#include <memory>
#include <utility>

#include "shmrpc/connection.hpp"
#include "shmrpc/detail/typed_call.hpp"
#include "shmrpc/schema.hpp"

namespace shmrpc {

/// A function of a connected server whose signature was checked once against the C++ signature
/// R(A...); calling it skips the lookup by name.
template <class Signature>
class Function;

template <class R, class... A>
class Function<R(A...)> {
 public:
  /// Calls the function; throws as Client::call.
  R operator()(A... args) const {
    return detail::invoke<R>(*connection_, *function_, std::forward<A>(args)...);
  }
  const FunctionSchema& schema() const noexcept { return *function_; }

 private:
  friend class Client;
  Function(std::shared_ptr<Connection> connection, const FunctionSchema& function)
      : connection_(std::move(connection)), function_(&function) {}

  std::shared_ptr<Connection> connection_;
  const FunctionSchema* function_;
};

}  // namespace shmrpc
