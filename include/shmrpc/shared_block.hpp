#pragma once
/// SharedBlock: a piece of shared memory a client holds, in its channel's heap or in a buffer
/// segment the server made for it (docs/SPEC.md, section 6.6). Connection::allocate hands them
/// out, Connection::free_block takes them back; SharedArray and the Python arrays wrap one.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "shmrpc/layout.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc {

struct SharedBlock {
  /// layout::kHeapBuffer for a block of the channel heap; else the id of the buffer.
  std::uint64_t buffer = layout::kHeapBuffer;
  /// Offset in the heap or the buffer.
  std::uint64_t offset = 0;
  /// Where the block is mapped in this process.
  std::byte* data = nullptr;
  /// The buffer's mapping, which keeps its bytes mapped while the block lives (after the server
  /// released the buffer or died, too); null for a heap block.
  std::shared_ptr<const Segment> mapping;

  bool in_heap() const noexcept { return buffer == layout::kHeapBuffer; }
};

}  // namespace shmrpc
