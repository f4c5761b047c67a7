#pragma once
/// PieceWriter: lays out the memory a nested value points to (docs/SPEC.md, section 6.7). A
/// vector of strings is a handle in its slot to an array of handles, each to the bytes of one
/// string; the writer collects those pieces while a value is encoded, then places them all, one
/// after the other, in one block (a client's heap block or scratch buffer, a server's result
/// window or a buffer made for the result) and completes every handle to point into it.
///
///   PieceWriter pieces;
///   std::byte* handles = pieces.add(slot, 2 * sizeof(VarSlot), alignof(VarSlot), 2);
///   pieces.add_copy(handles, "ab", 2, 1, 2);
///   pieces.add_copy(handles + sizeof(VarSlot), "c", 1, 1, 1);
///   SharedBlock block = ...;  // pieces.size() bytes, aligned to pieces.align()
///   pieces.place(block.buffer, block.offset, block.data);

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace shmrpc {

class PieceWriter {
 public:
  /// A piece of `bytes` bytes (zeroed) aligned to `align`, holding `length` elements, that the
  /// caller fills through the pointer returned; its handle (a layout::VarSlot) goes to `handle`,
  /// which lies in the caller's slot bytes or in an earlier piece. The piece's memory stays where
  /// it is until the writer is destroyed.
  std::byte* add(std::byte* handle, std::size_t bytes, std::size_t align, std::uint64_t length);
  /// A piece that place() copies from `data`, which stays valid and unchanged until then.
  void add_copy(std::byte* handle, const void* data, std::size_t bytes, std::size_t align,
                std::uint64_t length);

  /// Bytes of all pieces laid out one after the other, each at its alignment.
  std::uint64_t size() const noexcept { return size_; }
  /// The largest alignment of a piece: what the block's start must be aligned to.
  std::uint32_t align() const noexcept { return align_; }

  /// Completes every handle to point at `base` + the piece's offset in memory `buffer`
  /// (layout::kHeapBuffer or a buffer id), then copies the pieces to `data`, where that memory is
  /// mapped (size() bytes). Handles of empty pieces are {0, 0, 0}.
  void place(std::uint64_t buffer, std::uint64_t base, std::byte* data) const;

 private:
  struct Piece {
    std::byte* handle;
    const std::byte* source;
    std::uint64_t offset;  // in the block
    std::uint64_t bytes;
    std::uint64_t length;
  };
  std::uint64_t reserve(std::size_t bytes, std::size_t align);

  std::vector<Piece> pieces_;
  std::deque<std::vector<std::byte>> owned_;  // the pieces add() made; a deque keeps them put
  std::uint64_t size_ = 0;
  std::uint32_t align_ = 1;
};

}  // namespace shmrpc
