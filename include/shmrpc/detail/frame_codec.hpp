#pragma once
/// Server side of the frame encoding: reads arguments in place from a channel's frame, heap and
/// buffers, writes results. Every offset and length comes from a client and is validated before
/// use; every value is checked (value_codec.hpp) before it is read as a C++ object.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "shmrpc/call_frame.hpp"
#include "shmrpc/detail/call_buffers.hpp"
#include "shmrpc/detail/nested_codec.hpp"
#include "shmrpc/detail/slot_codec.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/piece_writer.hpp"
#include "shmrpc/result_array.hpp"
#include "shmrpc/types.hpp"
#include "shmrpc/value_codec.hpp"

namespace shmrpc::detail {

/// Counts `bytes` of result pieces for a stream's statistics (CallBuffers::result_bytes).
inline void count_result_bytes(const CallFrame& call, std::uint64_t bytes) noexcept {
  if (call.buffers != nullptr) {
    call.buffers->result_bytes += bytes;
  }
}

/// Validates `slot` as `element_size`-byte elements aligned to `element_align` inside the heap or
/// the buffer it names (whose mapping the call then holds until it ends); returns where they
/// start. Throws BadRequest.
std::byte* var_range(const CallFrame& call, const layout::VarSlot& slot, std::size_t element_size,
                     std::size_t element_align);

/// A validated ndarray argument: where its element [0, ..., 0] lies, its shape, and its strides
/// in elements.
struct NdRange {
  std::byte* data = nullptr;
  std::size_t rank = 0;
  std::array<std::size_t, layout::kMaxRank> shape{};
  std::array<std::ptrdiff_t, layout::kMaxRank> strides{};
};

/// Validates `slot` as an array of `element_size`-byte elements aligned to `element_align`, of
/// rank `rank` (0: any): its rank and shape, its element count (data.length), strides that are
/// whole elements, and that every element it reaches lies inside the heap or the buffer named
/// (whose mapping the call then holds). Throws BadRequest.
NdRange nd_range(const CallFrame& call, const layout::NdSlot& slot, std::size_t element_size,
                 std::size_t element_align, std::size_t rank);

/// Throws BadRequest unless the client's result window lies inside the heap and is aligned.
void check_result_window(const CallFrame& call, std::size_t element_align);

/// Copies `bytes` into the result window, or into a buffer made for the client when they do not
/// fit it, and returns the slot pointing at them. Throws ResultTooLarge (no window, no buffers),
/// OutOfSharedMemoryError.
layout::VarSlot write_result_bytes(const CallFrame& call, const void* bytes, std::size_t size,
                                   std::size_t element_align);

/// Places the pieces of a nested result (piece_writer.hpp) in the client's result window when
/// they fit it, else in a buffer made for the client; completes their handles. Throws
/// BadRequest (a misaligned window), ResultTooLarge (no room, no buffers),
/// OutOfSharedMemoryError.
void place_result_pieces(const CallFrame& call, const PieceWriter& pieces);

/// The server's memory for decode_nested (nested_codec.hpp): handles into the heap or a buffer,
/// which the call holds until it ends; views (spans, string_views, ArrayViews) point there.
struct ArgumentMemory {
  const CallFrame& call;
  /// Bytes of the pieces decoded so far, and of the memories (the heap, each buffer) they lie
  /// in: handles may share bytes, so without this bound a few KiB of handles to handles could
  /// make the server decode gigabytes. A client's own encoding never shares (section 6.7).
  std::uint64_t decoded = 0;
  std::uint64_t named = 0;
  std::vector<std::uint64_t> memories;

  /// `slot.length` elements of `size` bytes aligned to `align`. Throws BadRequest.
  const std::byte* piece(const layout::VarSlot& slot, std::size_t size, std::size_t align);

  template <class T>
  static const TypeInfo& info() {
    return type_info_of<T>();
  }

  /// Throws BadRequest: an entry of a map argument repeats an earlier entry's key.
  [[noreturn]] static void repeated_key(std::size_t entry);

  template <class T>
  T leaf(const std::byte* bytes) const {
    if constexpr (IsDynamicSpan<T>::value) {
      using Element = typename T::element_type;
      using Value = std::remove_const_t<Element>;
      const auto slot = load_handle<layout::VarSlot>(bytes);
      std::byte* data = var_range(call, slot, sizeof(Value), alignof(Value));
      if constexpr (!std::is_arithmetic_v<Value> || std::is_same_v<Value, bool>) {
        check_values(type_info_of<Value>(), data, static_cast<std::size_t>(slot.length));
      }  // every byte pattern of a number is a value: nothing to check
      // The client laid these elements out in shared memory; the server views them there.
      return T(reinterpret_cast<Element*>(data), static_cast<std::size_t>(slot.length));
    } else if constexpr (NdArrayTraits<T>::kIsNdArray) {
      using Element = typename NdArrayTraits<T>::Element;
      using Value = std::remove_const_t<Element>;
      constexpr std::size_t kRank = NdArrayTraits<T>::kRank;
      const auto slot = load_handle<layout::NdSlot>(bytes);
      const NdRange range =
          nd_range(call, slot, sizeof(Value), alignof(Value), kRank == kDynamicRank ? 0 : kRank);
      // Plain numbers only (kIsNdElement): every byte pattern is a value, nothing to check.
      return T(reinterpret_cast<Element*>(range.data),
               std::span<const std::size_t>(range.shape.data(), range.rank),
               std::span<const std::ptrdiff_t>(range.strides.data(), range.rank));
    } else {
      return UnsupportedType<T>::make();
    }
  }
};

/// Slots up to this size are copied to the stack to be decoded (an NdSlot is 160 bytes).
inline constexpr std::size_t kStackSlotBytes = 512;

/// Decodes the argument of value type T (decayed) at `offset` in the frame. Throws BadRequest.
template <class T>
auto decode_argument(const CallFrame& call, std::uint32_t offset) {
  try {
    // Copy first, then check the copy: the client may rewrite the frame meanwhile.
    if constexpr (is_fixed_type<T>()) {
      std::array<std::byte, sizeof(T)> bytes{};
      std::memcpy(bytes.data(), call.frame + offset, sizeof(T));
      return read_slot<T>(bytes.data(), true);
    } else if constexpr (IsDynamicSpan<T>::value || NdArrayTraits<T>::kIsNdArray) {
      // A view: leaf() reads its handle once and checks it; nothing else lies outside the slot.
      const ArgumentMemory memory{.call = call, .decoded = 0, .named = 0, .memories = {}};
      return memory.leaf<T>(call.frame + offset);
    } else {
      // A handle or a tuple of a few: on the stack unless it is unusually large, since every
      // call with such an argument copies it.
      const std::size_t size = type_info_of<T>().size;
      // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): the memcpy below fills it.
      alignas(std::max_align_t) std::array<std::byte, kStackSlotBytes> small;
      std::vector<std::byte> large;
      std::byte* bytes = small.data();
      if (size > small.size()) {
        large.resize(size);
        bytes = large.data();
      }
      std::memcpy(bytes, call.frame + offset, size);
      ArgumentMemory memory{.call = call, .decoded = 0, .named = 0, .memories = {}};
      return decode_nested<T>(memory, bytes);
    }
  } catch (const BadRequest&) {
    throw;
  } catch (const InvalidValue& error) {
    throw BadRequest(error.what());
  }
}

/// Writes the handle of a ResultArray or ResultNdArray, filled in place in the client's buffer
/// (C-ordered, strides in bytes), at `out`; the buffer is the client's once the call succeeds.
template <class T>
void write_array_handle(const CallFrame& call, std::byte* out, const T& value) {
  layout::VarSlot data{.offset = 0, .length = value.size(), .buffer = value.buffer_id()};
  count_result_bytes(call, value.size() * sizeof(*value.data()));
  if (data.buffer != layout::kHeapBuffer) {
    call.buffers->given.push_back(data.buffer);
  }
  if constexpr (NdArrayTraits<T>::kIsNdArray) {
    using Element = typename NdArrayTraits<T>::Element;
    layout::NdSlot slot{};
    slot.data = data;
    const auto& view = value.view();
    slot.rank = static_cast<std::uint32_t>(view.rank());
    for (std::size_t i = 0; i < view.rank(); ++i) {
      slot.shape.at(i) = view.shape(i);
      // An empty array's strides are 0: a shape like {0, 2^62} has no C-ordered strides in
      // 64 bits, and no element to reach.
      slot.strides.at(i) = value.size() == 0 ? 0
                                             : static_cast<std::int64_t>(view.stride(i)) *
                                                   static_cast<std::int64_t>(sizeof(Element));
    }
    std::memcpy(out, &slot, sizeof slot);
  } else {
    std::memcpy(out, &data, sizeof data);
  }
}

/// Encodes a result of value type T at `offset` in the frame.
template <class T>
void encode_result(const CallFrame& call, std::uint32_t offset, const T& value) {
  if constexpr (is_slot_type<T>()) {
    write_slot(call.frame + offset, value);
  } else if constexpr (std::is_same_v<T, std::string>) {
    const layout::VarSlot slot = write_result_bytes(call, value.data(), value.size(), 1);
    std::memcpy(call.frame + offset, &slot, sizeof slot);
  } else if constexpr (NdArrayTraits<T>::kIsNdArray || IsResultArray<T>::value) {
    write_array_handle(call, call.frame + offset, value);
  } else if constexpr (is_vector_of_fixed<T>()) {
    using Element = typename T::value_type;
    layout::VarSlot slot =
        write_result_bytes(call, value.data(), value.size() * sizeof(Element), alignof(Element));
    slot.length = value.size();
    std::memcpy(call.frame + offset, &slot, sizeof slot);
  } else {
    // Nested: the slot and its pieces are laid out first, then placed all at once.
    std::vector<std::byte> slot(type_info_of<T>().size);
    PieceWriter pieces;
    auto arrays = [&call]<class Leaf>(std::byte* out, const Leaf& array) {
      if constexpr (NdArrayTraits<Leaf>::kIsNdArray || IsResultArray<Leaf>::value) {
        write_array_handle(call, out, array);
      } else {
        UnsupportedType<Leaf>::make();
      }
    };
    encode_nested(pieces, slot.data(), value, arrays);
    place_result_pieces(call, pieces);
    std::memcpy(call.frame + offset, slot.data(), slot.size());
  }
}

}  // namespace shmrpc::detail
