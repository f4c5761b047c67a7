#pragma once
/// One call on a connection, from writing the arguments to reading the result. The typed
/// templates in client.hpp and the Python bindings both drive it through these primitives, which
/// check every value against the function's metadata before writing it.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "shmrpc/detail/connection.hpp"
#include "shmrpc/types.hpp"

namespace shmrpc::detail {

class CallScope {
 public:
  /// Prepares the connection for a call of `function` (waits out a late call).
  CallScope(Connection& connection, const FunctionSchema& function);
  /// Frees the heap blocks of the call (Connection::free_block: not before a late call ended).
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;
  CallScope(CallScope&&) = delete;
  CallScope& operator=(CallScope&&) = delete;

  // Argument `index` from a value of the given category. Each throws std::invalid_argument when
  // the parameter has another type, std::out_of_range when an integer does not fit it, and
  // std::length_error when an array or string does not fit the heap.
  void put_bool(std::size_t index, bool value);
  void put_int(std::size_t index, std::int64_t value);
  void put_uint(std::size_t index, std::uint64_t value);
  void put_float(std::size_t index, double value);
  /// A fixed-size value (std::array) of C++ type `type`, or its elements for a span parameter.
  void put_fixed(std::size_t index, const TypeInfo& type, void* data, bool writable);
  /// A slot value (struct, enum, complex, optional, tuple, array) of wire type `type` in its wire
  /// form, `type.size` bytes at `bytes`; the parameter must have exactly that type.
  void put_value(std::size_t index, const TypeInfo& type, const void* bytes);
  /// `count` elements of type `element`; zero copy when they already lie in the channel heap.
  /// A copied mutable range is copied back after the call.
  void put_span(std::size_t index, const TypeInfo& element, void* data, std::size_t count,
                bool writable);
  void put_string(std::size_t index, std::string_view text);

  /// Runs the call. Throws RemoteError, ServerGoneError, TimeoutError, ProtocolError,
  /// std::length_error (result larger than the heap).
  void execute();

  /// The fixed-size result slot (valid after execute()).
  const std::byte* result_slot() const noexcept;
  /// A variable-length result: its bytes in the heap, validated against the offered window.
  std::span<const std::byte> result_bytes() const;
  /// Hands the result's heap block to the caller (it is not freed with the scope); returns its
  /// offset. The caller frees it with Connection::free_block.
  std::uint64_t keep_result_block();

  const FunctionSchema& function() const noexcept { return function_; }

 private:
  [[noreturn]] void type_error(std::size_t index, std::string_view given) const;
  const TypeInfo& parameter(std::size_t index) const { return *function_.arguments[index].type; }
  std::byte* slot(std::size_t index) const;
  std::uint64_t stage(std::size_t index, const void* data, std::size_t bytes);

  struct CopyBack {
    std::uint64_t offset;
    void* destination;
    std::size_t bytes;
  };

  Connection& connection_;
  const FunctionSchema& function_;
  Deadline deadline_;
  std::vector<std::uint64_t> blocks_;  // heap blocks to free when the call is over
  std::vector<CopyBack> copy_backs_;
  std::optional<std::uint64_t> window_;  // block offered for a variable-length result
};

}  // namespace shmrpc::detail
