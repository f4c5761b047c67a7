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
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "shmrpc/detail/call_scope.hpp"
#include "shmrpc/detail/connection.hpp"
#include "shmrpc/detail/function_traits.hpp"
#include "shmrpc/detail/wire.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/types.hpp"

namespace shmrpc {

/// An array in the client's channel heap. Passing it (or a span of it) to a call copies nothing,
/// and a function that takes std::span<T> writes into it in place. Keeps the connection alive.
/// May be destroyed on any thread; its block is not reused while a call that timed out or was
/// interrupted may still run (the server may still write into the array).
template <class T>
class SharedArray {
 public:
  SharedArray(SharedArray&& other) noexcept
      : connection_(std::move(other.connection_)),
        offset_(other.offset_),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  SharedArray& operator=(SharedArray&& other) noexcept {
    if (this != &other) {
      release();
      connection_ = std::move(other.connection_);
      offset_ = other.offset_;
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  SharedArray(const SharedArray&) = delete;
  SharedArray& operator=(const SharedArray&) = delete;
  ~SharedArray() { release(); }

  T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  T* begin() const noexcept { return data_; }
  T* end() const noexcept { return data_ + size_; }
  T& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::span<T> span() const noexcept { return {data_, size_}; }

 private:
  friend class Client;
  SharedArray(std::shared_ptr<detail::Connection> connection, std::uint64_t offset,
              std::size_t size)
      : connection_(std::move(connection)),
        offset_(offset),
        data_(reinterpret_cast<T*>(connection_->heap() + offset)),
        size_(size) {}
  void release() noexcept {
    if (connection_) {
      connection_->free_block(offset_);
      connection_.reset();
    }
  }

  std::shared_ptr<detail::Connection> connection_;
  std::uint64_t offset_ = 0;
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

namespace detail {

template <class T>
struct IsSharedArray : std::false_type {};
template <class T>
struct IsSharedArray<SharedArray<T>> : std::true_type {};

/// Writes one argument of any supported C++ type, checked against the parameter's wire type.
template <class V>
void put_argument(CallScope& call, std::size_t index, V&& value) {
  using T = std::remove_cvref_t<V>;
  if constexpr (std::is_same_v<T, bool>) {
    call.put_bool(index, value);
  } else if constexpr (std::is_integral_v<T> && !kIsCharacter<T>) {
    if constexpr (std::is_signed_v<T>) {
      call.put_int(index, value);
    } else {
      call.put_uint(index, value);
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    call.put_float(index, static_cast<double>(value));
  } else if constexpr (std::is_convertible_v<V, std::string_view>) {
    call.put_string(index, std::string_view(value));
  } else if constexpr (IsStdArray<T>::value && is_fixed_type<T>()) {
    constexpr bool kWritable = !std::is_const_v<std::remove_reference_t<V>>;
    // Written through only when kWritable, i.e. when the caller's array is not const.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
    call.put_fixed(index, type_info_of<T>(), const_cast<T*>(&value), kWritable);
  } else if constexpr (is_fixed_type<T>()) {
    // A struct, enum or complex number: copied as the compiler lays it out.
    call.put_value(index, type_info_of<T>(), &value);
  } else if constexpr (is_composite_type<T>()) {
    std::vector<std::byte> bytes(type_info_of<T>().size);
    write_slot(bytes.data(), value);
    call.put_value(index, type_info_of<T>(), bytes.data());
  } else if constexpr (std::ranges::contiguous_range<V> && std::ranges::sized_range<V>) {
    using Element = std::remove_reference_t<std::ranges::range_reference_t<V>>;
    using Value = std::remove_const_t<Element>;
    static_assert(is_fixed_type<Value>(), "shmrpc: range elements must be a supported fixed type");
    // Written through only when Element is not const.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
    auto* data = const_cast<Value*>(std::ranges::data(value));
    call.put_span(index, type_info_of<Value>(), data, std::ranges::size(value),
                  !std::is_const_v<Element>);
  } else {
    UnsupportedType<T>::make();
  }
}

/// Throws std::invalid_argument unless R is the function's result type.
template <class R>
void check_result_type(const FunctionSchema& function) {
  if (!same_type(type_info_of<R>(), *function.return_type)) {
    throw std::invalid_argument("shmrpc: " + function.signature + " returns " +
                                type_name(*function.return_type) + ", not " +
                                type_name(type_info_of<R>()));
  }
}

// The result, checked like the server checks arguments (bools, enums, optional flags).
template <class R>
R read_result(const CallScope& call) {
  if constexpr (std::is_void_v<R>) {
    return;
  } else if constexpr (is_slot_type<R>()) {
    return read_slot<R>(call.result_slot(), true);
  } else if constexpr (std::is_same_v<R, std::string>) {
    const auto bytes = call.result_bytes();
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  } else if constexpr (IsVector<R>::value) {
    using Element = typename R::value_type;
    const auto bytes = call.result_bytes();
    check_fixed_range<Element>(bytes.data(), bytes.size() / sizeof(Element));
    R values(bytes.size() / sizeof(Element));
    if (!bytes.empty()) {
      std::memcpy(static_cast<void*>(values.data()), bytes.data(), bytes.size());
    }
    return values;
  } else {
    return UnsupportedType<R>::make();
  }
}

template <class R>
R take_result(const CallScope& call) {
  try {
    return read_result<R>(call);
  } catch (const BadRequest& error) {
    throw ProtocolError("shmrpc: " + call.function().name + " returned an invalid " +
                        type_name(type_info_of<R>()) + ": " + error.what());
  }
}

template <class R, class... Args>
R invoke(Connection& connection, const FunctionSchema& function, Args&&... args) {
  CallScope call(connection, function);
  std::size_t index = 0;
  (put_argument(call, index++, std::forward<Args>(args)), ...);
  call.execute();
  return take_result<R>(call);
}

}  // namespace detail

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
  Function(std::shared_ptr<detail::Connection> connection, const FunctionSchema& function)
      : connection_(std::move(connection)), function_(&function) {}

  std::shared_ptr<detail::Connection> connection_;
  const FunctionSchema* function_;
};

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

  /// An uninitialised array of `size` elements in this client's channel heap.
  /// std::length_error when the heap has no room.
  template <class T>
  SharedArray<T> empty(std::size_t size) {
    static_assert(detail::is_fixed_type<T>(), "shmrpc: SharedArray holds fixed-size types");
    return SharedArray<T>(connection_, allocate_array(size * sizeof(T)), size);
  }

  /// Same, zero-filled.
  template <class T>
  SharedArray<T> zeros(std::size_t size) {
    SharedArray<T> array = empty<T>(size);
    std::memset(static_cast<void*>(array.data()), 0, size * sizeof(T));
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
  /// The connection under this client, for language bindings that drive detail::CallScope.
  const std::shared_ptr<detail::Connection>& connection() const noexcept { return connection_; }

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
      return {&type_info_of<std::remove_cv_t<R>>(), {&type_info_of<detail::ArgumentValue<A>>()...}};
    }
  };
  const FunctionSchema& checked_function(std::string_view name, std::size_t arity,
                                         const Described& expected) const;
  std::uint64_t allocate_array(std::size_t bytes);

  std::shared_ptr<detail::Connection> connection_;
};

}  // namespace shmrpc
