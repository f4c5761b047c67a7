#!/usr/bin/env python3
"""Python baselines of the benchmark comparison (bench/README.md).

The transports a Python user would pick instead of shmrpc, each between this process (the
client, CPU 0) and a forked server (CPU 1), doing the work every transport does:
  null   the client sends two int64 (a, b), the server replies with a + b
  array  the client sends N bytes of float64 (a numpy array), the server receives all of them
         and replies with the number of elements

  multiprocessing.Pipe  send_bytes / recv_bytes_into (no pickling), struct-packed integers
  pyzmq                 REQ/REP over ipc (abstract Unix socket); large frames go zero-copy
  grpc (Python)         unary calls over a Unix socket (abstract) with raw bytes messages:
                        Debian has no grpc code generator for Python 3 that matches its grpcio
  grpc.aio (Python)     the null call awaited through grpc.aio, in batches of 100 in one event
                        loop, against the same server

  py_baselines.py [--iterations N] [--smoke] [--max-bytes N]     (default 20000)

Prints one JSON line per case on stdout, in the format of bench/harness.hpp with
"client": "Python"; a transport whose module does not import is reported as skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import struct
import sys
import time
from typing import Any, Callable

import numpy as np

from py_harness import (ROUNDS, iterations_for, measure, measure_rounds, parse_options,
                        payload_sizes, pin_to, report, report_skipped)

NULL_REQUEST = struct.Struct("<qq")
REPLY = struct.Struct("<q")
FORK = multiprocessing.get_context("fork")


def become_server() -> None:
    """What every forked server does first: pin to CPU 1, die with the client."""
    pin_to(1)
    # prctl is variadic: the argument must be passed as the unsigned long it reads.
    pr_set_pdeathsig = 1
    if ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, ctypes.c_ulong(signal.SIGKILL)):
        print(f"py_baselines: prctl: {os.strerror(ctypes.get_errno())}", file=sys.stderr)


def skip_transport(options: argparse.Namespace, transport: str, why: str) -> None:
    report_skipped(f"{transport} ping-pong", transport, 16, why)
    for size in payload_sizes(options):
        report_skipped(f"{transport} array", transport, size, why)


def check(reply: int, expected: int) -> None:
    if reply != expected:
        raise RuntimeError(f"wrong reply {reply}, expected {expected}")


class Server:
    """A forked server process, stopped (SIGKILL: the servers loop forever) and reaped on exit."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        self.process = FORK.Process(target=self._run, args=(target, *args), daemon=True)
        self.process.start()

    @staticmethod
    def _run(target: Callable[..., None], *args: Any) -> None:
        become_server()
        target(*args)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.join()


# multiprocessing.Pipe -------------------------------------------------------------------------

def pipe_serve(conn: multiprocessing.connection.Connection, max_bytes: int) -> None:
    buffer = bytearray(max(max_bytes, NULL_REQUEST.size))
    while True:
        try:
            size = conn.recv_bytes_into(buffer)
        except EOFError:
            return
        if size == NULL_REQUEST.size:
            a, b = NULL_REQUEST.unpack_from(buffer)
            conn.send_bytes(REPLY.pack(a + b))
        else:
            conn.send_bytes(REPLY.pack(size // 8))


def pipe_case(iterations: int, max_bytes: int, round_trip: Callable[[Any], None]
              ) -> tuple[float, float]:
    client, server = FORK.Pipe()
    with Server(pipe_serve, server, max_bytes):
        server.close()
        try:
            return measure(iterations, lambda: round_trip(client))
        finally:
            client.close()


def run_pipe(options: argparse.Namespace) -> None:
    transport = "multiprocessing.Pipe"
    note = "Pipe(), send_bytes/recv_bytes_into, struct"
    state = {"sum": 0}

    def add(conn: multiprocessing.connection.Connection) -> None:
        conn.send_bytes(NULL_REQUEST.pack(state["sum"], 1))
        (reply,) = REPLY.unpack(conn.recv_bytes())
        check(reply, state["sum"] + 1)
        state["sum"] = reply

    figures = pipe_case(options.iterations, NULL_REQUEST.size, add)
    report(f"{transport} ping-pong", transport, 16, options.iterations, figures, note)
    for size in payload_sizes(options):
        data = np.ones(size // 8, dtype=np.float64)

        def count(conn: multiprocessing.connection.Connection) -> None:
            conn.send_bytes(data)
            check(REPLY.unpack(conn.recv_bytes())[0], data.size)

        iterations = iterations_for(options, size)
        figures = pipe_case(iterations, size, count)
        report(f"{transport} array", transport, size, iterations, figures, note)


# pyzmq ----------------------------------------------------------------------------------------

def zmq_serve(endpoint: str) -> None:
    import zmq

    socket = zmq.Context().socket(zmq.REP)
    socket.bind(endpoint)
    while True:
        frame = socket.recv(copy=False)
        view = frame.buffer
        if view.nbytes == NULL_REQUEST.size:
            a, b = NULL_REQUEST.unpack(view)
            socket.send(REPLY.pack(a + b))
        else:
            socket.send(REPLY.pack(view.nbytes // 8))


def zmq_case(endpoint: str, iterations: int, round_trip: Callable[[Any], None]
             ) -> tuple[float, float]:
    import zmq

    # The context is made after the fork and ended before the next one: no ZeroMQ thread
    # may exist when a server is forked.
    with Server(zmq_serve, endpoint):
        context = zmq.Context()
        socket = context.socket(zmq.REQ)
        socket.connect(endpoint)
        try:
            return measure(iterations, lambda: round_trip(socket))
        finally:
            socket.close(linger=0)
            context.term()


def run_zmq(options: argparse.Namespace) -> None:
    transport = "pyzmq"
    try:
        import zmq
    except ImportError as error:
        skip_transport(options, transport, f"python module zmq not importable ({error}): "
                       "install python3-zmq")
        return
    note = f"REQ/REP, ipc (abstract Unix socket), pyzmq {zmq.pyzmq_version()}"
    endpoint = f"ipc://@shmrpc-bench-pyzmq-{os.getpid()}"
    state = {"sum": 0}

    def add(socket: Any) -> None:
        socket.send(NULL_REQUEST.pack(state["sum"], 1))
        (reply,) = REPLY.unpack(socket.recv())
        check(reply, state["sum"] + 1)
        state["sum"] = reply

    figures = zmq_case(endpoint, options.iterations, add)
    report(f"{transport} ping-pong", transport, 16, options.iterations, figures, note)
    for size in payload_sizes(options):
        data = np.ones(size // 8, dtype=np.float64)

        def count(socket: Any) -> None:
            socket.send(data)  # pyzmq sends frames above zmq.COPY_THRESHOLD without a copy
            check(REPLY.unpack(socket.recv())[0], data.size)

        iterations = iterations_for(options, size)
        figures = zmq_case(endpoint, iterations, count)
        report(f"{transport} array", transport, size, iterations, figures, note)


# gRPC -----------------------------------------------------------------------------------------

GRPC_SERVICE = "shmrpc.bench.PingPong"
GRPC_OPTIONS = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]


def grpc_serve(address: str) -> None:
    from concurrent import futures

    import grpc

    def add(request: bytes, _context: Any) -> bytes:
        a, b = NULL_REQUEST.unpack(request)
        return REPLY.pack(a + b)

    def count(request: bytes, _context: Any) -> bytes:
        return REPLY.pack(len(request) // 8)

    handler = grpc.method_handlers_generic_handler(GRPC_SERVICE, {
        "Add": grpc.unary_unary_rpc_method_handler(add),
        "Count": grpc.unary_unary_rpc_method_handler(count),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1), options=GRPC_OPTIONS)
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(address)
    server.start()
    server.wait_for_termination()


def run_grpc(options: argparse.Namespace) -> None:
    transport = "grpc (Python)"
    try:
        import grpc
    except ImportError as error:
        skip_transport(options, transport, f"python module grpc not importable ({error}): "
                       "install python3-grpcio")
        return
    note = f"unary, sync, Unix socket (abstract), raw bytes messages, grpcio {grpc.__version__}"
    address = f"unix-abstract:shmrpc-bench-pygrpc-{os.getpid()}"
    # One server for every case, forked before this process makes a channel: gRPC's threads
    # do not survive a fork.
    with Server(grpc_serve, address):
        with grpc.insecure_channel(address, options=GRPC_OPTIONS) as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            add_call = channel.unary_unary(f"/{GRPC_SERVICE}/Add")
            count_call = channel.unary_unary(f"/{GRPC_SERVICE}/Count")
            state = {"sum": 0}

            def add() -> None:
                (reply,) = REPLY.unpack(add_call(NULL_REQUEST.pack(state["sum"], 1)))
                check(reply, state["sum"] + 1)
                state["sum"] = reply

            figures = measure(options.iterations, add)
            report(f"{transport} ping-pong", transport, 16, options.iterations, figures, note)
            for size in payload_sizes(options):
                data = np.ones(size // 8, dtype=np.float64)

                def count() -> None:
                    # A message is bytes: the array is copied into one, as a user would.
                    check(REPLY.unpack(count_call(data.tobytes()))[0], data.size)

                try:
                    count()  # a size gRPC refuses is a row saying so, not a failed run
                except grpc.RpcError as error:
                    report_skipped(f"{transport} array", transport, size,
                                   f"gRPC refused it: {error.code()}: {error.details()}")
                    continue
                iterations = iterations_for(options, size)
                figures = measure(iterations, count)
                report(f"{transport} array", transport, size, iterations, figures, note)
        run_grpc_aio(options, address)


def run_grpc_aio(options: argparse.Namespace, address: str) -> None:
    """Awaited unary calls through grpc.aio against the server of run_grpc, one after another in
    one event loop, in batches: as py_shmrpc.py times `await client.aio.add(1, 2)`."""
    import grpc

    transport = "grpc.aio (Python)"
    batch = 100
    loop = asyncio.new_event_loop()
    channel = loop.run_until_complete(_aio_channel(address))
    add_call = channel.unary_unary(f"/{GRPC_SERVICE}/Add")
    request = NULL_REQUEST.pack(1, 2)

    async def awaits() -> None:
        for _ in range(batch):
            check(REPLY.unpack(await add_call(request))[0], 3)

    def aio_batch() -> float:
        start = time.perf_counter_ns()
        loop.run_until_complete(awaits())
        return (time.perf_counter_ns() - start) / batch

    try:
        aio_batch()  # connects
        batches = max(ROUNDS, options.iterations // batch)
        rounds = measure_rounds(ROUNDS, [(batches, aio_batch)])
        report(f"{transport} asyncio call, awaited", transport, 16, batches * batch,
               rounds.figures[0],
               f"mean per call over batches of {batch} awaits in one event loop, Unix socket "
               f"(abstract), grpcio {grpc.__version__}")
    finally:
        loop.run_until_complete(channel.close())
        loop.close()


async def _aio_channel(address: str) -> Any:
    import grpc

    return grpc.aio.insecure_channel(address, options=GRPC_OPTIONS)


def main() -> int:
    options = parse_options(__doc__.splitlines()[0])
    pin_to(0)
    run_pipe(options)
    run_zmq(options)
    run_grpc(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
