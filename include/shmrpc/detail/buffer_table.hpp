#pragma once
/// The server's buffer table: every buffer segment one server instance has made and not yet
/// released, with the client that owns it.
///
/// A buffer is a segment file /dev/shm/shmrpc.NAME@ID (buffer_name() in segment.hpp) that only
/// the server creates: it sizes the file and reserves its bytes with posix_fallocate, so a full
/// /dev/shm is an OutOfSharedMemoryError when the buffer is made and never a SIGBUS later, and the
/// server never maps a file that a client made (and so could shrink under the server's mapping).
/// Clients only open and map buffers they are told about (buffer_mappings.hpp).
///
/// Ids are 1, 2, 3... in the order buffers are made, never reused within one table: a client may
/// still hold a mapping of a released id, and a handle naming it must not reach a newer buffer.
/// Id 0 is never a buffer, so a handle can use it for "no buffer".
///
/// Owners are opaque 64-bit words: a channel's owner word (CommandBlock::owner, never 0) for a
/// client's buffers, kServerOwner for buffers the server holds itself (a result being filled in).

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "shmrpc/segment.hpp"

namespace shmrpc::detail {

/// The owner of buffers that no client owns yet. Client owner words are never 0 (their low 32
/// bits are a pid).
inline constexpr std::uint64_t kServerOwner = 0;

/// One buffer as the server sees it. `mapping` keeps the server's mapping alive, so a call that
/// still uses the buffer may finish after the buffer was released.
struct Buffer {
  std::uint64_t id = 0;
  std::uint64_t size = 0;
  std::shared_ptr<const Segment> mapping;

  std::byte* data() const noexcept { return mapping->data(); }
};

/// Bytes [offset, offset + length) of one buffer, checked by BufferTable::find(). Holds the
/// mapping: the bytes stay mapped while the range lives, even if the buffer is released meanwhile.
struct BufferRange {
  std::shared_ptr<const Segment> mapping;
  std::byte* data = nullptr;
  std::uint64_t length = 0;
  /// The table's releases() when the buffer was found.
  std::uint64_t releases = 0;
};

class BufferTable {
 public:
  /// An empty table for server `server_name`, whose buffer files get permission bits `mode` and
  /// group `group` (-1: the server's own), as the server's segment does (clients map them
  /// read-write). Each owner other than kServerOwner may hold at most `quota` bytes of buffers
  /// (0: no limit). Creates no file. Throws std::invalid_argument for a bad server name.
  explicit BufferTable(std::string server_name, mode_t mode = 0600,
                       gid_t group = static_cast<gid_t>(-1), std::uint64_t quota = 0);

  /// Unmaps (once no BufferRange holds them) and unlinks every buffer still in the table: they
  /// belong to this server instance and die with it. Mappings clients hold stay valid.
  ~BufferTable();
  BufferTable(const BufferTable&) = delete;
  BufferTable& operator=(const BufferTable&) = delete;
  BufferTable(BufferTable&&) = delete;
  BufferTable& operator=(BufferTable&&) = delete;

  /// Makes a buffer of `size` bytes, zero-filled, owned by `owner`, and publishes its file under
  /// a fresh id. Server side, any thread; blocks on file creation and posix_fallocate (which
  /// touches every page of the file, so making a large buffer takes time proportional to its
  /// size), never while holding the table's lock. Throws OutOfSharedMemoryError when /dev/shm has
  /// no room (no file is left behind) or the buffer would take `owner` past its quota,
  /// std::invalid_argument for size 0 (an empty buffer cannot be mapped), std::length_error for a
  /// size no file can have, std::system_error for other failures.
  Buffer make(std::uint64_t owner, std::uint64_t size);

  /// Checks a handle a client sent and returns its bytes: `length` bytes at `offset` in buffer
  /// `id`, the offset a multiple of `align` (a power of two: the element type's alignment; the
  /// mapping itself is page-aligned). Any owner's buffer may be read: a client may pass a result
  /// another call gave it, and the handle is only valid if the buffer exists. Server side, any
  /// thread; takes the table's lock briefly, no syscall. Throws BadRequest (call_frame.hpp) for
  /// an unknown id, a range past the end of the buffer, an offset + length that overflows 64
  /// bits, or a misaligned offset, saying what was wrong and what is allowed.
  BufferRange find(std::uint64_t id, std::uint64_t offset, std::uint64_t length,
                   std::uint64_t align) const;

  /// [offset, offset + length) of `mapping`, buffer `id`, checked as find() checks it: for a
  /// mapping find() returned before. Throws BadRequest.
  static std::byte* checked_range(const Segment& mapping, std::uint64_t id, std::uint64_t offset,
                                  std::uint64_t length, std::uint64_t align);

  /// How many buffers have been released so far. While it has not changed, every buffer find()
  /// returned since is still in the table (ids are never reused). Any thread, no lock.
  std::uint64_t releases() const noexcept { return releases_.load(std::memory_order_acquire); }

  /// Hands buffer `id` from `owner` to `new_owner` (a result handed to a client becomes the
  /// client's). Server side, any thread. Throws BadRequest when there is no such buffer or
  /// `owner` does not own it.
  void give(std::uint64_t id, std::uint64_t owner, std::uint64_t new_owner);

  /// Removes buffer `id` on behalf of `owner`: unlinks its file and drops the table's mapping
  /// (unmapped when the last BufferRange over it is gone). Only its owner may release it. Server
  /// side, any thread. Throws BadRequest when there is no such buffer or `owner` does not own it,
  /// naming its owner.
  void release(std::uint64_t id, std::uint64_t owner);

  /// As release(), but keeps the file and its mapping for make_from() when nothing but the table
  /// held the mapping (no call still reads or writes the buffer) and returns them; else releases
  /// the buffer as release() does and returns nullptr. The file keeps its old name, which no
  /// handle can reach any more: the id has left the table. For a stream's writer, whose next
  /// elements need buffers of the same size. Throws as release() does.
  std::shared_ptr<Segment> release_for_reuse(std::uint64_t id, std::uint64_t owner);

  /// make() out of `spare`, from release_for_reuse() of a buffer of this server: its bytes
  /// zeroed (unless `zeroed` is false: the caller overwrites them all), the file renamed to a
  /// fresh id, owned by `owner`. No file is made and no page faulted. Throws as make() does; the
  /// spare is discarded then.
  Buffer make_from(const std::shared_ptr<Segment>& spare, std::uint64_t owner, bool zeroed = true);

  /// Removes the file of a spare from release_for_reuse() that nothing will be made of.
  static void discard(const Segment& spare) noexcept;

  /// Releases every buffer `owner` owns (a client that died or closed) and returns how many.
  /// Server side, any thread. A file already gone is no error; throws only std::bad_alloc, and
  /// then releases nothing.
  std::size_t release_owner(std::uint64_t owner);

  /// Number of buffers in the table. Any thread.
  std::size_t count() const;

  const std::string& server_name() const noexcept { return server_name_; }

  /// Removes every buffer file of server `server_name` (/dev/shm/shmrpc.NAME@ID with ID decimal
  /// digits; not shmrpc.NAME itself, nor any other server's) and returns how many it removed.
  /// For buffers a dead server left: call it only when no live server has the name (the next
  /// server of that name once it holds the name, or `shmrpc clean` after probing). Files that
  /// cannot be removed (another user's) are skipped. Throws std::invalid_argument for a bad name,
  /// std::system_error when /dev/shm cannot be listed.
  static std::size_t remove_leftovers(std::string_view server_name);

 private:
  struct Entry {
    std::uint64_t owner = 0;
    std::shared_ptr<Segment> mapping;
  };

  // make() once the bytes are charged: creates, publishes and enters the buffer.
  Buffer publish_new(std::uint64_t owner, std::uint64_t size);
  // Publishes `segment` under a fresh id (`publish` names it so, or returns false when the name
  // is taken) and enters it in the table.
  template <class Publish>
  Buffer enter(const std::shared_ptr<Segment>& segment, std::uint64_t owner, Publish publish);
  // release() and release_for_reuse(): takes buffer `id` out of the table, refunded.
  std::shared_ptr<Segment> take_out(std::uint64_t id, std::uint64_t owner);
  // Counts `size` bytes against `owner`'s quota; throws OutOfSharedMemoryError past it. Caller
  // holds mutex_.
  void charge(std::uint64_t owner, std::uint64_t size);
  // Gives `size` bytes of `owner`'s back. Caller holds mutex_.
  void refund(std::uint64_t owner, std::uint64_t size) noexcept;

  // Finds `id` owned by `owner`, for `action` ("release it"); caller holds mutex_. Throws
  // BadRequest.
  Entry& owned_entry(std::uint64_t id, std::uint64_t owner, std::string_view action);

  std::string server_name_;
  mode_t mode_;
  gid_t group_;
  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 1;                         // guarded by mutex_
  std::unordered_map<std::uint64_t, Entry> entries_;  // guarded by mutex_
  // Buffers released so far: written under mutex_ (release pairs with the acquire in releases()).
  std::atomic<std::uint64_t> releases_{0};
  std::uint64_t quota_;
  std::unordered_map<std::uint64_t, std::uint64_t> held_bytes_;  // by owner; guarded by mutex_
};

}  // namespace shmrpc::detail
