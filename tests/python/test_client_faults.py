"""Faults of the client side of a call, from Python: a late call (its slot set aside while the
server still runs it) and the arrays it may still write, and a wait for a free channel of a server
that goes away."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

import shmrpc
from conftest import ServerProcess, channel_count


@pytest.fixture
def fresh_types(type_server_binary: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """shmrpc_py_type_server of one test alone (its channel threads stay busy with late calls)."""
    server = ServerProcess(type_server_binary, tmp_path, "pyfaults")
    yield server
    server.stop()


def address(array: np.ndarray[Any, Any]) -> int:
    return int(array.__array_interface__["data"][0])


def in_heap(client: shmrpc.Client, array: np.ndarray[Any, Any]) -> bool:
    """Whether `array` lies in the first call slot's heap, the one heap_free() counts."""
    start, size = client.heap_range()
    return start <= address(array) and address(array) + array.nbytes <= start + size


def overlap(array: np.ndarray[Any, Any], start: int, nbytes: int) -> bool:
    return address(array) < start + nbytes and start < address(array) + array.nbytes


def call_until_heap_free(client: shmrpc.Client, free: int) -> None:
    """Calls until the first slot's heap has `free` bytes free again: the frees deferred while
    its late call ran are done by a call that takes the slot after the late call ended."""
    give_up = time.monotonic() + 10.0
    while client.heap_free() != free:
        assert time.monotonic() < give_up, "the deferred frees were never performed"
        assert client.half(3.0) == 1.5
        time.sleep(0.01)


def test_a_freed_array_is_not_reused_while_a_late_call_writes_it(
        fresh_types: ServerProcess) -> None:
    with shmrpc.connect(fresh_types.name, timeout=0.1) as client:
        all_free = client.heap_free()
        first = client.zeros(8000)  # in the heap: a buffer would wait for the late call
        assert in_heap(client, first)
        start, nbytes = address(first), first.nbytes
        with pytest.raises(shmrpc.TimeoutError):
            client.fill_slowly(first, 7.0, 400)
        del first  # the server still writes into it
        assert client.heap_free() < all_free, "freed while the late call may write it"
        # Made at once, in another slot's heap: the late call's slot is set aside.
        second = client.zeros(8000)
        assert not overlap(second, start, nbytes)
        assert client.slots == 2
        client.timeout = 10.0
        # Done once the late call has ended: by then it wrote all it will write.
        call_until_heap_free(client, all_free)
        assert not second.any(), "the late call wrote into an array allocated after its own"


def test_with_one_call_slot_a_freed_array_is_not_reused_while_a_late_call_writes_it(
        fresh_types: ServerProcess) -> None:
    # No slot to claim: the next array is made in the heap the late call writes into.
    with shmrpc.connect(fresh_types.name, timeout=0.1, max_slots=1) as client:
        all_free = client.heap_free()
        first = client.zeros(8000)  # in the heap: a buffer would wait for the late call
        start, nbytes = address(first), first.nbytes
        with pytest.raises(shmrpc.TimeoutError):
            client.fill_slowly(first, 7.0, 400)
        del first  # the server still writes into it
        second = client.zeros(8000)
        assert in_heap(client, second) and not overlap(second, start, nbytes)
        client.timeout = 10.0
        # This call waits until the late one has ended: by then it wrote all it will write.
        assert client.half(3.0) == 1.5
        assert not second.any(), "the late call wrote into an array allocated after its own"
        del second
        assert client.heap_free() == all_free, "the deferred free was performed"
        assert client.slots == 1


def test_arrays_freed_on_another_thread_during_a_late_call_come_back(
        fresh_types: ServerProcess) -> None:
    with shmrpc.connect(fresh_types.name, timeout=0.1) as client:
        all_free = client.heap_free()
        arrays = [client.zeros(100) for _ in range(200)]
        assert all(in_heap(client, array) for array in arrays)
        with pytest.raises(shmrpc.TimeoutError):
            client.fill_slowly(arrays[0], 1.0, 600)
        handed_over = list(arrays)
        arrays.clear()

        def drop() -> None:  # frees while this thread calls on another slot, GIL released
            time.sleep(0.05)
            while handed_over:
                handed_over.pop()

        dropper = threading.Thread(target=drop)
        dropper.start()
        client.timeout = 10.0
        try:
            while dropper.is_alive():
                assert client.half(1.0) == 0.5
        finally:
            dropper.join(timeout=60)
        assert not handed_over
        call_until_heap_free(client, all_free)


@pytest.mark.parametrize(("how", "ended"), [("kill", "died"), ("terminate", "stopped")])
def test_channel_wait_notices_the_server_ending(fresh_demo: ServerProcess, how: str,
                                                ended: str) -> None:
    # Every channel of the server.
    holders = [shmrpc.connect(fresh_demo.name) for _ in range(channel_count(fresh_demo.name))]
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
