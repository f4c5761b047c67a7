#pragma once
/// First-fit allocator over one channel's heap. It lives in the client process, not in shared
/// memory: only the owning client allocates in its channel, and the server never trusts (or even
/// sees) this bookkeeping: it validates each offset and length a request carries. Thread-safe,
/// because shared arrays may be freed from any thread.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

namespace shmrpc::detail {

class HeapAllocator {
 public:
  /// Every block starts on this boundary (a cache line; enough for any element type).
  static constexpr std::uint64_t kAlignment = 64;

  explicit HeapAllocator(std::uint64_t size);

  /// Offset of a new block of at least `bytes` bytes, or nullopt when no free block is that big.
  std::optional<std::uint64_t> allocate(std::uint64_t bytes);

  /// Takes the largest free block whole, for a result of unknown size. nullopt when full.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> allocate_largest();

  /// Gives back the tail of block `offset`, keeping its first `bytes` bytes.
  void shrink(std::uint64_t offset, std::uint64_t bytes);

  /// Frees the block at `offset`. Offsets that are not allocated blocks are ignored.
  void free(std::uint64_t offset);

  std::uint64_t size() const noexcept { return size_; }
  std::uint64_t free_bytes() const;
  std::uint64_t largest_free() const;

 private:
  void release(std::uint64_t offset, std::uint64_t size);  // adds to the free list, coalescing

  std::uint64_t size_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, std::uint64_t> free_;  // offset -> size
  std::map<std::uint64_t, std::uint64_t> used_;  // offset -> size
};

}  // namespace shmrpc::detail
