#include "shmrpc/detail/buffer_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "shmrpc/call_frame.hpp"
#include "shmrpc/errors.hpp"

namespace shmrpc::detail {
namespace {

// A taken buffer name is someone else's file in /dev/shm (a leftover not yet removed, or a file
// planted by another local user); the next id is tried. A bound turns a /dev/shm flooded with
// planted names into an error rather than a long loop.
constexpr int kIdAttempts = 64;

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

[[noreturn]] void throw_unknown(std::uint64_t id) {
  throw BadRequest(
      fmt::format("buffer {} does not exist: it was never made or has been released", id));
}

}  // namespace

BufferTable::BufferTable(std::string server_name, mode_t mode, gid_t group, std::uint64_t quota)
    : server_name_(std::move(server_name)), mode_(mode), group_(group), quota_(quota) {
  validate_name(server_name_);
}

void BufferTable::charge(std::uint64_t owner, std::uint64_t size) {
  std::uint64_t& held = held_bytes_[owner];
  if (quota_ != 0 && owner != kServerOwner && size > quota_ - std::min(held, quota_)) {
    throw OutOfSharedMemoryError(
        fmt::format(
            "shmrpc: cannot make a buffer of {} bytes for a client of server '{}': it "
            "holds {} bytes of buffers and may hold {} (ServerOptions::client_buffer_quota)",
            size, server_name_, held, quota_),
        size);
  }
  held += size;
}

void BufferTable::refund(std::uint64_t owner, std::uint64_t size) noexcept {
  const auto found = held_bytes_.find(owner);
  if (found == held_bytes_.end()) {
    return;
  }
  found->second -= std::min(found->second, size);
  if (found->second == 0) {
    held_bytes_.erase(found);
  }
}

BufferTable::~BufferTable() {
  for (const auto& [id, entry] : entries_) {
    Segment::unlink(entry.mapping->name());
  }
}

Buffer BufferTable::make(std::uint64_t owner, std::uint64_t size) {
  if (size == 0) {
    throw std::invalid_argument(
        fmt::format("shmrpc: server '{}' cannot make an empty buffer; an empty value needs none",
                    server_name_));
  }
  constexpr auto kMaxSize = static_cast<std::uint64_t>(std::numeric_limits<off_t>::max());
  if (size > kMaxSize) {
    throw std::length_error(
        fmt::format("shmrpc: server '{}' cannot make a buffer of {} bytes; a file holds at most {}",
                    server_name_, size, kMaxSize));
  }
  {
    const std::lock_guard lock(mutex_);
    charge(owner, size);  // before the file exists: two racing calls cannot both pass the quota
  }
  try {
    return publish_new(owner, size);
  } catch (...) {
    const std::lock_guard lock(mutex_);
    refund(owner, size);  // the buffer never reached the table
    throw;
  }
}

Buffer BufferTable::publish_new(std::uint64_t owner, std::uint64_t size) {
  std::optional<Segment> segment;
  try {
    segment.emplace(Segment::create_buffer(server_name_, size, mode_, group_));
  } catch (const std::system_error& error) {
    // ENOSPC from posix_fallocate (no room for the bytes) or from the O_TMPFILE open (no inode
    // left). The file was never linked and is gone, so the free space measured now is what the
    // next caller could get.
    if (error.code() == std::errc::no_space_on_device) {
      throw OutOfSharedMemoryError(server_name_, size, shared_memory_free_bytes());
    }
    throw;
  }
  return enter(std::make_shared<Segment>(std::move(*segment)), owner,
               [](Segment& buffer, std::uint64_t id) {
                 if (!buffer.publish_buffer(id)) {
                   return false;
                 }
                 // The descriptor was only needed to link the file; a server may hold more
                 // buffers than it may have descriptors open.
                 buffer.close_file();
                 return true;
               });
}

Buffer BufferTable::make_from(const std::shared_ptr<Segment>& spare, std::uint64_t owner,
                              bool zeroed) {
  const std::uint64_t size = spare->size();
  try {
    const std::lock_guard lock(mutex_);
    charge(owner, size);
  } catch (...) {
    discard(*spare);
    throw;
  }
  try {
    if (zeroed) {
      std::memset(spare->data(), 0, size);  // what make() gives: the bytes of no earlier result
    }
    return enter(spare, owner,
                 [](Segment& buffer, std::uint64_t id) { return buffer.rename_buffer(id); });
  } catch (...) {
    {
      const std::lock_guard lock(mutex_);
      refund(owner, size);
    }
    discard(*spare);
    throw;
  }
}

void BufferTable::discard(const Segment& spare) noexcept {
  Segment::unlink(spare.name());
}

template <class Publish>
Buffer BufferTable::enter(const std::shared_ptr<Segment>& segment, std::uint64_t owner,
                          Publish publish) {
  for (int attempt = 0; attempt < kIdAttempts; ++attempt) {
    std::uint64_t id = 0;
    {
      const std::lock_guard lock(mutex_);
      id = next_id_++;
    }
    if (!publish(*segment, id)) {
      continue;
    }
    try {
      const std::lock_guard lock(mutex_);
      entries_.emplace(id, Entry{owner, segment});
    } catch (...) {
      Segment::unlink(segment->name());  // published but not in the table: nobody would free it
      throw;
    }
    return {id, segment->size(), segment};
  }
  throw std::system_error(
      EEXIST, std::generic_category(),
      fmt::format("shmrpc: cannot publish a buffer of server '{}': {} names in a row were taken "
                  "by other files in /dev/shm",
                  server_name_, kIdAttempts));
}

BufferRange BufferTable::find(std::uint64_t id, std::uint64_t offset, std::uint64_t length,
                              std::uint64_t align) const {
  BufferRange range;
  {
    const std::lock_guard lock(mutex_);
    const auto found = entries_.find(id);
    if (found == entries_.end()) {
      throw_unknown(id);
    }
    range.mapping = found->second.mapping;
    // Relaxed: written under mutex_, which this thread holds.
    range.releases = releases_.load(std::memory_order_relaxed);
  }
  range.data = checked_range(*range.mapping, id, offset, length, align);
  range.length = length;
  return range;
}

std::byte* BufferTable::checked_range(const Segment& mapping, std::uint64_t id,
                                      std::uint64_t offset, std::uint64_t length,
                                      std::uint64_t align) {
  assert(align != 0 && (align & (align - 1)) == 0);  // the element type's alignment
  // The checks run on the table's own record of the size (the mapping), never on a size the
  // client sent: the file's size does not change, since only the server could change it.
  const std::uint64_t size = mapping.size();
  if (length > std::numeric_limits<std::uint64_t>::max() - offset) {
    throw BadRequest(fmt::format(
        "offset {} plus length {} in buffer {} overflows 64 bits; the buffer holds {} bytes",
        offset, length, id, size));
  }
  if (offset + length > size) {
    throw BadRequest(
        fmt::format("{} bytes at offset {} run past the end of buffer {}, which holds "
                    "{} bytes",
                    length, offset, id, size));
  }
  if (offset % align != 0) {
    throw BadRequest(
        fmt::format("offset {} in buffer {} is not aligned to {} bytes", offset, id, align));
  }
  return mapping.data() + offset;
}

BufferTable::Entry& BufferTable::owned_entry(std::uint64_t id, std::uint64_t owner,
                                             std::string_view action) {
  const auto found = entries_.find(id);
  if (found == entries_.end()) {
    throw_unknown(id);
  }
  if (found->second.owner != owner) {
    // The actual owner is not named: it would tell one client another's pid.
    throw BadRequest(
        fmt::format("buffer {} is not owned by {:#x}; only its owner may {}", id, owner, action));
  }
  return found->second;
}

void BufferTable::give(std::uint64_t id, std::uint64_t owner, std::uint64_t new_owner) {
  const std::lock_guard lock(mutex_);
  Entry& entry = owned_entry(id, owner, "give it away");
  // The new owner takes the bytes over whatever its quota: it did not ask, the buffer exists.
  refund(owner, entry.mapping->size());
  held_bytes_[new_owner] += entry.mapping->size();
  entry.owner = new_owner;
}

std::shared_ptr<Segment> BufferTable::take_out(std::uint64_t id, std::uint64_t owner) {
  const std::lock_guard lock(mutex_);
  std::shared_ptr<Segment> mapping = std::move(owned_entry(id, owner, "release it").mapping);
  entries_.erase(id);
  releases_.fetch_add(1, std::memory_order_release);
  refund(owner, mapping->size());
  return mapping;
}

void BufferTable::release(std::uint64_t id, std::uint64_t owner) {
  // Outside the lock: unlink and munmap take time, and other threads' calls need the table. The
  // mapping is unmapped here unless a BufferRange still holds it (a call still running).
  Segment::unlink(take_out(id, owner)->name());
}

std::shared_ptr<Segment> BufferTable::release_for_reuse(std::uint64_t id, std::uint64_t owner) {
  std::shared_ptr<Segment> mapping = take_out(id, owner);
  // Out of the table, nobody can find it again: a count of one stays one.
  if (mapping.use_count() == 1) {
    return mapping;
  }
  Segment::unlink(mapping->name());
  return nullptr;
}

std::size_t BufferTable::release_owner(std::uint64_t owner) {
  std::vector<std::shared_ptr<Segment>> released;
  {
    const std::lock_guard lock(mutex_);
    // Reserve first: once entries leave the table nothing may throw, or their files would stay.
    released.reserve(static_cast<std::size_t>(
        std::count_if(entries_.begin(), entries_.end(),
                      [&](const auto& item) { return item.second.owner == owner; })));
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.owner == owner) {
        released.push_back(std::move(it->second.mapping));
        it = entries_.erase(it);
        releases_.fetch_add(1, std::memory_order_release);
      } else {
        ++it;
      }
    }
    held_bytes_.erase(owner);
  }
  for (const auto& mapping : released) {
    Segment::unlink(mapping->name());
  }
  return released.size();
}

std::size_t BufferTable::count() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t BufferTable::remove_leftovers(std::string_view server_name) {
  namespace fs = std::filesystem;
  validate_name(server_name);
  // segment_path() says where segments live; a buffer's file name is the server's plus "@ID".
  const fs::path server_file(segment_path(server_name));
  const std::string prefix = fmt::format("{}@", server_file.filename().string());
  std::error_code error;
  fs::directory_iterator it(server_file.parent_path(), error);
  std::size_t removed = 0;
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    const std::string file = it->path().filename().string();
    if (file.starts_with(prefix) && all_digits(std::string_view(file).substr(prefix.size())) &&
        Segment::unlink(fmt::format("{}@{}", server_name, file.substr(prefix.size())))) {
      ++removed;
    }
  }
  if (error) {
    throw std::system_error(error, fmt::format("shmrpc: cannot list {} for the buffers of server "
                                               "'{}'",
                                               server_file.parent_path().string(), server_name));
  }
  return removed;
}

}  // namespace shmrpc::detail
