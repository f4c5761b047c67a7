"""Streaming functions from Python: iterators and async iterators over real shared memory,
arrays over the server's buffers, and every way a reader stops (break, close, garbage
collection, task cancellation) reaching the server function."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import shmrpc
from conftest import ServerProcess


@pytest.fixture
def streams(stream_server_binary: str, tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(stream_server_binary, tmp_path, "pystreams")
    yield server
    server.stop()


@pytest.fixture
def client(streams: ServerProcess) -> Iterator[shmrpc.Client]:
    with shmrpc.connect(streams.name) as connected:
        yield connected


def eventually(probe: Callable[[], bool], seconds: float = 10.0) -> bool:
    give_up = time.monotonic() + seconds
    while not probe():
        if time.monotonic() > give_up:
            return False
        time.sleep(0.005)
    return True


def test_elements_arrive_in_order_and_the_stream_ends(client: shmrpc.Client) -> None:
    assert list(client.count(1000)) == list(range(1000))
    assert list(client.count(0)) == []
    assert client.add(2, 3) == 5  # the slot serves calls again


def test_a_hundred_thousand_small_elements_in_order(client: shmrpc.Client) -> None:
    expected = 0
    for value in client.count(100_000):
        assert value == expected
        expected += 1
    assert expected == 100_000


def test_tuples_strings_and_small_arrays(client: shmrpc.Client) -> None:
    assert list(client.pairs(3)) == [(0, 0.0), (1, 0.5), (2, 1.0)]
    for i, word in enumerate(client.words(100)):
        assert word == chr(ord("a") + i % 26) * (i * 97 % 3000)
    # Small arrays lie in the ring's entries: each is copied out, so holding all of them
    # neither fills the heap nor sees a later element's values.
    held = list(client.small_arrays(5000))
    assert len(held) == 5000
    for i, array in enumerate(held):
        assert array.dtype == np.int32
        np.testing.assert_array_equal(array, np.full(8, i, dtype=np.int32))


def test_large_arrays_stay_in_shared_memory(client: shmrpc.Client) -> None:
    size = 4 << 20
    for i, ramp in enumerate(client.ramps(20, size)):
        assert ramp.shape == (size,)
        assert client.owns(ramp)  # over the buffer the server filled: no copy
        assert ramp[0] == i and ramp[size - 1] == np.float32(i + size - 1)
    kept = [ramp for ramp in client.ramps(3, 1 << 20)]  # kept alive while held
    assert [float(ramp[0]) for ramp in kept] == [0.0, 1.0, 2.0]


def test_the_functions_error_follows_its_elements(client: shmrpc.Client) -> None:
    stream = client.fail_after(2)
    assert next(stream) == 0
    assert next(stream) == 1
    with pytest.raises(shmrpc.RemoteError, match="no more"):
        next(stream)
    assert stream.closed
    with pytest.raises(StopIteration):
        next(stream)


def stopped(client: shmrpc.Client) -> bool:
    return bool(client.cancelled() == 1)


def test_break_then_garbage_collection_stops_the_function(client: shmrpc.Client) -> None:
    for value in client.endless():
        if value == 50:
            break
    gc.collect()
    assert eventually(lambda: stopped(client))


def test_close_and_with_stop_the_function(client: shmrpc.Client) -> None:
    stream = client.endless()
    assert next(stream) == 0
    stream.close()
    assert stream.closed
    assert eventually(lambda: stopped(client))
    with client.endless() as again:
        assert next(again) == 0
    assert eventually(lambda: stopped(client))


def test_a_slow_reader_bounds_the_writer(client: shmrpc.Client) -> None:
    stream = client.endless()
    assert next(stream) == 0
    time.sleep(0.3)
    ahead = client.written()
    assert 1 <= ahead <= 1 + 64  # the ring's elements, however long the pause
    for expected in range(1, 500):
        assert next(stream) == expected
    stream.close()


def test_ctrl_c_stops_the_stream(client: shmrpc.Client) -> None:
    stream = client.ticks()
    assert next(stream) == 0
    timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        for _ in stream:  # waits for each element: the interrupt arrives inside next()
            pass
    timer.join()
    assert stream.closed
    assert eventually(lambda: stopped(client))


def test_a_dead_server_raises_server_gone(streams: ServerProcess,
                                          client: shmrpc.Client) -> None:
    stream = client.endless()
    assert next(stream) == 0
    streams.kill()
    with pytest.raises(shmrpc.ServerGoneError):
        while True:
            next(stream)


def test_threads_share_one_client_for_many_streams(client: shmrpc.Client) -> None:
    sums: dict[int, int] = {}

    def read(n: int) -> None:
        sums[n] = sum(client.count(n))

    threads = [threading.Thread(target=read, args=(10_000 + t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sums == {n: n * (n - 1) // 2 for n in range(10_000, 10_008)}


def test_async_for_reads_streams_concurrently(client: shmrpc.Client) -> None:
    async def total(n: int) -> int:
        return sum([value async for value in client.aio.count(n)])

    async def main() -> list[int]:
        return list(await asyncio.gather(total(1000), total(2000), total(3000)))

    assert asyncio.run(main()) == [n * (n - 1) // 2 for n in (1000, 2000, 3000)]


def test_cancelling_the_reading_task_stops_the_function(client: shmrpc.Client) -> None:
    async def read_forever() -> None:
        async for _ in client.aio.endless():
            await asyncio.sleep(0.001)

    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(read_forever(), 0.3)

    asyncio.run(main())
    gc.collect()
    assert eventually(lambda: stopped(client))


def test_streams_are_described(client: shmrpc.Client) -> None:
    info = {function.name: function for function in client.functions()}
    assert info["count"].streams
    assert info["count"].signature == "count(n: int64) -> stream<int64>"
    assert not info["add"].streams
