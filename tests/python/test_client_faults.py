"""Faults of the client side of a call, from Python: a late call and the arrays it may still
write, and a wait for a free channel of a server that goes away."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

import shmrpc
from conftest import ServerProcess


@pytest.fixture
def fresh_types(type_server_binary: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """shmrpc_py_type_server of one test alone (its channel threads stay busy with late calls)."""
    server = ServerProcess(type_server_binary, tmp_path, "pyfaults")
    yield server
    server.stop()


def address(array: np.ndarray[Any, Any]) -> int:
    return int(array.__array_interface__["data"][0])


def test_a_freed_array_is_not_reused_while_a_late_call_writes_it(
        fresh_types: ServerProcess) -> None:
    with shmrpc.connect(fresh_types.name, timeout=0.1) as client:
        all_free = client.heap_free()
        first = client.zeros(8000)  # in the heap: a buffer would wait for the late call
        with pytest.raises(shmrpc.TimeoutError):
            client.fill_slowly(first, 7.0, 400)
        del first  # the server still writes into it
        second = client.zeros(8000)
        client.timeout = 10.0
        # This call waits until the late one has ended: by then it wrote all it will write.
        assert client.half(3.0) == 1.5
        assert not second.any(), "the late call wrote into an array allocated after its own"
        del second
        assert client.heap_free() == all_free, "the deferred free was performed"


def test_arrays_freed_on_another_thread_during_a_late_call_come_back(
        fresh_types: ServerProcess) -> None:
    with shmrpc.connect(fresh_types.name, timeout=0.1) as client:
        all_free = client.heap_free()
        arrays = [client.zeros(1000) for _ in range(200)]
        with pytest.raises(shmrpc.TimeoutError):
            client.fill_slowly(arrays[0], 1.0, 400)
        handed_over = list(arrays)
        arrays.clear()

        def drop() -> None:  # frees while this thread waits for the late call, GIL released
            time.sleep(0.05)
            while handed_over:
                handed_over.pop()

        dropper = threading.Thread(target=drop)
        dropper.start()
        client.timeout = 10.0
        try:
            assert client.half(1.0) == 0.5
        finally:
            dropper.join(timeout=60)
        assert not handed_over
        assert client.half(1.0) == 0.5  # performs any free deferred after the first call began
        assert client.heap_free() == all_free


@pytest.mark.parametrize(("how", "ended"), [("kill", "died"), ("terminate", "stopped")])
def test_channel_wait_notices_the_server_ending(fresh_demo: ServerProcess, how: str,
                                                ended: str) -> None:
    holders = [shmrpc.connect(fresh_demo.name) for _ in range(8)]  # every channel
    ended_at: list[float] = []

    def end() -> None:
        ended_at.append(time.monotonic())
        if how == "kill":
            fresh_demo.kill()
        else:
            fresh_demo.process.terminate()

    timer = threading.Timer(0.3, end)
    try:
        timer.start()
        with pytest.raises(shmrpc.NoServerError,
                           match=f"{ended} while this client waited for a free channel"):
            shmrpc.connect(fresh_demo.name, channel_wait=20.0)
        # Documented: within the liveness interval (100 ms); 20 s would be the channel_wait.
        assert time.monotonic() - ended_at[0] < 3.0
    finally:
        timer.join()
        for holder in holders:
            holder.close()
