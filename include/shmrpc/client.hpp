#pragma once
/// The C++ client.
///
///   shmrpc::Client client("demo");
///   auto sum = client.call<std::int64_t>("add", 2, 3);
///   auto add = client.function<std::int64_t(std::int64_t, std::int64_t)>("add");  // checked once
///   sum = add(2, 3);
///
/// A Client owns one channel of the server, so calls from one Client are sequential: use one
/// Client per thread. Clients in other threads and processes call in parallel.

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "shmrpc/client_options.hpp"
#include "shmrpc/connection.hpp"
#include "shmrpc/detail/function_traits.hpp"
#include "shmrpc/detail/typed_call.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/function.hpp"
#include "shmrpc/shared_array.hpp"
#include "shmrpc/types.hpp"

namespace shmrpc {

class Client {
 public:
  /// Attaches to the server `name`, validates its segment and claims a channel. Throws
  /// NoServerError (no such server, or it stopped or died while ClientOptions::channel_wait
  /// waited for a channel), ProtocolError (incompatible or damaged segment), ChannelsBusyError,
  /// std::invalid_argument (bad name).
  explicit Client(std::string_view name, const ClientOptions& options = {});

  /// Calls `function` with `args` and returns its result as R, which must be the function's result
  /// type. Checks the name, arity and every argument type before writing anything
  /// (std::invalid_argument, std::out_of_range, std::length_error). Blocks until the call ends:
  /// throws RemoteError if the function threw, ServerGoneError if the server dies or stops,
  /// TimeoutError after the timeout.
  template <class R = void, class... Args>
  R call(std::string_view function, Args&&... args) {
    const FunctionSchema& schema = connection_->function(function, sizeof...(Args));
    detail::check_result_type<R>(schema);
    return detail::invoke<R>(*connection_, schema, std::forward<Args>(args)...);
  }

  /// The function `name`, checked to have exactly the signature R(A...) (std::invalid_argument
  /// showing both signatures otherwise).
  template <class Signature>
  Function<Signature> function(std::string_view name) const {
    return Function<Signature>(
        connection_,
        checked_function(name, detail::FunctionTraits<Signature*>::kArity, describe<Signature>()));
  }

  /// An uninitialised array of `size` elements in shared memory: the channel heap when small,
  /// else a buffer the server makes for this client (one request; any size /dev/shm can hold).
  /// Throws OutOfSharedMemoryError when /dev/shm (or the client's quota) has no room.
  template <class T>
  SharedArray<T> empty(std::size_t size) {
    static_assert(detail::is_fixed_type<T>(), "shmrpc: SharedArray holds fixed-size types");
    return SharedArray<T>(connection_, allocate_array(size * sizeof(T)), size);
  }

  /// Same, zero-filled (a new buffer is zero already; only a heap block is cleared).
  template <class T>
  SharedArray<T> zeros(std::size_t size) {
    SharedArray<T> array = empty<T>(size);
    if (array.in_heap()) {
      std::memset(static_cast<void*>(array.data()), 0, size * sizeof(T));
    }
    return array;
  }

  /// Attaches anew to the server of the same name, with the same options: after a
  /// ServerGoneError, once a restarted server runs. Throws as the constructor; on failure the old
  /// connection stays. Function handles and SharedArrays taken before belong to the old
  /// connection (a handle then throws ServerGoneError): take new ones.
  void reconnect();

  /// The functions the server publishes.
  const Schema& schema() const noexcept { return connection_->schema(); }
  const std::string& server_name() const noexcept { return connection_->server_name(); }
  /// Sets the timeout of later calls; nullopt waits as long as the server lives.
  void set_timeout(std::optional<std::chrono::nanoseconds> timeout) {
    connection_->set_timeout(timeout);
  }
  /// The channel this client owns.
  std::uint32_t channel() const noexcept { return connection_->channel(); }
  /// Where this client's channel heap is mapped, and its size (zero-copy checks, diagnostics).
  std::span<const std::byte> heap() const noexcept {
    return {connection_->heap(), connection_->heap_size()};
  }
  /// The connection under this client, for code that calls by schema (DynamicCall).
  const std::shared_ptr<Connection>& connection() const noexcept { return connection_; }

 private:
  struct Described {
    const TypeInfo* result;
    std::vector<const TypeInfo*> arguments;
  };
  template <class Signature>
  static Described describe() {
    return detail::FunctionTraits<Signature*>::template Into<DescribeInto>::get();
  }
  template <class R, class... A>
  struct DescribeInto {
    static Described get() {
      return {&detail::result_type_info<std::remove_cv_t<R>>(),
              {&type_info_of<detail::ArgumentValue<A>>()...}};
    }
  };
  const FunctionSchema& checked_function(std::string_view name, std::size_t arity,
                                         const Described& expected) const;
  SharedBlock allocate_array(std::size_t bytes);

  std::shared_ptr<Connection> connection_;
};

}  // namespace shmrpc
