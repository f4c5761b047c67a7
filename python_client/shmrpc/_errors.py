"""The exceptions of shmrpc. shmrpc._core raises them for the C++ client's exceptions."""

from __future__ import annotations

import builtins

__all__ = [
    "ChannelsBusyError",
    "Error",
    "NoServerError",
    "ProtocolError",
    "RemoteError",
    "ServerGoneError",
    "TimeoutError",
]


class Error(Exception):
    """Base of the errors shmrpc raises for a call or a connection that failed.

    Mistakes in the caller's own arguments are Python's usual errors instead: TypeError (wrong
    type, dtype, arity or keyword), OverflowError (an integer that does not fit its C++ type, a
    float that would become inf as a float32), UnicodeDecodeError (bytes for a string that are not
    UTF-8), MemoryError (an array or result larger than the channel heap). A segment that cannot
    be opened is the OSError for its errno (PermissionError for another user's).
    """


class RemoteError(Error):
    """The server function raised a C++ exception.

    Attributes: ``function`` (its name), ``remote_type`` (the exception's C++ type as the server
    saw it, e.g. ``"std::runtime_error"``) and ``remote_message`` (its ``what()``).
    """

    def __init__(self, message: str, function: str, remote_type: str, remote_message: str) -> None:
        super().__init__(message)
        self.function = function
        self.remote_type = remote_type
        self.remote_message = remote_message

    def __reduce__(self) -> tuple[type[RemoteError], tuple[str, str, str, str]]:
        return (type(self), (str(self), self.function, self.remote_type, self.remote_message))


class ServerGoneError(Error, ConnectionError):
    """The server died, was killed or stopped; the client cannot be used any more."""


class TimeoutError(Error, builtins.TimeoutError):  # noqa: A001 (it is meant to be caught as one)
    """A call did not finish within the client's timeout. The client stays usable: its next call
    first waits for the late call to finish."""


class NoServerError(Error, ConnectionError):
    """No server of that name is running (no segment, or one left by a dead server)."""


class ChannelsBusyError(Error, ConnectionError):
    """Every channel of the server is taken by a live client (each thread of each client takes
    one)."""


class ProtocolError(Error):
    """The segment or a reply is malformed, or was written by an incompatible version."""
