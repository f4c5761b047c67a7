#pragma once
/// A client's mappings of one server instance's buffers (buffer_table.hpp), by buffer id.
///
/// The client only opens and maps buffers the server told it about: it never creates, resizes or
/// truncates one. Each buffer is mapped once; mapping it again is a lookup. The mappings are
/// shared and reference-counted, so an array built over one keeps its bytes mapped after the
/// cache, the connection or the server are gone: a mapping outlives the unlink of its file.
///
/// Ids are unique within one server instance only (a restarted server counts from 1 again), so
/// one BufferMappings serves one connection to one server instance; a reconnection starts a new
/// one.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "shmrpc/segment.hpp"

namespace shmrpc::detail {

/// The buffer one thread located last (BufferMappings::locate with a LocatedBuffer): locating
/// bytes in it again takes no lock while no buffer has been forgotten since. One per calling
/// thread, never shared.
struct LocatedBuffer {
  std::uintptr_t begin = 0;  // the mapping's first byte
  std::uint64_t size = 0;    // its bytes; 0: none yet
  std::uint64_t id = 0;
  std::uint64_t forgets = 0;  // the cache's forget count when it was located
};

class BufferMappings {
 public:
  /// An empty cache for server `server_name`. Maps nothing. Throws std::invalid_argument for a bad
  /// server name.
  explicit BufferMappings(std::string server_name);

  /// Buffer `id`, which the server said holds `size` bytes, mapped read-write. The first time,
  /// opens /dev/shm/shmrpc.NAME@ID (no O_CREAT, O_NOFOLLOW, O_NONBLOCK: never creates, never
  /// follows a link, never blocks on a FIFO), checks it is a regular file of at least `size`
  /// bytes, maps it whole and closes the descriptor; later calls find it in the cache with no
  /// syscall. Client side, any thread; the open and mmap run outside the cache's lock. Throws
  /// std::system_error naming the segment when it cannot be opened or mapped (ENOENT: the server
  /// released it or is gone; EINVAL: not a regular file), ProtocolError when the file or the
  /// cached mapping is smaller than `size` (the server said something else when it made it).
  std::shared_ptr<const Segment> map(std::uint64_t id, std::uint64_t size);

  /// Drops the cache's reference to buffer `id` (the client released it); arrays over it keep
  /// theirs. Unknown ids are ignored. Client side, any thread.
  void forget(std::uint64_t id);

  /// The buffer in the cache that holds [data, data + bytes) whole, as (id, offset), or nullopt.
  /// Client side, any thread; a lookup under the cache's lock, no syscall.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> locate(const void* data,
                                                                std::size_t bytes) const;

  /// The same, remembering the buffer found in `last`: bytes in the buffer located before are
  /// found without the lock while no buffer has been forgotten since (passing the same array
  /// again costs little more than passing none).
  std::optional<std::pair<std::uint64_t, std::uint64_t>> locate(const void* data, std::size_t bytes,
                                                                LocatedBuffer& last) const;

  /// Number of buffers in the cache. Any thread.
  std::size_t count() const;

  const std::string& server_name() const noexcept { return server_name_; }

 private:
  std::string server_name_;
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<const Segment>> mappings_;  // guarded by mutex_
  std::map<const std::byte*, std::uint64_t> by_address_;  // mapping start -> id; guarded by mutex_
  // Buffers forgotten so far: written under mutex_, read without it by locate()'s fast path.
  std::atomic<std::uint64_t> forgets_{0};
};

}  // namespace shmrpc::detail
