#pragma once
/// The buffers one call on the server touches: the mappings its arguments lie in, held until the
/// call has ended (a client may release a buffer while the function still reads it), and the
/// buffers made for its results, handed to the client only if the call succeeds and its result
/// names them. One per channel thread, cleared after every call, so a call that passes no buffer
/// allocates nothing.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "shmrpc/detail/buffer_table.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc {

struct CallBuffers {
  /// The server's buffers; nullptr where there are none (then a handle naming a buffer is a bad
  /// request and results must fit the heap).
  detail::BufferTable* table = nullptr;
  /// The calling client's owner word (CommandBlock::owner), which owns the buffers made for it.
  std::uint64_t client = 0;
  /// Mappings the call's arguments lie in.
  std::vector<std::shared_ptr<const Segment>> held;
  /// Buffers made for the client during the call (results, ResultArrays).
  std::vector<std::uint64_t> made;
  /// Those of `made` the call's result names: the client learns of these alone.
  std::vector<std::uint64_t> given;
  /// Bytes of result pieces written (in the window or buffers), for a stream's statistics.
  std::uint64_t result_bytes = 0;
  /// Buffers of a stream's elements that the client handed back (StreamWriter), kept to be
  /// made into later elements' buffers of the same size: no new file, no page faulted.
  /// Discarded when the call ends.
  std::vector<std::shared_ptr<Segment>> spares;
  /// The buffer this channel's calls found last, and the table's releases() then. Kept across
  /// calls, so that a call passing the same buffer again takes no lock and no reference count.
  /// Dropped at the end of a call once any buffer has been released, and when the channel goes
  /// idle (unpin()): a released buffer stays mapped by the server no longer than that.
  std::shared_ptr<const Segment> pinned;
  std::uint64_t pinned_id = 0;
  std::uint64_t pinned_releases = 0;

  /// `length` bytes at `offset` in buffer `id`, checked (BufferTable::find), mapped at least
  /// until the call ends. Throws BadRequest. Server side, the channel's thread.
  std::byte* find(std::uint64_t id, std::uint64_t offset, std::uint64_t length,
                  std::uint64_t align) {
    if (pinned != nullptr && id == pinned_id && pinned_releases == table->releases()) {
      return detail::BufferTable::checked_range(*pinned, id, offset, length, align);
    }
    detail::BufferRange range = table->find(id, offset, length, align);
    if (pinned != nullptr) {
      held.push_back(std::move(pinned));  // an earlier argument of this call may lie in it
    }
    pinned = std::move(range.mapping);
    pinned_id = id;
    pinned_releases = range.releases;
    return range.data;
  }

  /// A buffer of `bytes` made for the client during the call: of a spare of that size if there
  /// is one, else anew. `zeroed`: false when the caller overwrites every byte. Server side, the
  /// channel's thread. Throws what BufferTable::make() throws.
  detail::Buffer make(std::uint64_t bytes, bool zeroed = true) {
    const auto spare = std::find_if(spares.begin(), spares.end(), [bytes](const auto& buffer) {
      return buffer->size() == bytes;
    });
    if (spare == spares.end()) {
      return table->make(client, bytes);
    }
    const std::shared_ptr<Segment> reused = std::move(*spare);
    spares.erase(spare);
    return table->make_from(reused, client, zeroed);
  }
  /// The mapping of the buffer find() returned last.
  const Segment& found_last() const noexcept { return *pinned; }

  /// Drops the pinned mapping. Server side, the channel's thread, between calls.
  void unpin() noexcept {
    pinned.reset();
    pinned_id = 0;
  }

  /// After a call: drops the held mappings and releases the made buffers the client does not
  /// get: all of them if the call failed, else those its result does not name (a ResultArray
  /// the function made and dropped). Server side, the channel's thread.
  void end_call(bool succeeded) noexcept {
    held.clear();
    if (pinned != nullptr && pinned_releases != table->releases()) {
      unpin();  // it may be released: the next call finds it again
    }
    if (table != nullptr) {
      for (const std::uint64_t id : made) {
        if (succeeded && std::find(given.begin(), given.end(), id) != given.end()) {
          continue;
        }
        try {
          table->release(id, client);
        } catch (...) {  // already gone: nothing to give back
        }
      }
    }
    made.clear();
    given.clear();
    for (const std::shared_ptr<Segment>& spare : spares) {
      detail::BufferTable::discard(*spare);
    }
    spares.clear();
  }
};

namespace detail {

/// The buffers of the call this thread is running, or nullptr outside a call (dispatch() sets
/// it around the function). Server side.
CallBuffers* current_call_buffers() noexcept;

/// Makes `buffers` the current call's for the scope's life.
class CurrentCallScope {
 public:
  explicit CurrentCallScope(CallBuffers* buffers) noexcept;
  ~CurrentCallScope();
  CurrentCallScope(const CurrentCallScope&) = delete;
  CurrentCallScope& operator=(const CurrentCallScope&) = delete;
  CurrentCallScope(CurrentCallScope&&) = delete;
  CurrentCallScope& operator=(CurrentCallScope&&) = delete;

 private:
  CallBuffers* previous_;
};

}  // namespace detail
}  // namespace shmrpc
