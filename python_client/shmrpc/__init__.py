"""shmrpc: call C++ functions published through POSIX shared memory, with no serialization and,
for numpy arrays in shared memory, no copies.

    import shmrpc
    with shmrpc.connect("demo") as client:
        client.add(2, 3)                  # 5
        x = client.zeros(1000)            # lives in shared memory: passing it copies nothing
        client.scale(x, 2.0)              # std::span<double>: changed in place
"""

from . import _convert, _core
from ._errors import (
    ChannelsBusyError,
    Error,
    NoServerError,
    ProtocolError,
    RemoteError,
    ServerGoneError,
    TimeoutError,
)
from ._client import ArgumentInfo, AsyncStream, Client, FunctionInfo, check_stub, connect
from ._records import Record

__version__ = "0.1.0"

# _core passes numpy arrays that fit a parameter as they are; everything else (sequences, other
# dtypes, non-contiguous arrays) goes through these numpy functions, which convert without losing
# values or explain why not. They are Python because they are numpy calls that only the Python
# client needs; the package hands them to _core here, once, so that the dependency goes one way:
# the package imports _core, and _core imports no module of the package.
_core._install_converters(_convert.argument_array, _convert.structured_array)

for _exported in (ArgumentInfo, AsyncStream, Client, FunctionInfo, ChannelsBusyError, Error, NoServerError,
                  ProtocolError, Record, RemoteError, ServerGoneError, TimeoutError):
    _exported.__module__ = __name__  # shown as shmrpc.RemoteError, where users find it
del _exported

__all__ = [
    "ArgumentInfo",
    "AsyncStream",
    "ChannelsBusyError",
    "Client",
    "Error",
    "FunctionInfo",
    "NoServerError",
    "ProtocolError",
    "Record",
    "RemoteError",
    "ServerGoneError",
    "TimeoutError",
    "check_stub",
    "connect",
]
