#pragma once
/// The server side of one call, as a registered function's invoker sees it: the call's memory
/// (CallFrame) and the two ways a request can fail before or after the function runs
/// (BadRequest, ResultTooLarge). The server's dispatcher builds a CallFrame for every call and
/// passes it to FunctionDefinition::invoke (registry.hpp); the frame codec
/// (detail/frame_codec.hpp) reads the arguments out of it and writes the result into it.

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "shmrpc/layout.hpp"
#include "shmrpc/value_codec.hpp"

namespace shmrpc {

/// The buffers a call touches (detail/call_buffers.hpp): not API.
struct CallBuffers;
class CallContext;

/// The memory of one call, as the server sees it: the call frame of a channel, its heap, and the
/// server's buffer segments. The
/// client owns the bytes and may rewrite them at any time, so the codec reads every field once
/// and validates it before use. The result window (heap offset and capacity of the space the
/// client offers for a variable-length result) is read from the command block once, before the
/// call.
struct CallFrame {
  std::byte* frame = nullptr;
  std::byte* heap = nullptr;
  std::uint64_t heap_size = 0;
  std::uint64_t result_offset = 0;
  std::uint64_t result_capacity = 0;
  /// The call's buffers: where handles naming a buffer are resolved and results too large for
  /// the window go. nullptr: none (every value must lie in the heap).
  CallBuffers* buffers = nullptr;
  CallContext* context = nullptr;  ///< for functions that take one (call_context.hpp)
  /// The function's statistics on this channel, where a stream counts its elements; may be null.
  layout::StatsRecord* stats = nullptr;
};

/// The request bytes are malformed: offsets, lengths or values. The server fails the call with
/// Status::kBadRequest, and the message (naming what was wrong) reaches the client. Any
/// InvalidValue raised while decoding an argument becomes one.
class BadRequest : public InvalidValue {
 public:
  using InvalidValue::InvalidValue;
};

/// A variable-length result does not fit the window the client offered and no buffer can hold it.
/// The server fails the call with Status::kResultTooLarge; the message names both sizes.
class ResultTooLarge : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace shmrpc
