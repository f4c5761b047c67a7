#include "shmrpc/piece_writer.hpp"

#include <cstring>

#include "shmrpc/layout.hpp"

namespace shmrpc {

std::uint64_t PieceWriter::reserve(std::size_t bytes, std::size_t align) {
  const std::uint64_t offset = layout::align_up(size_, align);
  size_ = offset + bytes;
  align_ = align_ > align ? align_ : static_cast<std::uint32_t>(align);
  return offset;
}

std::byte* PieceWriter::add(std::byte* handle, std::size_t bytes, std::size_t align,
                            std::uint64_t length) {
  std::vector<std::byte>& piece = owned_.emplace_back(bytes);
  pieces_.push_back({handle, piece.data(), bytes == 0 ? 0 : reserve(bytes, align), bytes, length});
  return piece.data();
}

void PieceWriter::add_copy(std::byte* handle, const void* data, std::size_t bytes,
                           std::size_t align, std::uint64_t length) {
  pieces_.push_back({handle, static_cast<const std::byte*>(data),
                     bytes == 0 ? 0 : reserve(bytes, align), bytes, length});
}

void PieceWriter::place(std::uint64_t buffer, std::uint64_t base, std::byte* data) const {
  // Handles first: some lie in pieces that are copied after them.
  for (const Piece& piece : pieces_) {
    const layout::VarSlot slot =
        piece.bytes == 0
            ? layout::VarSlot{.offset = 0, .length = piece.length, .buffer = layout::kHeapBuffer}
            : layout::VarSlot{
                  .offset = base + piece.offset, .length = piece.length, .buffer = buffer};
    std::memcpy(piece.handle, &slot, sizeof slot);
  }
  for (const Piece& piece : pieces_) {
    if (piece.bytes != 0) {
      std::memcpy(data + piece.offset, piece.source, piece.bytes);
    }
  }
}

}  // namespace shmrpc
