#pragma once
/// The buffers one call on the server touches: the mappings its arguments lie in, held until the
/// call has ended (a client may release a buffer while the function still reads it), and the
/// buffers made for its results, handed to the client only if the call succeeds. One per channel
/// thread, cleared after every call, so a call that passes no buffer allocates nothing.

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
  /// Result buffers made for the client during the call.
  std::vector<std::uint64_t> made;

  /// After a call: drops the held mappings; releases the made buffers unless the call succeeded
  /// (then they are the client's, named in its result). Server side, the channel's thread.
  void end_call(bool succeeded) noexcept {
    held.clear();
    if (!succeeded && table != nullptr) {
      for (const std::uint64_t id : made) {
        try {
          table->release(id, client);
        } catch (...) {  // already gone: nothing to give back
        }
      }
    }
    made.clear();
  }
};

}  // namespace shmrpc
