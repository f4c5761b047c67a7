#pragma once
/// Exceptions a shmrpc client throws for a call or a connection that failed, and
/// OutOfSharedMemoryError, which both sides throw when /dev/shm is full.
///
/// Mistakes in the caller's own input (unknown function, wrong arity or argument type, an argument
/// larger than the channel heap) are std::invalid_argument / std::length_error, thrown before
/// anything is written to shared memory.

#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace shmrpc {

/// Base of the errors below.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The server function threw. what() reads "add: std::invalid_argument: message".
class RemoteError : public Error {
 public:
  RemoteError(std::string function, std::string remote_type, std::string remote_message);
  /// Name of the function that threw.
  const std::string& function() const noexcept { return function_; }
  /// The exception's type as the server saw it, e.g. "std::invalid_argument".
  const std::string& remote_type() const noexcept { return remote_type_; }
  /// The exception's what().
  const std::string& remote_message() const noexcept { return remote_message_; }

 private:
  std::string function_;
  std::string remote_type_;
  std::string remote_message_;
};

/// The server died, was killed or stopped. The connection cannot be used any more.
class ServerGoneError : public Error {
 public:
  using Error::Error;
};

/// A call or a wait did not finish within its timeout. The connection stays usable: the next
/// call first waits for the late call to finish.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

/// No server of that name is running (no segment, or one left by a dead server).
class NoServerError : public Error {
 public:
  using Error::Error;
};

/// Every channel of the server is owned by a live client.
class ChannelsBusyError : public Error {
 public:
  using Error::Error;
};

/// The segment or a reply is malformed, or was written by an incompatible format version.
class ProtocolError : public Error {
 public:
  using Error::Error;
};

/// /dev/shm (or the client's buffer quota, ServerOptions::client_buffer_quota) has no room for a
/// buffer of the size asked for. Thrown by the server's buffer table
/// when it makes a buffer (posix_fallocate reserves the bytes there, so a full /dev/shm is this
/// error and never a SIGBUS later); the call that needed the buffer fails alone. A std::bad_alloc
/// and not an Error: it is an allocation that failed, caught where any allocation failure is
/// (the Python module raises MemoryError). what() reads "shmrpc: cannot make a buffer of 67108864
/// bytes for server 'NAME': /dev/shm has 16777216 bytes free".
class OutOfSharedMemoryError : public std::bad_alloc {
 public:
  /// `free_bytes`: what /dev/shm had free just after the attempt, or nullopt when unknown.
  OutOfSharedMemoryError(std::string_view server_name, std::uint64_t requested_bytes,
                         std::optional<std::uint64_t> free_bytes);
  /// With a message of its own: a client's quota ran out, or the client raises what the server
  /// reported (Status::kOutOfMemory). Free bytes unknown.
  OutOfSharedMemoryError(std::string message, std::uint64_t requested_bytes);
  const char* what() const noexcept override { return message_->c_str(); }
  /// The size of the buffer that could not be made.
  std::uint64_t requested_bytes() const noexcept { return requested_bytes_; }
  /// Bytes free in /dev/shm after the attempt (nullopt: unknown).
  std::optional<std::uint64_t> free_bytes() const noexcept { return free_bytes_; }

 private:
  // Shared so that copying the exception (as throw and catch may) cannot throw.
  std::shared_ptr<const std::string> message_;
  std::uint64_t requested_bytes_ = 0;
  std::optional<std::uint64_t> free_bytes_;
};

}  // namespace shmrpc
