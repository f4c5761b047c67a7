#pragma once
/// Exceptions a shmrpc client throws for a call or a connection that failed.
///
/// Mistakes in the caller's own input (unknown function, wrong arity or argument type, an argument
/// larger than the channel heap) are std::invalid_argument / std::length_error, thrown before
/// anything is written to shared memory.

#include <stdexcept>
#include <string>

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

}  // namespace shmrpc
