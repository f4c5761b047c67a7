#pragma once
/// One named shared-memory segment: the file /dev/shm/shmrpc.NAME of a server, or
/// /dev/shm/shmrpc.NAME@ID of one of its buffers (detail/buffer_table.hpp), mapped. Owns the
/// descriptor and the mapping.
///
/// The holder lock. The process that creates a segment holds an open-file-description write lock
/// (fcntl F_OFD_SETLK) on byte 0 of the file for as long as its Segment lives; the kernel drops
/// it when that process dies, in whatever pid namespace it runs. "Does a live server hold this
/// segment" is "is byte 0 locked" (held()), never a guess from a pid. A name changes hands only
/// by a process that holds, or has just taken, the lock of the segment under the name and has
/// checked that the name still refers to it (publish(), unlink_own(), remove_unheld()); so two
/// servers can never both hold one name, and no server removes another's segment.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shmrpc {

/// Longest server name: NAME_MAX less the "shmrpc." prefix.
inline constexpr std::size_t kMaxNameLength = 200;

/// Throws std::invalid_argument unless `name` is 1..kMaxNameLength characters of letters, digits,
/// '.', '_' and '-', not starting with '.'. So no name can leave /dev/shm.
void validate_name(std::string_view name);

/// "/shmrpc.NAME", the shm_open name of a server's segment.
std::string shm_object_name(std::string_view name);

/// "/dev/shm/shmrpc.NAME", the file of a server's segment.
std::string segment_path(std::string_view name);

/// "NAME@ID", the segment name of buffer `id` of server `name` (its file is
/// segment_path(buffer_name(name, id))). '@' cannot occur in a server name, so a buffer never
/// collides with a server's segment, and "shmrpc.NAME@" starts exactly the files of server NAME's
/// buffers. Throws std::invalid_argument as validate_name().
std::string buffer_name(std::string_view server_name, std::uint64_t id);

/// Bytes an unprivileged process may still allocate in /dev/shm (statvfs), or nullopt when the
/// file system does not tell. For messages: another process may take them the next moment.
std::optional<std::uint64_t> shared_memory_free_bytes() noexcept;

/// What remove_unheld() did.
enum class RemoveOutcome {
  kRemoved,  ///< the name was removed
  kHeld,     ///< a live process holds the segment; nothing was removed
  kGone,     ///< there was no such name (any more)
};

class Segment {
 public:
  /// Creates a segment of `size` bytes for the name `name` with permission bits `mode`, owned by
  /// group `group` unless it is -1 (the creator's group), and takes its holder lock. It is not
  /// visible under the name until publish(): a client never sees a segment being filled in. The
  /// space is reserved with posix_fallocate, so a full /dev/shm is an error here (naming the
  /// sizes) and never a SIGBUS later. Throws std::system_error naming what failed.
  static Segment create(std::string_view name, std::size_t size, mode_t mode,
                        gid_t group = static_cast<gid_t>(-1));

  /// Creates a buffer of server `server_name` as create() does: reserved with posix_fallocate (a
  /// full /dev/shm is std::system_error ENOSPC here, and no file is left behind), invisible until
  /// publish_buffer() gives it an id; name() is "NAME@" until then. For the server only: buffers
  /// are only ever made by the server, so no client can hand the server a file it could shrink
  /// under the server's mapping. Throws std::invalid_argument for a bad server name.
  static Segment create_buffer(std::string_view server_name, std::size_t size, mode_t mode,
                               gid_t group = static_cast<gid_t>(-1));

  /// Maps an existing segment read-write. Throws std::system_error: ENOENT when there is none,
  /// ENODATA when it is empty, EINVAL when the name is not a regular file (a FIFO, a directory);
  /// opening never blocks and never follows a symbolic link.
  static Segment open(std::string_view name);

  /// Maps buffer `id` of server `server_name` read-write, as open() does (never creates, never
  /// follows a link, refuses what is not a regular file). The mapping covers the whole file; the
  /// caller checks size() against the size it was told. For clients. Throws as open(), and
  /// std::invalid_argument for a bad server name.
  static Segment open_buffer(std::string_view server_name, std::uint64_t id);

  /// Maps an existing segment read-only, for inspection (tools): writing through data() faults.
  /// Throws as open().
  static Segment open_read_only(std::string_view name);

  /// Removes the name, whatever it refers to; existing mappings stay valid. Returns false if it
  /// did not exist. For tests and tools that own the name; servers use unlink_own().
  static bool unlink(std::string_view name) noexcept;

  /// Removes `name` if no live process holds its segment (a dead or stopped server's leftover,
  /// or a file no server holds). Atomic with respect to servers publishing or stopping under the
  /// same name. Throws std::system_error when the file cannot be opened (e.g. another user's).
  static RemoveOutcome remove_unheld(std::string_view name);

  /// Makes a segment made by create() visible under its name. Takes the name when it is free or
  /// its segment is not held (replacing a dead server's leftover); returns false, changing
  /// nothing, when a live process holds it. Throws std::system_error (EACCES) when the name is
  /// another user's file, naming the owner, and (EINVAL) when it is not a regular file.
  bool publish();

  /// Makes a buffer made by create_buffer() visible as buffer `id` (buffer_name(NAME, id)) if that
  /// name is free, and names it so; returns false, changing nothing, if anything at all has the
  /// name (unlike publish(), it never takes a name over: ids are the server's to choose, so a
  /// taken one is only a reason to choose another). Throws std::system_error for other failures.
  bool publish_buffer(std::uint64_t id);

  /// Renames a published buffer's file to buffer `id` of the same server if that name is free,
  /// and names it so; returns false, changing nothing, if anything at all has the name. The
  /// mapping stays as it is. Throws std::system_error for other failures.
  bool rename_buffer(std::uint64_t id);

  /// Closes the file descriptor and keeps the mapping: data() stays valid until the Segment is
  /// destroyed. After it the segment holds no byte locks (held() and locked() are false,
  /// try_lock() throws std::system_error EBADF) and unlink_own() returns false; remove the name
  /// with Segment::unlink(name()). For buffers: a process may map more of them than it may have
  /// descriptors open.
  void close_file() noexcept;

  /// Removes the name if it still refers to this segment (not to a successor's). Returns whether
  /// it did. For the creator, while it holds the lock.
  bool unlink_own() noexcept;

  /// True while a process holds this segment's holder lock. Asked by processes that opened the
  /// segment (a creator does not see its own lock). One fcntl; never blocks.
  bool held() const noexcept { return locked(kHolderByte); }

  /// Byte locks: open-file-description write locks on single bytes of the file, dropped by the
  /// kernel when their process dies. Byte 0 is the holder lock; byte 1 + c marks channel c's
  /// owner (SPEC 8). try_lock takes one without waiting (false: another open file description
  /// holds it; throws std::system_error on other failures); locked() tests without taking and
  /// does not see this Segment's own locks.
  bool try_lock(std::uint64_t byte);
  void unlock(std::uint64_t byte) noexcept;
  bool locked(std::uint64_t byte) const noexcept;
  static constexpr std::uint64_t kHolderByte = 0;

  /// The user id that owns the file.
  uid_t owner_uid() const noexcept { return owner_uid_; }

  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&& other) noexcept;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  const std::string& name() const noexcept { return name_; }

 private:
  Segment(std::string name, int fd, std::byte* data, std::size_t size, uid_t owner) noexcept;
  static Segment create_named(std::string name, std::size_t size, mode_t mode, gid_t group);
  static Segment open_mapped(std::string name, bool read_only);
  void reset() noexcept;

  std::string name_;
  int fd_ = -1;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  uid_t owner_uid_ = 0;
};

}  // namespace shmrpc
