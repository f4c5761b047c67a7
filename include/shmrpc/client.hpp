#pragma once
/// The C++ client.
///
///   shmrpc::Client client("demo");
///   auto sum = client.call<std::int64_t>("add", 2, 3);
///   auto add = client.function<std::int64_t(std::int64_t, std::int64_t)>("add");  // checked once
///   sum = add(2, 3);
///
/// A Client may be shared by any number of threads. Each call takes one of the client's call
/// slots (channels of the server) and gives it back when it ends; the client claims more slots
/// while all are busy, up to ClientOptions::max_slots, and beyond that a call waits for one.
/// Clients in other processes call in parallel.

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

#include "shmrpc/call_slots.hpp"
#include "shmrpc/client_options.hpp"
#include "shmrpc/connection.hpp"
#include "shmrpc/detail/function_traits.hpp"
#include "shmrpc/detail/typed_call.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/function.hpp"
#include "shmrpc/future.hpp"
#include "shmrpc/shared_array.hpp"
#include "shmrpc/stream_reader.hpp"
#include "shmrpc/types.hpp"

namespace shmrpc {

class Client {
 public:
  /// Attaches to the server `name`, validates its segment and claims a first channel. Throws
  /// NoServerError (no such server, or it stopped or died while ClientOptions::channel_wait
  /// waited for a channel), ProtocolError (incompatible or damaged segment), ChannelsBusyError,
  /// std::invalid_argument (bad name).
  explicit Client(std::string_view name, const ClientOptions& options = {});

  /// Calls `function` with `args` and returns its result as R, which must be the function's result
  /// type. Checks the name, arity and every argument type before writing anything
  /// (std::invalid_argument, std::out_of_range, std::length_error). Blocks until the call ends:
  /// throws RemoteError if the function threw, ServerGoneError if the server dies or stops,
  /// TimeoutError after the timeout (also when every call slot stayed busy until then). Any
  /// thread.
  template <class R = void, class... Args>
  R call(std::string_view function, Args&&... args) {
    const FunctionSchema& schema = slots_->first().function(function, sizeof...(Args));
    detail::check_result_type<R>(schema);
    const CallSlots::Lease slot = slots_->take();
    return detail::invoke<R>(*slot, schema, std::forward<Args>(args)...);
  }

  /// Sends the call and returns at once: the future's get() waits for the result (future.hpp).
  /// Checks as call() does before sending anything; then takes a call slot (waiting, bounded by
  /// the timeout, when all max_slots are busy). Any thread; many calls in flight per thread.
  template <class R = void, class... Args>
  Future<R> call_async(std::string_view function, Args&&... args) {
    const FunctionSchema& schema = slots_->first().function(function, sizeof...(Args));
    detail::check_result_type<R>(schema);
    return Future<R>::start(slots_, schema, std::forward<Args>(args)...);
  }

  /// Calls the streaming function `function` (its signature reads `-> stream<T>`) with `args`
  /// and returns the range of its elements: `for (const T& x : client.stream<T>("f", 3))`. The
  /// stream holds one call slot until it ends or is cancelled (leaving the loop, destroying the
  /// reader). Throws as call() does when it cannot start, std::invalid_argument when the
  /// function does not stream elements of type T.
  template <class T, class... Args>
  StreamReader<T> stream(std::string_view function, Args&&... args) {
    const FunctionSchema& schema = slots_->first().function(function, sizeof...(Args));
    detail::check_stream_type<T>(schema);
    return StreamReader<T>::start(slots_, schema, std::forward<Args>(args)...);
  }

  /// The function `name`, checked to have exactly the signature R(A...) (std::invalid_argument
  /// showing both signatures otherwise).
  template <class Signature>
  Function<Signature> function(std::string_view name) const {
    return Function<Signature>(
        slots_,
        checked_function(name, detail::FunctionTraits<Signature*>::kArity, describe<Signature>()));
  }

  /// An uninitialised array of `size` elements in shared memory: a slot's channel heap when
  /// small, else a buffer the server makes for this client (one request; any size /dev/shm can
  /// hold). Throws OutOfSharedMemoryError when /dev/shm (or the client's quota) has no room. A
  /// buffer passes through any of the client's slots without a copy; an array in a slot's heap
  /// does through that slot, and is copied (and copied back when the function writes to it)
  /// when a call from another thread takes another one.
  template <class T>
  SharedArray<T> empty(std::size_t size) {
    static_assert(detail::is_fixed_type<T>(), "shmrpc: SharedArray holds fixed-size types");
    const CallSlots::Lease slot = slots_->take();
    return SharedArray<T>(slot.shared(), slot->allocate(size * sizeof(T)), size);
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
  /// connection (a handle then throws ServerGoneError): take new ones. Not while other threads
  /// call through this Client.
  void reconnect();

  /// The functions the server publishes.
  const Schema& schema() const noexcept { return slots_->first().schema(); }
  const std::string& server_name() const noexcept { return slots_->first().server_name(); }
  /// Sets the timeout of later calls; nullopt waits as long as the server lives. Any thread.
  void set_timeout(std::optional<std::chrono::nanoseconds> timeout) {
    slots_->set_timeout(timeout);
  }
  /// The channel of this client's first call slot, the one a single thread's calls use.
  std::uint32_t channel() const noexcept { return slots_->first().channel(); }
  /// Where the first slot's channel heap is mapped, and its size (zero-copy checks, diagnostics).
  std::span<const std::byte> heap() const noexcept {
    return {slots_->first().heap(), slots_->first().heap_size()};
  }
  /// The client's call slots: for code that calls by schema (DynamicCall on a taken slot), and
  /// how many are claimed. Any thread.
  CallSlots& slots() const noexcept { return *slots_; }
  /// The first call slot's connection, for code that calls by schema (DynamicCall) or inspects
  /// the channel. One call at a time, and not while this Client calls on other threads, whose
  /// calls may take the same slot.
  const std::shared_ptr<Connection>& connection() const noexcept { return slots_->first_shared(); }

 private:
  struct Described {
    const TypeInfo* result;
    std::vector<const TypeInfo*> arguments;
    bool streams = false;
  };
  template <class Signature>
  static Described describe() {
    return detail::FunctionTraits<Signature*>::template Into<DescribeInto>::get();
  }
  template <class R, class... A>
  struct DescribeInto {
    static Described get() {
      using Result = detail::StreamElement<std::remove_cv_t<R>>;
      return {&detail::result_type_info<typename Result::type>(),
              {&type_info_of<detail::ArgumentValue<A>>()...},
              Result::kStreams};
    }
  };
  const FunctionSchema& checked_function(std::string_view name, std::size_t arity,
                                         const Described& expected) const;

  std::shared_ptr<CallSlots> slots_;
};

}  // namespace shmrpc
