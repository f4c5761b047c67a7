#pragma once
/// A call by schema, at run time: the type-erased core of every call. The typed
/// Client::call<R>(name, args...) and Function<R(A...)> are thin templates on top of it (the way
/// fmt's format() sits on vformat()); the Python binding and other language bindings drive it
/// directly, with the FunctionSchema they found by name (Connection::function). Each put_* checks
/// the value against the parameter's wire type (value_codec.hpp) before writing it, so a call
/// that throws before execute() has sent nothing.
///
///   DynamicCall call(connection, connection.function("add", 2));
///   call.put_int(0, 2);
///   call.put_int(1, 3);
///   call.execute();
///   std::int64_t sum;  // the result slot holds an int64
///   std::memcpy(&sum, call.result_slot(), sizeof sum);
///
/// One DynamicCall at a time per Connection, on one thread (the connection owns one channel).
/// Values larger than the channel heap's inline limit cross in buffer segments (docs/SPEC.md,
/// section 6.6): copied arguments through scratch buffers the connection reuses, large results in
/// buffers the server makes for this client.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "shmrpc/connection.hpp"
#include "shmrpc/piece_writer.hpp"
#include "shmrpc/schema.hpp"
#include "shmrpc/shared_block.hpp"
#include "shmrpc/types.hpp"

namespace shmrpc {

class DynamicCall {
 public:
  /// Prepares `connection` for a call of `function`, one of its schema's functions: waits out a
  /// late call (TimeoutError if it outlasts this call's deadline; ServerGoneError).
  DynamicCall(Connection& connection, const FunctionSchema& function);
  /// Frees the heap blocks of the call (deferred while a late call may still use them).
  ~DynamicCall();
  DynamicCall(const DynamicCall&) = delete;
  DynamicCall& operator=(const DynamicCall&) = delete;
  DynamicCall(DynamicCall&&) = delete;
  DynamicCall& operator=(DynamicCall&&) = delete;

  // Argument `index` (0-based) from a value of the given category. Each throws
  // std::invalid_argument when the parameter has another type, std::out_of_range when a number
  // does not fit it, and OutOfSharedMemoryError when an array or string needs a buffer that
  // cannot be made.
  void put_bool(std::size_t index, bool value);
  /// An integer, for an integer or floating-point parameter.
  void put_int(std::size_t index, std::int64_t value);
  void put_uint(std::size_t index, std::uint64_t value);
  /// A number for a float32 or float64 parameter; a finite value beyond float32 is out of range.
  void put_float(std::size_t index, double value);
  /// A fixed-size value (std::array) of C++ type `type`, or its elements for a span parameter.
  void put_fixed(std::size_t index, const TypeInfo& type, void* data, bool writable);
  /// A slot value (struct, enum, complex, optional, tuple, array) of wire type `type` in its wire
  /// form, `type.size` bytes at `bytes`; the parameter must have exactly that type.
  void put_value(std::size_t index, const TypeInfo& type, const void* bytes);
  /// `count` elements of type `element`, for a span or a vector parameter of fixed elements;
  /// zero copy when they already lie in shared memory this
  /// client can name (its heap, a buffer it holds). Others are copied once: into the heap when
  /// small, else into a scratch buffer (made on first use, then reused by later calls). A copied
  /// mutable range is copied back after the call.
  void put_span(std::size_t index, const TypeInfo& element, void* data, std::size_t count,
                bool writable);
  void put_string(std::size_t index, std::string_view text);
  /// A nested value (strings, vectors or maps inside; docs/SPEC.md, section 6.7) of wire type
  /// `type`: its slot bytes at `slot` (type.size bytes), whose handles `pieces` completes. The
  /// pieces are copied into one heap block or scratch buffer. The parameter must have exactly
  /// that type.
  void put_pieces(std::size_t index, const TypeInfo& type, std::byte* slot,
                  const PieceWriter& pieces);
  /// An n-dimensional array of `element` for an ndarray parameter: element [0, ..., 0] at
  /// `data`, `shape`, and `strides` in elements (any sign). Zero copy, strides kept, when every
  /// element it reaches lies in shared memory this client can name; else copied once, C-ordered
  /// (and copied back after the call when the parameter is mutable). std::invalid_argument for
  /// another type or rank.
  void put_ndarray(std::size_t index, const TypeInfo& element, void* data,
                   std::span<const std::size_t> shape, std::span<const std::ptrdiff_t> strides,
                   bool writable);

  /// Runs the call and waits for its end. Throws RemoteError, ServerGoneError, TimeoutError,
  /// ProtocolError, OutOfSharedMemoryError (no buffer for the result), and what
  /// ClientOptions::interrupt_check throws.
  void execute();
  /// execute() in two halves, for a call in flight while the caller does other things (Future):
  /// start() offers the result window and sends the request; finish() waits for the end and
  /// reads the result, throwing as execute() does. Arguments the call passed without a copy
  /// (arrays in shared memory) and ranges it copies back into must stay alive until finish().
  void start();
  void finish();
  /// After start(): whether the call has ended, without waiting.
  bool ended() const noexcept { return connection_.call_ended(); }
  /// After start(): waits until the call ends or `until` passes, without giving it up; true once
  /// it has ended. Throws ServerGoneError.
  bool wait_until(std::chrono::steady_clock::time_point until) {
    return connection_.wait_for_end(function_.name, until);
  }
  /// After start(): gives the call up (withdrawn if the server has not taken it, else the server
  /// finishes it while the slot is set aside). finish() must not follow.
  void give_up() { connection_.give_up(function_.name); }

  /// For a function that streams (function().streams), instead of start(): offers a ring of up
  /// to `capacity` elements (fewer if the heap has no room for that many) and sends the request.
  /// The server writes ahead of the reader by that many elements at most. Throws
  /// std::logic_error for a function that does not stream, OutOfSharedMemoryError when the heap
  /// cannot hold a ring of one element.
  void start_stream(std::uint32_t capacity);
  /// After start_stream(): waits for the next element. True when there is one: result_slot(),
  /// result_piece() and keep_result_block() then refer to it until the next next_element(), which
  /// gives its memory back (kept blocks excepted). False at the end of the stream. Throws the
  /// error the function ended with (after its last element) as finish() does, ServerGoneError,
  /// TimeoutError (no element within the timeout: the stream is given up), ProtocolError, and
  /// what ClientOptions::interrupt_check throws (the stream is given up).
  bool next_element();
  /// After start_stream(): stops the stream. The server function sees cancelled() and its next
  /// write() throws StreamCancelled; the slot is set aside until the function returns. Nothing
  /// once the stream has ended.
  void cancel_stream() noexcept;
  /// After start_stream(): whether next_element() has returned false or thrown.
  bool stream_ended() const noexcept { return stream_ && stream_->ended; }
  /// The fixed-size result slot, function().return_type->size bytes (valid after execute()).
  /// Unchecked: check_value() it before reading it as an object.
  const std::byte* result_slot() const noexcept;
  /// The elements a handle inside the result points to: `slot.length` elements of
  /// `element_size` bytes in the result window or a buffer the server made for this result
  /// (valid after execute(), while the call lives). Every handle of the result was checked in
  /// execute(); ProtocolError for one that was not (the server rewrote it since).
  std::span<const std::byte> result_piece(const layout::VarSlot& slot,
                                          std::size_t element_size) const;
  /// Hands the block of memory `buffer` of the result (layout::kHeapBuffer: the result window,
  /// cut to what the result uses) to the caller: it is not freed with the call. The caller frees
  /// it with Connection::free_block. Once per block.
  SharedBlock keep_result_block(std::uint64_t buffer);
  /// Bytes of the result window the result's pieces reach: the size of its kept heap block.
  std::uint64_t result_window_used() const noexcept { return window_used_; }

  const FunctionSchema& function() const noexcept { return function_; }
  Connection& connection() const noexcept { return connection_; }

 private:
  [[noreturn]] void type_error(std::size_t index, std::string_view given) const;
  [[noreturn]] void range_error(std::size_t index, std::string_view value,
                                std::string_view allowed = {}) const;
  const TypeInfo& parameter(std::size_t index) const { return *function_.arguments[index].type; }
  // put_int and put_uint: one body for both signednesses.
  template <class Integer>
  void put_integer(std::size_t index, Integer value);
  std::byte* slot(std::size_t index) const;
  struct Staged {
    layout::VarSlot slot;  // length 0: the caller sets it
    std::byte* bytes;      // where the copy lies
  };
  // Copies `bytes` into the heap or a scratch buffer (nullptr `data`: reserves them only).
  Staged stage(const void* data, std::size_t bytes);
  // Checks and maps the variable-length result the server wrote, and every piece it points to.
  void resolve_result();
  void claim_pieces(const TypeInfo& type, const std::byte* bytes);
  std::span<const std::byte> claim_piece(const layout::VarSlot& var, std::size_t element_size);
  // Where a result piece lies, or nullopt when the result owns no such memory.
  std::optional<std::span<const std::byte>> find_piece(const layout::VarSlot& var,
                                                       std::size_t element_size) const;

  struct CopyBack {
    const std::byte* source;  // the copy in shared memory
    void* destination;        // the caller's range
    std::size_t bytes;
  };

  Connection& connection_;
  const FunctionSchema& function_;
  std::chrono::steady_clock::time_point deadline_;
  std::vector<std::uint64_t> blocks_;  // heap blocks to free when the call is over
  std::vector<SharedBlock> scratch_;   // scratch buffers to give back when the call is over
  std::vector<CopyBack> copy_backs_;
  struct NdCopyBack {
    const std::byte* source;  // the C-ordered copy
    std::byte* destination;   // element [0, ..., 0] of the caller's array
    std::vector<std::size_t> shape;
    std::vector<std::ptrdiff_t> byte_strides;
    std::size_t element_size;
  };
  std::vector<NdCopyBack> nd_copy_backs_;
  std::optional<std::uint64_t> window_;     // heap offset of the window offered for the result
  std::uint64_t window_capacity_ = 0;       // its bytes
  const std::byte* window_data_ = nullptr;  // where its bytes are read: the heap, or a kept copy
  std::uint64_t window_used_ = 0;           // bytes of the window the result's pieces reach
  bool window_kept_ = false;
  struct ResultBuffer {
    SharedBlock block;  // freed with the call unless kept
    bool kept = false;
  };
  std::vector<ResultBuffer> result_buffers_;  // buffers the server made for the result
  // Frees those the caller did not keep (deferred while the call is late).
  void free_result_buffers() noexcept;

  // A stream call (dynamic_call_stream.cpp): the ring it offered, and where the reader is.
  struct StreamRead {
    layout::StreamRing* ring = nullptr;
    std::atomic<std::uint64_t>* returns = nullptr;  // the ring's returns array
    std::uint32_t return_capacity = 0;
    std::uint64_t entries = 0;  // heap offset of entry 0
    std::uint32_t capacity = 0;
    std::uint32_t entry_size = 0;
    std::uint32_t window_offset = 0;
    std::uint32_t read = 0;      // entries consumed, modulo 2^30
    std::uint64_t returned = 0;  // buffer ids handed back
    bool holding = false;        // the element at `read` is the current one, not yet consumed
    bool ended = false;
  };
  std::optional<StreamRead> stream_;
  // A copy of the current element's window in a heap block of its own, read from here on: the
  // entry is the ring's again at the next element.
  SharedBlock keep_element_window();
  // Gives back the current element: its buffers and window (what is not kept), then its entry.
  void drop_element();
  // Hands the buffers freed since to the server through the ring.
  void hand_back_buffers();
  // After the end of the stream: finishes the call as finish() does.
  void end_stream();
};

/// The shape of an ndarray of type `type` in the result of `function`, whose handle is `slot` and
/// whose elements were found to be `bytes` bytes, after checking that the shape and strides
/// describe them in C order. Throws ProtocolError.
std::array<std::size_t, layout::kMaxRank> result_shape(const FunctionSchema& function,
                                                       const TypeInfo& type,
                                                       const layout::NdSlot& slot,
                                                       std::size_t bytes);

}  // namespace shmrpc
