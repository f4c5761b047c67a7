#pragma once
/// shmrpc._core.Connection: a client of one server, driven from Python, shared by all threads.
/// Each call takes one of its call slots (channels, shmrpc/call_slots.hpp) and gives it back when
/// it ends; the shmrpc package keeps one per Client and closes it with the Client.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // every file that converts STL types must see the same casters

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "numpy_types.hpp"
#include "shmrpc/call_slots.hpp"
#include "shmrpc/connection.hpp"

namespace shmrpc::python {

class PyStream;

class PyConnection {
 public:
  /// Attaches to server `name` and claims a first channel, with the GIL released while it waits
  /// for a starting server or a free channel. In seconds: `timeout` bounds each call (None = as
  /// long as the server lives), `channel_wait` how long to wait for a channel when all are taken
  /// (None = not at all); `max_slots` bounds the calls in flight at once. Throws NoServerError,
  /// ProtocolError, ChannelsBusyError, ValueError.
  PyConnection(const std::string& name, std::optional<double> timeout, double connect_timeout,
               std::optional<double> channel_wait, std::uint32_t max_slots);

  /// Calls function `index` of the schema with exactly its number of arguments, from any thread:
  /// takes a free call slot (the GIL released while it waits for one). Releases the GIL while it
  /// waits; checks for signals (KeyboardInterrupt) while the call runs, abandoning it as a late
  /// call: its slot is set aside until the server is done with it. Raises TypeError /
  /// OverflowError / MemoryError for arguments, RemoteError, ServerGoneError, TimeoutError,
  /// ProtocolError.
  pybind11::object call(std::size_t index, const pybind11::tuple& args);
  /// Starts the streaming function `index` with `args` (py_stream.hpp).
  PyStream stream(std::size_t index, const pybind11::tuple& args);

  /// An uninitialised (or zeroed) C-contiguous array in a slot's heap or a buffer.
  pybind11::array empty(const std::vector<pybind11::ssize_t>& shape, const pybind11::dtype& dtype,
                        bool zero);

  /// The server's functions in table order: dicts of index, name, doc, signature, arguments
  /// (list of (name, type description)) and returns (type description; see describe_type).
  pybind11::list functions();

  /// The structs and enums that the functions use, described (see describe_named_types).
  pybind11::list named_types();

  /// The dtypes and Python classes of this connection's types.
  TypeMapper& types() noexcept { return types_; }

  /// True when the data of `array` lies entirely in a slot's heap or a buffer of this client.
  bool owns(const pybind11::array& array) const;

  void set_timeout(std::optional<double> timeout);
  /// Drops this object's share of the slots; arrays in a slot's heap keep that slot until they
  /// are gone, and calls still running on other threads end first.
  void close() noexcept { slots_.reset(); }
  bool closed() const noexcept { return slots_ == nullptr; }

  /// The call slots; ValueError once closed. A copy, so that close() on another thread does not
  /// pull them from under a call.
  std::shared_ptr<CallSlots> slots() const;
  /// The first slot (schema, server, diagnostics); ValueError once closed.
  Connection& first() const;

 private:
  // Function `index` of the server, which must take as many arguments as `args` holds: IndexError,
  // TypeError.
  static const FunctionSchema& function_for(const CallSlots& slots, std::size_t index,
                                            const pybind11::tuple& args);

  std::shared_ptr<CallSlots> slots_;
  TypeMapper types_;
};

void bind_connection(pybind11::module_& module);

}  // namespace shmrpc::python
