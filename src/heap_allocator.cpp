#include "shmrpc/detail/heap_allocator.hpp"

#include "shmrpc/layout.hpp"

namespace shmrpc::detail {

HeapAllocator::HeapAllocator(std::uint64_t size) : size_(size / kAlignment * kAlignment) {
  if (size_ > 0) {
    free_.emplace(0, size_);
  }
}

std::optional<std::uint64_t> HeapAllocator::allocate(std::uint64_t bytes) {
  if (bytes > size_) {
    return std::nullopt;
  }
  const std::uint64_t need = layout::align_up(bytes == 0 ? 1 : bytes, kAlignment);
  const std::lock_guard lock(mutex_);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second >= need) {
      const auto [offset, size] = *it;
      free_.erase(it);
      if (size > need) {
        free_.emplace(offset + need, size - need);
      }
      used_.emplace(offset, need);
      return offset;
    }
  }
  return std::nullopt;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> HeapAllocator::allocate_largest() {
  const std::lock_guard lock(mutex_);
  auto best = free_.end();
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (best == free_.end() || it->second > best->second) {
      best = it;
    }
  }
  if (best == free_.end()) {
    return std::nullopt;
  }
  const auto block = *best;
  free_.erase(best);
  used_.emplace(block);
  return block;
}

void HeapAllocator::shrink(std::uint64_t offset, std::uint64_t bytes) {
  const std::lock_guard lock(mutex_);
  const auto it = used_.find(offset);
  const std::uint64_t keep = layout::align_up(bytes == 0 ? 1 : bytes, kAlignment);
  if (it == used_.end() || keep >= it->second) {
    return;
  }
  const std::uint64_t tail = it->second - keep;
  it->second = keep;
  release(offset + keep, tail);
}

void HeapAllocator::free(std::uint64_t offset) {
  const std::lock_guard lock(mutex_);
  const auto it = used_.find(offset);
  if (it == used_.end()) {
    return;
  }
  const std::uint64_t size = it->second;
  used_.erase(it);
  release(offset, size);
}

void HeapAllocator::release(std::uint64_t offset, std::uint64_t size) {
  auto next = free_.lower_bound(offset);
  if (next != free_.end() && offset + size == next->first) {
    size += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    const auto previous = std::prev(next);
    if (previous->first + previous->second == offset) {
      previous->second += size;
      return;
    }
  }
  free_.emplace_hint(next, offset, size);
}

std::uint64_t HeapAllocator::free_bytes() const {
  const std::lock_guard lock(mutex_);
  std::uint64_t total = 0;
  for (const auto& block : free_) {
    total += block.second;
  }
  return total;
}

std::uint64_t HeapAllocator::largest_free() const {
  const std::lock_guard lock(mutex_);
  std::uint64_t largest = 0;
  for (const auto& block : free_) {
    largest = std::max(largest, block.second);
  }
  return largest;
}

}  // namespace shmrpc::detail
