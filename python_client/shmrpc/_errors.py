"""The exceptions of shmrpc. shmrpc._core defines them and raises them for the C++ client's
exceptions; the package re-exports them from here and from shmrpc."""

from __future__ import annotations

from ._core import (
    ChannelsBusyError,
    Error,
    NoServerError,
    ProtocolError,
    RemoteError,
    ServerGoneError,
    TimeoutError,
)

__all__ = [
    "ChannelsBusyError",
    "Error",
    "NoServerError",
    "ProtocolError",
    "RemoteError",
    "ServerGoneError",
    "TimeoutError",
]
