#pragma once
/// Maps the C++ client's exceptions to the Python exception classes of shmrpc._errors.

#include <pybind11/pybind11.h>

namespace shmrpc::python {

/// Registers the module-local translator: shmrpc::RemoteError, ServerGoneError, TimeoutError,
/// NoServerError, ChannelsBusyError, ProtocolError and Error to the shmrpc classes of the same
/// names; std::system_error with an errno to the OSError subclass for it, with errno set
/// (PermissionError for EACCES and EPERM, FileNotFoundError for ENOENT, ...); std::out_of_range to
/// OverflowError; std::length_error (the channel heap has no room) to MemoryError.
void register_error_translator();

}  // namespace shmrpc::python
