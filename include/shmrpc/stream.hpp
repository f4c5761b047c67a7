#pragma once
/// Stream<T>: the writer a streaming server function takes to send many values of type T, one at
/// a time, to the client that called it (docs/SPEC.md, section 7.8). A function that takes a
/// `shmrpc::Stream<T>&` (first, or right after a CallContext&) and returns void streams: clients
/// see `frames(n: int32) -> stream<T>` and iterate over the elements as they come.
///
///   server.def("countdown", [](shmrpc::Stream<std::int64_t>& out, std::int64_t from) {
///     for (std::int64_t i = from; i > 0; --i) out.write(i);
///   });
///
/// Elements are any type a function may return, arrays included; a ResultArray or
/// ResultNdArray filled in place crosses without a copy. The client buffers a bounded number of
/// elements (ClientOptions::stream_buffer): write() waits while they are all unread. The
/// function's return ends the stream; an exception ends it with a RemoteError after the
/// elements already written.

#include "shmrpc/detail/frame_codec.hpp"
#include "shmrpc/detail/stream_writer.hpp"
#include "shmrpc/errors.hpp"

namespace shmrpc {

/// Thrown by Stream::write once the client has stopped reading: it broke out of its loop, was
/// cancelled or died. A function need not catch it: it ends the stream, and nobody reads the
/// error.
class StreamCancelled : public Error {
 public:
  using Error::Error;
};

template <class T>
class Stream {
 public:
  using value_type = T;

  explicit Stream(detail::StreamWriter& writer) noexcept : writer_(writer) {}
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&&) = delete;
  Stream& operator=(Stream&&) = delete;
  ~Stream() = default;

  /// Sends `value` as the next element. Waits while the client's buffer is full. Throws
  /// StreamCancelled once the client has stopped reading, ResultTooLarge and
  /// OutOfSharedMemoryError when the element's pieces find no memory (which end the stream
  /// with that error).
  void write(const T& value) {
    const CallFrame& entry = writer_.begin_element();
    detail::encode_result<T>(entry, 0, value);
    writer_.publish();
  }

  /// Whether the client has stopped reading (then write() throws StreamCancelled): a function
  /// that computes long between writes may check it. A system call: not for every step.
  bool cancelled() const noexcept { return writer_.cancelled(); }

 private:
  detail::StreamWriter& writer_;
};

namespace detail {

template <class T>
struct IsStream : std::false_type {};
template <class T>
struct IsStream<Stream<T>> : std::true_type {
  using Element = T;
};

}  // namespace detail

}  // namespace shmrpc
