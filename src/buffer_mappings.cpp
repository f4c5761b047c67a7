#include "shmrpc/detail/buffer_mappings.hpp"

#include <fmt/format.h>

#include <utility>

#include "shmrpc/errors.hpp"

namespace shmrpc::detail {
namespace {

void require_size(const Segment& mapping, std::uint64_t size) {
  // A shorter file would fault (SIGBUS) on the first access past its end.
  if (mapping.size() < size) {
    throw ProtocolError(fmt::format(
        "shmrpc: buffer segment '{}' holds {} bytes, but the server said it holds {} bytes",
        mapping.name(), mapping.size(), size));
  }
}

}  // namespace

BufferMappings::BufferMappings(std::string server_name) : server_name_(std::move(server_name)) {
  validate_name(server_name_);
}

std::shared_ptr<const Segment> BufferMappings::map(std::uint64_t id, std::uint64_t size) {
  {
    const std::lock_guard lock(mutex_);
    if (const auto found = mappings_.find(id); found != mappings_.end()) {
      require_size(*found->second, size);
      return found->second;
    }
  }
  Segment segment = Segment::open_buffer(server_name_, id);
  require_size(segment, size);
  // The mapping is all a client needs; it may map more buffers than it may have descriptors open.
  segment.close_file();
  auto mapping = std::make_shared<const Segment>(std::move(segment));
  const std::lock_guard lock(mutex_);
  // Another thread may have mapped the same id meanwhile: keep the first, so that every holder
  // shares one mapping; ours is unmapped on return.
  const auto [entry, added] = mappings_.try_emplace(id, std::move(mapping));
  if (added) {
    try {
      by_address_.emplace(entry->second->data(), id);
    } catch (...) {
      mappings_.erase(entry);
      throw;
    }
  }
  return entry->second;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> BufferMappings::locate(
    const void* data, std::size_t bytes) const {
  LocatedBuffer ignored;
  return locate(data, bytes, ignored);
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> BufferMappings::locate(
    const void* data, std::size_t bytes, LocatedBuffer& last) const {
  // As integers: p may lie past a mapping, where pointer arithmetic means nothing.
  const auto p = reinterpret_cast<std::uintptr_t>(data);
  const auto within = [&](std::uintptr_t begin, std::uint64_t size) {
    return p >= begin && p - begin <= size && bytes <= size - (p - begin);
  };
  // Acquire pairs with the release in forget(): an unchanged count means the mapping `last`
  // names is still in the cache, so still mapped at the same address.
  if (last.size != 0 && last.forgets == forgets_.load(std::memory_order_acquire) &&
      within(last.begin, last.size)) {
    return std::pair{last.id, p - last.begin};
  }
  const std::lock_guard lock(mutex_);
  auto found = by_address_.upper_bound(static_cast<const std::byte*>(data));
  if (found == by_address_.begin()) {
    return std::nullopt;
  }
  --found;  // the last mapping starting at or before p
  const Segment& mapping = *mappings_.at(found->second);
  const auto begin = reinterpret_cast<std::uintptr_t>(mapping.data());
  if (!within(begin, mapping.size())) {
    return std::nullopt;
  }
  // Relaxed: written under mutex_, which this thread holds.
  last = {.begin = begin,
          .size = mapping.size(),
          .id = found->second,
          .forgets = forgets_.load(std::memory_order_relaxed)};
  return std::pair{found->second, p - begin};
}

void BufferMappings::forget(std::uint64_t id) {
  std::shared_ptr<const Segment> dropped;
  const std::lock_guard lock(mutex_);
  if (const auto found = mappings_.find(id); found != mappings_.end()) {
    // Moved out so that the munmap (if this was the last holder) runs after the lock is released:
    // `dropped` is destroyed after `lock`.
    dropped = std::move(found->second);
    by_address_.erase(dropped->data());
    mappings_.erase(found);
    forgets_.fetch_add(1, std::memory_order_release);
  }
}

std::size_t BufferMappings::count() const {
  const std::lock_guard lock(mutex_);
  return mappings_.size();
}

}  // namespace shmrpc::detail
