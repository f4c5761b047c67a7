#pragma once
/// StreamReader<T>: the client's side of a streaming function (stream.hpp), a range of its
/// elements as they come. Client::stream and Function handles of a stream make one.
///
///   for (const Frame& frame : client.stream<Frame>("frames", 10)) {
///     if (done(frame)) break;  // leaving the loop stops the function on the server
///   }
///
/// The stream holds one call slot of its Client until it ends or is cancelled. Breaking out of
/// the loop, destroying the reader or cancel() stops the server's function: its next write()
/// throws StreamCancelled.

#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "shmrpc/call_slots.hpp"
#include "shmrpc/detail/typed_call.hpp"
#include "shmrpc/dynamic_call.hpp"

namespace shmrpc {

template <class T>
class StreamReader {
 public:
  StreamReader(StreamReader&&) noexcept = default;
  StreamReader& operator=(StreamReader&&) = delete;  // would drop a stream unseen
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;
  /// Cancels the stream unless it has ended.
  ~StreamReader() { cancel(); }

  /// The next element, or nullopt at the end of the stream. Throws RemoteError (the function
  /// threw, after its earlier elements), ServerGoneError, TimeoutError (no element within the
  /// client's timeout: the stream is cancelled), ProtocolError.
  std::optional<T> next() {
    if (!call_) {
      return std::nullopt;
    }
    try {
      if (!call_->next_element()) {
        release();
        return std::nullopt;
      }
      return detail::take_result<T>(*call_);
    } catch (...) {
      cancel();
      throw;
    }
  }

  /// Stops the stream: the server's function sees it cancelled. Nothing once it has ended.
  void cancel() noexcept {
    if (call_) {
      call_->cancel_stream();
      release();
    }
  }

  /// Whether elements may still come: neither ended nor cancelled.
  bool active() const noexcept { return call_ != nullptr; }

  /// An input iterator over the elements; each ++ waits for the next one.
  class Iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;

    Iterator() = default;
    T& operator*() const { return *reader_->current_; }
    T* operator->() const { return &*reader_->current_; }
    Iterator& operator++() {
      reader_->current_ = reader_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t /*end*/) const noexcept {
      return reader_ == nullptr || !reader_->current_;
    }

   private:
    friend class StreamReader;
    explicit Iterator(StreamReader* reader) : reader_(reader) {}
    StreamReader* reader_ = nullptr;
  };

  using iterator = Iterator;

  /// Waits for the first element. One pass only: the elements are not kept.
  Iterator begin() {
    current_ = next();
    return Iterator(this);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  friend class Client;
  template <class Signature>
  friend class Function;

  StreamReader(std::shared_ptr<CallSlots> slots, CallSlots::Lease slot,
               std::unique_ptr<DynamicCall> call) noexcept
      : slots_(std::move(slots)), slot_(std::move(slot)), call_(std::move(call)) {}

  // Takes a slot, writes the arguments and starts the stream; the reader holds all three.
  template <class... Args>
  static StreamReader start(const std::shared_ptr<CallSlots>& slots, const FunctionSchema& function,
                            Args&&... args) {
    CallSlots::Lease slot = slots->take();
    const std::uint32_t buffer = slot->options().stream_buffer;
    auto call = detail::prepare_call(*slot, function, std::forward<Args>(args)...);
    call->start_stream(buffer);
    return StreamReader(slots, std::move(slot), std::move(call));
  }

  // The call (its blocks freed, or deferred while it is late), then the slot (given back).
  void release() noexcept {
    call_.reset();
    slot_.reset();
  }

  std::shared_ptr<CallSlots> slots_;
  std::optional<CallSlots::Lease> slot_;
  std::unique_ptr<DynamicCall> call_;
  std::optional<T> current_;
};

}  // namespace shmrpc
