#pragma once
/// The exception classes of shmrpc._core, and the translation of the C++ client's exceptions to
/// them.

#include <pybind11/pybind11.h>

namespace shmrpc::python {

/// Adds the exception classes to `module`: Error (an Exception) and, deriving from it,
/// RemoteError (with function, remote_type and remote_message), ServerGoneError, NoServerError and
/// ChannelsBusyError (also ConnectionErrors), TimeoutError (also the builtin TimeoutError) and
/// ProtocolError. Registers the module-local translator: shmrpc::RemoteError, ServerGoneError,
/// TimeoutError, NoServerError, ChannelsBusyError, ProtocolError and Error to the classes of the
/// same names; std::system_error with an errno to the OSError subclass for it, with errno set
/// (PermissionError for EACCES and EPERM, FileNotFoundError for ENOENT, ...); std::out_of_range to
/// OverflowError; std::length_error (the channel heap has no room) to MemoryError. Called once,
/// from the module's init.
void bind_errors(pybind11::module_& module);

}  // namespace shmrpc::python
