#pragma once
/// shmrpc._core.Connection: one channel of one server, driven from Python. The shmrpc package
/// keeps one per thread that calls (calls on one channel are sequential) and closes them all with
/// the Client.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // every file that converts STL types must see the same casters

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "numpy_types.hpp"
#include "shmrpc/connection.hpp"

namespace shmrpc::python {

class PyConnection {
 public:
  /// Attaches to server `name` and claims a channel, with the GIL released while it waits for a
  /// starting server or a free channel. In seconds: `timeout` bounds each call (None = as long
  /// as the server lives), `channel_wait` how long to wait for a channel when all are taken
  /// (None = not at all). Throws NoServerError, ProtocolError, ChannelsBusyError, ValueError.
  PyConnection(const std::string& name, std::optional<double> timeout, double connect_timeout,
               std::optional<double> channel_wait);

  /// Calls function `index` of the schema with exactly its number of arguments. Releases the
  /// GIL while it waits; checks for signals (KeyboardInterrupt) while the call runs, abandoning
  /// it as a late call that the next call waits for. Raises TypeError / OverflowError /
  /// MemoryError for arguments, RemoteError, ServerGoneError, TimeoutError, ProtocolError.
  pybind11::object call(std::size_t index, const pybind11::tuple& args);

  /// An uninitialised (or zeroed) C-contiguous array in this channel's heap.
  pybind11::array empty(const std::vector<pybind11::ssize_t>& shape, const pybind11::dtype& dtype,
                        bool zero);

  /// The server's functions in table order: dicts of index, name, doc, signature, arguments
  /// (list of (name, type description)) and returns (type description; see describe_type).
  pybind11::list functions();

  /// The structs and enums that the functions use, described (see describe_named_types).
  pybind11::list named_types();

  /// The dtypes and Python classes of this connection's types.
  TypeMapper& types() noexcept { return types_; }

  /// True when the data of `array` lies entirely in this channel's heap.
  bool owns(const pybind11::array& array) const;

  void set_timeout(std::optional<double> timeout);
  /// Drops this object's share of the channel; arrays in its heap keep it until they are gone.
  void close() noexcept { connection_.reset(); }
  bool closed() const noexcept { return connection_ == nullptr; }

  /// The connection; ValueError once closed.
  Connection& get() const;
  const std::shared_ptr<Connection>& shared() const;

 private:
  std::shared_ptr<Connection> connection_;
  TypeMapper types_;
  bool busy_ = false;  // a call is under way (guards against re-entry from signal handlers)
};

void bind_connection(pybind11::module_& module);

}  // namespace shmrpc::python
