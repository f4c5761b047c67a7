"""The Python client: remote functions as attributes, one channel per calling thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import operator
import os
import threading
import types
import weakref
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable, Iterator, Mapping

import numpy as np
import numpy.typing as npt

from . import _core
from ._records import annotation, make_classes
from .codegen._names import parameter_name

__all__ = ["ArgumentInfo", "AsyncStream", "Client", "FunctionInfo", "check_stub", "connect"]


@dataclass(frozen=True)
class ArgumentInfo:
    """One argument of a remote function."""

    name: str
    """The name it was registered with (also its keyword in Python, unless that is a keyword)."""
    type: str
    """The C++ wire type, e.g. ``"int64"``, ``"span<const float64>"``."""
    dtype: np.dtype[Any] | None
    """For arrays and spans: the numpy dtype of the elements."""
    mutable: bool
    """True for ``std::span<T>``: the function writes into the array."""


@dataclass(frozen=True)
class FunctionInfo:
    """A remote function as the server describes it."""

    name: str
    signature: str
    """The C++ view, e.g. ``"add(a: int64, b: int64) -> int64"``."""
    doc: str
    arguments: tuple[ArgumentInfo, ...]
    return_type: str
    """The C++ wire type of the result, ``"void"`` when there is none."""
    python_signature: inspect.Signature
    """The Python view, with annotations: ``(a: int, b: int) -> int``."""
    layout: str
    """The layout key: the signature with every struct and enum written out in full
    (docs/SPEC.md, section 5.6)."""
    signature_hash: int
    """FNV-1a 64 of :attr:`layout`; generated stubs compare it at connect."""
    streams: bool = False
    """True for a streaming function: calling it returns an iterator over its elements, of
    type :attr:`return_type` (the signature reads ``-> stream<T>``)."""


def _describe(entry: dict[str, Any], classes: dict[str, type]) -> FunctionInfo:
    arguments = tuple(
        ArgumentInfo(name, description["name"], description["dtype"], description["mutable"])
        for name, description in entry["arguments"]
    )
    parameters = [
        inspect.Parameter(
            parameter_name(name, position),
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=annotation(description, classes),
        )
        for position, (name, description) in enumerate(entry["arguments"])
    ]
    result = annotation(entry["returns"], classes)
    streams = bool(entry.get("streams", False))
    signature = inspect.Signature(
        parameters, return_annotation=Iterator[result] if streams else result  # type: ignore[valid-type]
    )
    return FunctionInfo(
        name=entry["name"],
        signature=entry["signature"],
        doc=entry["doc"],
        arguments=arguments,
        return_type=entry["returns"]["name"],
        python_signature=signature,
        layout=entry["layout"],
        signature_hash=entry["signature_hash"],
        streams=streams,
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _join_names(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _bind(name: str, parameters: tuple[str, ...], args: tuple[Any, ...],
          kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The argument tuple of a call with keywords or a wrong count, with Python's TypeErrors."""
    if len(args) > len(parameters):
        raise TypeError(
            f"{name}() takes {_plural(len(parameters), 'positional argument')} but "
            f"{len(args)} {'was' if len(args) == 1 else 'were'} given"
        )
    for keyword_name in kwargs:
        if keyword_name not in parameters:
            raise TypeError(
                f"{name}() got an unexpected keyword argument {keyword_name!r} "
                f"(its arguments are {', '.join(parameters) or 'none'})"
            )
        if parameters.index(keyword_name) < len(args):
            raise TypeError(f"{name}() got multiple values for argument {keyword_name!r}")
    missing = [parameter for parameter in parameters[len(args):] if parameter not in kwargs]
    if missing:
        raise TypeError(
            f"{name}() missing {len(missing)} required "
            f"{'argument' if len(missing) == 1 else 'arguments'}: {_join_names(missing)}"
        )
    return args + tuple(kwargs[parameter] for parameter in parameters[len(args):])


class _Channels:
    """The connection of one Client, shared by all its threads: each call takes one of its call
    slots (channels of the server) and gives it back when it ends. Made on first use in a
    process, so that a forked child makes its own."""

    def __init__(self, name: str, timeout: float | None, connect_timeout: float,
                 channel_wait: float | None, max_slots: int,
                 own_classes: Mapping[str, type]) -> None:
        self.name = name
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.channel_wait = channel_wait
        self.max_slots = max_slots
        self.own_classes = dict(own_classes)
        self._lock = threading.Lock()
        self._connection: _core.Connection | None = None
        self.call: Callable[[int, tuple[Any, ...]], Any] | None = None  # the hot path
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None  # for .future()
        self._closed = False
        self.classes: dict[str, type] | None = None  # record and enum classes, by C++ name
        _all_channels.add(self)

    def forget_after_fork(self) -> None:
        """In a forked child: the channels belong to the parent, so open new ones on use."""
        self._lock = threading.Lock()
        self._connection = None
        self.call = None
        self._executor = None  # its threads did not survive the fork

    def get(self) -> _core.Connection:
        """The connection, made on first use."""
        connection = self._connection
        if connection is not None:
            return connection
        return self._open()

    def _open(self) -> _core.Connection:
        with self._lock:
            if self._closed:
                raise ValueError(f"shmrpc: the client of server {self.name!r} is closed")
            if self._connection is not None:
                return self._connection
            connection = _core.Connection(
                self.name, self.timeout, self.connect_timeout, self.channel_wait, self.max_slots
            )
            if self.classes is None:
                self.classes = {**make_classes(connection.named_types()), **self.own_classes}
            connection.set_classes(self.classes)
            self._connection = connection
            # The bound method too: remote functions call it without making one per call.
            self.call = connection.call
            return connection

    def executor(self) -> concurrent.futures.ThreadPoolExecutor:
        """The threads that run calls sent with ``.future()``: one per call slot, made on first
        use."""
        with self._lock:
            if self._closed:
                raise ValueError(f"shmrpc: the client of server {self.name!r} is closed")
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self.max_slots, thread_name_prefix=f"shmrpc-{self.name}")
            return self._executor

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connection, self._connection = self._connection, None
            executor, self._executor = self._executor, None
            self.call = None
        if executor is not None:
            # Calls not started yet are cancelled; running ones keep the slots they hold.
            executor.shutdown(wait=False, cancel_futures=True)
        if connection is not None:
            connection.close()

    @property
    def closed(self) -> bool:
        return self._closed


# Every live _Channels, so that a forked child stops using its parent's channels.
_all_channels: weakref.WeakSet[_Channels] = weakref.WeakSet()


def _forget_channels_after_fork() -> None:
    for channels in list(_all_channels):
        channels.forget_after_fork()


os.register_at_fork(after_in_child=_forget_channels_after_fork)


def _remote_function(channels: _Channels, info: FunctionInfo, index: int) -> Callable[..., Any]:
    parameters = tuple(info.python_signature.parameters)
    arity = len(parameters)
    name = info.name

    def remote(*args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != arity:
            args = _bind(name, parameters, args, kwargs)
        # The hot path: the connection's call, one attribute lookup away.
        call = channels.call
        if call is None:
            call = channels.get().call
        return call(index, args)

    remote.__name__ = name
    remote.__qualname__ = name
    remote.__module__ = "shmrpc.remote"
    doc = info.doc.strip()
    remote.__doc__ = (doc + "\n\n" if doc else "") + f"Remote function {info.signature}"
    remote.__signature__ = info.python_signature  # type: ignore[attr-defined]

    def future(*args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        return channels.executor().submit(remote, *args, **kwargs)

    future.__name__ = future.__qualname__ = f"{name}.future"
    future.__doc__ = (f"Sends {name}(...) and returns a concurrent.futures.Future of its result: "
                      "the call runs on one of the client's threads (one per call slot).")
    remote.future = future  # type: ignore[attr-defined]
    return remote


class AsyncStream:
    """The elements of a streaming function for asyncio: ``async for frame in
    client.aio.frames(10)``. Each element is awaited on one of the client's threads, so the
    event loop never waits. Cancelling the reading task, leaving the loop (then
    :meth:`aclose`, or garbage collection) stops the function on the server."""

    def __init__(self, channels: _Channels, stream: Any) -> None:
        self._channels = channels
        self._stream = stream

    def __aiter__(self) -> AsyncStream:
        return self

    async def __anext__(self) -> Any:
        token = _core.CancelToken()
        waiting = asyncio.get_running_loop().run_in_executor(
            self._channels.executor(), self._next, token)
        try:
            return await waiting
        except asyncio.CancelledError:
            token.cancel()  # the wait in the client thread gives the stream up
            raise

    def _next(self, token: Any) -> Any:
        try:
            return self._stream.next(token)
        except StopIteration:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Stops the stream; nothing once it has ended."""
        self._stream.close()

    def close(self) -> None:
        self._stream.close()

    @property
    def closed(self) -> bool:
        return bool(self._stream.closed)

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._stream.close()


def _async_stream_function(channels: _Channels, info: FunctionInfo,
                           index: int) -> Callable[..., AsyncStream]:
    parameters = tuple(info.python_signature.parameters)
    arity = len(parameters)
    name = info.name

    def remote(*args: Any, **kwargs: Any) -> AsyncStream:
        if kwargs or len(args) != arity:
            args = _bind(name, parameters, args, kwargs)
        return AsyncStream(channels, channels.get().stream(index, args))

    remote.__name__ = name
    remote.__qualname__ = name
    remote.__module__ = "shmrpc.remote.aio"
    remote.__doc__ = f"Remote function {info.signature}, an async iterator of its elements."
    remote.__signature__ = info.python_signature  # type: ignore[attr-defined]
    return remote


def _async_function(channels: _Channels, info: FunctionInfo,
                    index: int) -> Callable[..., Awaitable[Any]]:
    parameters = tuple(info.python_signature.parameters)
    arity = len(parameters)
    name = info.name

    async def remote(*args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != arity:
            args = _bind(name, parameters, args, kwargs)
        call = channels.get().call_cancellable
        token = _core.CancelToken()
        # On one of the client's threads (one per call slot), so the event loop never waits and
        # no call needs a thread of its own: calls beyond the slots queue.
        waiting = asyncio.get_running_loop().run_in_executor(
            channels.executor(), call, index, args, token)
        try:
            return await waiting
        except asyncio.CancelledError:
            token.cancel()  # a call under way is abandoned; one not started never starts
            raise

    remote.__name__ = name
    remote.__qualname__ = name
    remote.__module__ = "shmrpc.remote.aio"
    remote.__doc__ = f"Remote function {info.signature}, awaited."
    remote.__signature__ = info.python_signature  # type: ignore[attr-defined]
    return remote


class Client:
    """A connection to one shmrpc server. Make one with :func:`connect`.

    The server's functions are attributes: ``client.add(2, 3)``, ``client.dot(a=x, b=y)``. Any
    number of threads may share one Client: each call takes one of its call slots (channels of
    the server) and gives it back when it ends, so idle threads hold nothing. It claims more
    slots while all are busy, up to `max_slots`; beyond that a call waits for one (bounded by
    the timeout). :meth:`close`, or leaving a ``with`` block, releases them; arrays still alive
    in a slot's heap keep that slot until they are gone.
    """

    def __init__(self, name: str, timeout: float | None = None, *,
                 connect_timeout: float = 1.0, channel_wait: float | None = None,
                 max_slots: int = 8, classes: Mapping[str, type] | None = None) -> None:
        self._attach(_Channels(name, timeout, connect_timeout, channel_wait, max_slots,
                               classes or {}))

    def _attach(self, channels: _Channels) -> None:
        first = channels.get()  # raises NoServerError etc. here, not at the first call
        classes = channels.classes or {}
        infos: dict[str, FunctionInfo] = {}
        functions: dict[str, Callable[..., Any]] = {}
        coroutines: dict[str, Callable[..., Any]] = {}
        for index, entry in enumerate(first.functions()):
            info = _describe(entry, classes)
            infos[info.name] = info
            functions[info.name] = _remote_function(channels, info, index)
            coroutines[info.name] = (_async_stream_function(channels, info, index)
                                     if info.streams else _async_function(channels, info, index))
        for function_name in self.__dict__.get("_functions", {}):
            if function_name in self.__dict__:
                del self.__dict__[function_name]  # the previous server's function
        self._channels = channels
        self._infos = infos
        self._functions = functions
        self._aio = types.SimpleNamespace(**coroutines)
        self._types = types.SimpleNamespace(
            **{cls.__name__: cls for cls in classes.values()}
        )
        # Instance attributes make the lookup as fast as a method's. A function whose name a
        # Client attribute has (or may have: private names) stays reachable through
        # client.function(name).
        for function_name, function in functions.items():
            if not hasattr(type(self), function_name) and not function_name.startswith("_"):
                self.__dict__[function_name] = function

    def reconnect(self) -> None:
        """Attaches anew to the server of the same name, with the same options: after a
        ServerGoneError, once a restarted server runs. Raises as :func:`connect`; on failure the
        client stays as it was. Functions taken from the client before (``add = client.add``)
        and arrays in its heap belong to the old connection: take new ones."""
        old = self._channels
        self._attach(_Channels(old.name, old.timeout, old.connect_timeout, old.channel_wait,
                               old.max_slots, old.own_classes))
        old.close()

    # --- remote functions -------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not attributes: unknown functions.
        functions = self.__dict__.get("_functions")
        if functions is None or name.startswith("__"):
            raise AttributeError(name)
        if name in functions:
            return functions[name]  # a private name such as _reset
        raise AttributeError(
            f"server {self._channels.name!r} has no function {name!r}; it has: "
            f"{', '.join(functions) or '(none)'}"
        )

    def __dir__(self) -> Iterable[str]:
        return sorted(set(super().__dir__()) | set(self._functions))

    def function(self, name: str) -> Callable[..., Any]:
        """The remote function `name`, also one whose name a Client method has (``close``)."""
        try:
            return self._functions[name]
        except KeyError:
            raise AttributeError(
                f"server {self.name!r} has no function {name!r}; it has: "
                f"{', '.join(self._functions) or '(none)'}"
            ) from None

    @property
    def types(self) -> types.SimpleNamespace:
        """The server's structs (as :class:`shmrpc.Record` classes) and enums (as
        :class:`enum.IntEnum` classes), by their C++ names without namespaces:
        ``client.types.Particle(pos=..., vel=..., mass=1.0)``, ``client.types.Side.kBuy``. A
        record class's ``dtype`` makes numpy arrays of it: ``client.empty(n,
        client.types.Particle)``."""
        return self._types

    def functions(self) -> list[FunctionInfo]:
        """Descriptions of the server's functions, in the order the server registered them."""
        return list(self._infos.values())

    # --- arrays in shared memory ------------------------------------------------------------

    def empty(self, shape: int | Iterable[int],
              dtype: npt.DTypeLike = np.float64) -> npt.NDArray[Any]:
        """An uninitialised array in shared memory: this thread's channel heap when it is small,
        else a buffer segment the server makes for this client (any size /dev/shm can hold).
        Passing it to a call copies nothing, and a function taking ``std::span<T>`` writes into
        it in place. Freed when the array (and every view of it) is gone. MemoryError when
        /dev/shm (or the server's per-client quota) has no room."""
        return self._channels.get().empty(_shape(shape), _heap_dtype(dtype), False)

    def zeros(self, shape: int | Iterable[int],
              dtype: npt.DTypeLike = np.float64) -> npt.NDArray[Any]:
        """Like :meth:`empty`, filled with zeros."""
        return self._channels.get().empty(_shape(shape), _heap_dtype(dtype), True)

    def asarray(self, values: npt.ArrayLike, dtype: npt.DTypeLike = None) -> npt.NDArray[Any]:
        """`values` as an array in this client's shared memory: returned as it is when it already
        lies there (with that dtype, C-contiguous and aligned to its elements), else copied there
        once."""
        array = np.asarray(values, dtype=dtype)
        connection = self._channels.get()
        # Heap blocks and buffers start on cache lines, so the address tells the alignment.
        if (array.flags.c_contiguous and connection.owns(array)
                and _address(array) % _alignment(array.dtype) == 0):
            return array
        copy = connection.empty(array.shape, _heap_dtype(array.dtype), False)
        np.copyto(copy, array)
        return copy

    def heap_range(self) -> tuple[int, int]:
        """(address, size) of the first call slot's channel heap as mapped in this process."""
        connection = self._channels.get()
        return connection.heap_address, connection.heap_size

    def heap_free(self) -> int:
        """Bytes of the first call slot's channel heap not held by arrays (or a call)."""
        return self._channels.get().heap_free

    def buffers_mapped(self) -> int:
        """Buffer segments this client has mapped and holds (arrays made by
        :meth:`empty` that were too large for the heap, results kept as arrays, scratch buffers
        for copied arguments)."""
        return self._channels.get().buffers_mapped

    def owns(self, array: npt.NDArray[Any]) -> bool:
        """True when `array` lies whole in this client's shared memory (a call slot's heap or a
        buffer it holds), so that passing it copies nothing (an array in one slot's heap is
        copied when a call from another thread takes another slot)."""
        return bool(self._channels.get().owns(array))

    @property
    def aio(self) -> Any:
        """The server's functions as coroutine functions, for asyncio: ``await
        client.aio.add(2, 3)``. The event loop never waits: each call runs on one of the
        client's threads (one per call slot), and calls beyond them queue. Cancelling the
        awaiting task (``asyncio.wait_for``, ``TaskGroup``) abandons the call: one not started
        never starts; one under way raises ``asyncio.CancelledError`` in its thread within half
        a liveness interval, and the server finishes it while its slot is set aside."""
        return self._aio

    # --- connection -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The server's name."""
        return self._channels.name

    @property
    def server_pid(self) -> int:
        return self._channels.get().server_pid

    @property
    def channel(self) -> int:
        """The server channel of the first call slot, the one a single thread's calls use."""
        return self._channels.get().channel

    @property
    def slots(self) -> int:
        """Call slots (channels of the server) this client holds: one per call it had in flight
        at once, up to `max_slots`."""
        return int(self._channels.get().slots)

    @property
    def timeout(self) -> float | None:
        """Seconds a call may take (None: as long as the server lives). Settable."""
        return self._channels.timeout

    @timeout.setter
    def timeout(self, seconds: float | None) -> None:
        if seconds is not None:
            seconds = float(seconds)
        self._channels.get().set_timeout(seconds)
        self._channels.timeout = seconds

    @property
    def closed(self) -> bool:
        return self._channels.closed

    def close(self) -> None:
        """Releases this client's call slots (each once no array lives in its heap any more).
        Calls afterwards raise ValueError. Idempotent."""
        self._channels.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self._functions)} functions"
        return f"<shmrpc.Client of server {self.name!r}, {state}>"


def _shape(shape: int | Iterable[int]) -> list[int]:
    if isinstance(shape, Iterable):
        dims = [operator.index(dim) for dim in shape]
    else:
        dims = [operator.index(shape)]
    if any(dim < 0 for dim in dims):
        raise ValueError(f"shmrpc: negative dimensions are not allowed: {tuple(dims)}")
    return dims


def _address(array: np.ndarray[Any, Any]) -> int:
    return int(array.__array_interface__["data"][0])


def _alignment(dtype: np.dtype[Any]) -> int:
    """The alignment of elements of `dtype` in C++: its own, or for a record the largest of its
    fields' (numpy says 1 for a structured dtype made without align=True)."""
    if dtype.subdtype is not None:
        return _alignment(dtype.subdtype[0])
    if dtype.fields:
        return max(_alignment(field[0]) for field in dtype.fields.values())
    return int(dtype.alignment)


def _heap_dtype(dtype: npt.DTypeLike) -> np.dtype[Any]:
    resolved = np.dtype(dtype)
    if resolved.hasobject:
        raise TypeError(
            f"shmrpc: dtype {resolved} holds Python objects, which cannot live in shared memory"
        )
    return resolved


def connect(name: str, timeout: float | None = None, *, connect_timeout: float = 1.0,
            channel_wait: float | None = None, max_slots: int = 8,
            classes: Mapping[str, type] | None = None) -> Client:
    """Connects to the shmrpc server `name`.

    In seconds: `timeout` is how long each call may take before TimeoutError (None: as long as
    the server lives); `connect_timeout` how long to wait for a server that is still starting;
    `channel_wait` how long to wait for a free channel when the server's are all taken as the
    client connects (None: raise ChannelsBusyError at once). `max_slots` is the most calls the
    client has in flight at once, on any number of threads (a call beyond them waits for one to
    end). `classes` maps C++ struct and enum names to the
    :class:`shmrpc.Record` subclasses and :class:`enum.IntEnum` classes that results should be
    made of, in place of the ones made from the server's metadata (generated stubs pass theirs).
    Raises NoServerError (no server of that name runs), ChannelsBusyError, ProtocolError,
    ValueError (a name that cannot be a server's).
    """
    return Client(name, timeout, connect_timeout=connect_timeout, channel_wait=channel_wait,
                  max_slots=max_slots, classes=classes)


def check_stub(client: Client, layout_hash: int,
               functions: Iterable[tuple[str, str, str, int]], source: str) -> None:
    """Checks that `client`'s server still publishes every function of a generated stub, as
    (name, signature, layout key, signature hash) tuples, the way C++ stubs check
    (shmrpc::check_stub): a matching `layout_hash` passes at once, added functions pass too.
    Raises ProtocolError naming each function that changed or is missing, with the stub's and
    the server's signature; `source` says what the stub was generated from. Generated stubs call
    it when they connect."""
    client._channels.get().check_stub(layout_hash, list(functions), source)
