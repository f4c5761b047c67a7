#pragma once
/// The server side of a stream's ring (layout::StreamRing, docs/SPEC.md section 7.8): the entries
/// the writer fills one at a time, flow control against the reader, the buffer ids the reader
/// hands back, and the end. Stream<T> (stream.hpp) encodes its elements through it.

#include <cstdint>
#include <vector>

#include "shmrpc/call_frame.hpp"
#include "shmrpc/layout.hpp"

namespace shmrpc::detail {

class StreamWriter {
 public:
  /// The ring the client offered as the result window of `call`, checked once: inside the heap,
  /// aligned, entries whose slot holds an element of `element_size` bytes aligned to
  /// `element_align`. Throws BadRequest before anything is written.
  StreamWriter(const CallFrame& call, std::uint32_t element_size, std::uint32_t element_align);
  /// Ends the stream (end()) if the function did not get to it.
  ~StreamWriter();
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;
  StreamWriter(StreamWriter&&) = delete;
  StreamWriter& operator=(StreamWriter&&) = delete;

  /// Waits for a free entry and returns the frame to encode the next element into: its slot at
  /// offset 0 of `frame`, its pieces in the entry's window, else in buffers. Throws
  /// StreamCancelled once the reader has stopped (cancelled or gone).
  const CallFrame& begin_element();
  /// Publishes the entry begun: the buffers its element names become the client's.
  void publish();
  /// Marks the end, after the last element, and wakes the reader. Once the client has stopped
  /// reading, also releases the buffers of the entries it will never read.
  void end() noexcept;
  /// Whether the client has stopped reading: it cancelled the call, or its process died.
  bool cancelled() const noexcept;

 private:
  // Releases the buffers the reader handed back (the ring's returns array).
  void take_returns() noexcept;
  void release(std::vector<std::uint64_t>& ids) const noexcept;
  // Handed back by the reader: kept as the call's spares (the latest kSpares), for the next
  // elements' buffers; what cannot be kept is released.
  void keep_spares(std::vector<std::uint64_t>& ids) const noexcept;

  CallFrame call_;   // of the whole call
  CallFrame entry_;  // of the entry begun
  layout::StreamRing* ring_ = nullptr;
  std::atomic<std::uint64_t>* returns_ = nullptr;
  std::uint32_t return_capacity_ = 0;
  std::byte* entries_ = nullptr;
  std::uint64_t entries_offset_ = 0;  // in the heap
  std::uint32_t capacity_ = 0;
  std::uint32_t entry_size_ = 0;
  std::uint32_t window_offset_ = 0;
  std::uint32_t written_ = 0;  // entries published, modulo 2^30
  std::uint64_t taken_ = 0;    // returned ids released
  bool ended_ = false;
  // Per entry: the buffers its element named, the client's once it reads the entry.
  std::vector<std::vector<std::uint64_t>> entry_buffers_;
};

}  // namespace shmrpc::detail
