#pragma once
/// Numpy arrays that live in shared memory: arrays from Client.empty/zeros/asarray and
/// std::vector results, in the channel heap or in a buffer segment. Each array's base is a
/// HeapBlock, which keeps the connection (and so the mappings and the channel) alive and frees
/// its block when Python drops the last array over it.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // every file that converts STL types must see the same casters

#include <cstdint>
#include <memory>
#include <vector>

#include "shmrpc/connection.hpp"

namespace shmrpc::python {

class HeapBlock {
 public:
  /// Takes ownership of `block` (`size` bytes), allocated by `connection` or kept from a result.
  HeapBlock(std::shared_ptr<Connection> connection, SharedBlock block, std::uint64_t size) noexcept
      : connection_(std::move(connection)), block_(std::move(block)), size_(size) {}
  /// Frees the block (not before a late call on its channel has ended); the last HeapBlock of a
  /// closed client releases its channel. Runs with the GIL held, on whichever thread drops the
  /// last array, while the channel's own thread may be inside a call with the GIL released:
  /// PyConnection::free_block locks for itself.
  ~HeapBlock() { connection_->free_block(block_); }
  HeapBlock(const HeapBlock&) = delete;
  HeapBlock& operator=(const HeapBlock&) = delete;
  HeapBlock(HeapBlock&&) = delete;
  HeapBlock& operator=(HeapBlock&&) = delete;

  std::byte* data() const noexcept { return block_.data; }
  std::uint64_t offset() const noexcept { return block_.offset; }
  /// 0 for the channel heap, else the buffer's id.
  std::uint64_t buffer() const noexcept { return block_.buffer; }
  bool in_heap() const noexcept { return block_.in_heap(); }
  std::uint64_t size() const noexcept { return size_; }
  std::uint32_t channel() const noexcept { return connection_->channel(); }

 private:
  std::shared_ptr<Connection> connection_;
  SharedBlock block_;
  std::uint64_t size_;
};

/// Allocates `bytes` of shared memory through `connection` (Connection::allocate);
/// OutOfSharedMemoryError (MemoryError) when /dev/shm has no room.
std::unique_ptr<HeapBlock> allocate_block(const std::shared_ptr<Connection>& connection,
                                          std::uint64_t bytes);

/// A writable C-contiguous array of `dtype` and `shape` over `block`, which becomes its base.
pybind11::array heap_array(std::unique_ptr<HeapBlock> block, const pybind11::dtype& dtype,
                           const std::vector<pybind11::ssize_t>& shape);

void bind_heap_block(pybind11::module_& module);

}  // namespace shmrpc::python
