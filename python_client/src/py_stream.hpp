#pragma once
/// PyStream: the Python iterator over a streaming function's elements (docs/SPEC.md, section
/// 7.8). `for frame in client.frames(10)` reads one; shmrpc.Client's aio wrapper awaits next()
/// on a client thread. Closing it (close(), `break` then garbage collection, an exception in
/// the reader, Ctrl-C, a cancelled token) stops the server function.

#include <pybind11/pybind11.h>

#include <memory>
#include <optional>
#include <vector>

#include "cancel_token.hpp"
#include "numpy_types.hpp"
#include "shmrpc/call_slots.hpp"
#include "shmrpc/dynamic_call.hpp"

namespace shmrpc::python {

class PyStream {
 public:
  /// The stream `call` started on `slot`; `owner` (the Python Connection) owns `types`.
  PyStream(pybind11::object owner, std::shared_ptr<CallSlots> slots, CallSlots::Lease slot,
           std::unique_ptr<DynamicCall> call, TypeMapper& types,
           std::vector<pybind11::object> temporaries);
  /// Stops the stream unless it has ended.
  ~PyStream();
  PyStream(PyStream&&) noexcept = default;
  PyStream& operator=(PyStream&&) = delete;
  PyStream(const PyStream&) = delete;
  PyStream& operator=(const PyStream&) = delete;

  /// The next element; StopIteration at the end. Waits with the GIL released. `token`, when
  /// given, abandons the wait from another thread (asyncio.CancelledError). Raises the
  /// function's error after its last element; any error stops the stream.
  pybind11::object next(const std::optional<CancelToken>& token);
  /// Stops the stream: the server function sees it cancelled. Nothing once it has ended.
  void close() noexcept;
  bool closed() const noexcept { return call_ == nullptr; }

 private:
  void release() noexcept;

  pybind11::object owner_;
  std::shared_ptr<CallSlots> slots_;
  std::optional<CallSlots::Lease> slot_;
  std::unique_ptr<DynamicCall> call_;
  TypeMapper* types_;                          // owner_'s
  std::vector<pybind11::object> temporaries_;  // arrays made for the arguments
  bool reading_ = false;                       // a thread waits in next()
};

void bind_stream(pybind11::module_& module);

}  // namespace shmrpc::python
