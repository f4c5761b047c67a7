"""Arrays in shared memory: where they live, that passing them copies nothing, that functions
write into them in place, and that the heap blocks under them come back."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import shmrpc
from conftest import ServerProcess, channel_count


def address(array: np.ndarray) -> int:  # type: ignore[type-arg]
    return int(array.__array_interface__["data"][0])


def in_heap(client: shmrpc.Client, array: np.ndarray) -> bool:  # type: ignore[type-arg]
    start, size = client.heap_range()
    return start <= address(array) and address(array) + array.nbytes <= start + size


def test_empty_zeros_and_asarray_live_in_the_heap(client: shmrpc.Client) -> None:
    empty = client.empty((3, 4), np.int16)
    zeros = client.zeros(5)
    copied = client.asarray([1.0, 2.0, 3.0])
    assert empty.shape == (3, 4) and empty.dtype == np.int16 and empty.flags.c_contiguous
    assert zeros.dtype == np.float64 and not zeros.any()
    np.testing.assert_array_equal(copied, [1.0, 2.0, 3.0])
    for array in (empty, zeros, copied):
        assert in_heap(client, array)
        assert array.flags.writeable
        assert type(array.base).__name__ == "HeapBlock"
    assert not in_heap(client, np.zeros(5))


def test_asarray_returns_a_heap_array_as_it_is(client: shmrpc.Client) -> None:
    shared = client.zeros(4)
    assert client.asarray(shared) is shared
    ordinary = np.arange(4.0)
    copied = client.asarray(ordinary)
    assert copied is not ordinary and address(copied) != address(ordinary)
    np.testing.assert_array_equal(copied, ordinary)
    as_float32 = client.asarray(ordinary, dtype=np.float32)
    assert as_float32.dtype == np.float32 and in_heap(client, as_float32)


def test_a_heap_array_is_passed_without_a_copy(client: shmrpc.Client) -> None:
    # Nothing is allocated for the call: neither heap nor buffers.
    shared = client.empty(4000)
    shared.fill(1.0)
    assert in_heap(client, shared)
    free_before, buffers_before = client.heap_free(), client.buffers_mapped()
    assert client.dot(shared, shared) == 4000.0
    assert client.dot(a=shared[:2000], b=shared[2000:]) == 2000.0
    assert (client.heap_free(), client.buffers_mapped()) == (free_before, buffers_before)


def test_an_array_too_large_for_the_heap_lives_in_a_buffer_and_passes_without_a_copy(
        client: shmrpc.Client) -> None:
    _, heap_size = client.heap_range()
    count = heap_size // 8 * 4  # four times the whole heap
    shared = client.zeros(count)
    assert not in_heap(client, shared) and client.owns(shared)
    assert type(shared.base).__name__ == "HeapBlock" and shared.base.buffer > 0
    shared.fill(0.5)
    buffers_before = client.buffers_mapped()
    assert client.dot(shared, shared) == count * 0.25
    assert client.dot(shared[: count // 2], shared[count // 2 :]) == count // 2 * 0.25
    assert client.buffers_mapped() == buffers_before, "a copy would have taken a scratch buffer"
    client.scale(shared[:10], 4.0)  # written in place, in the buffer
    assert shared[:10].tolist() == [2.0] * 10 and shared[10] == 0.5


def test_scale_writes_into_a_heap_array_and_its_views(client: shmrpc.Client) -> None:
    values = client.asarray(np.arange(6, dtype=np.float64))
    client.scale(values, 10.0)
    np.testing.assert_array_equal(values, [0, 10, 20, 30, 40, 50])
    client.scale(values[2:4], -1.0)  # a contiguous view in the heap: also in place
    np.testing.assert_array_equal(values, [0, 10, -20, -30, 40, 50])


def test_vector_results_are_arrays_over_the_heap(client: shmrpc.Client) -> None:
    free_before = client.heap_free()
    values = client.range(0, 1000, 1)
    assert in_heap(client, values)
    assert type(values.base).__name__ == "HeapBlock"
    assert values.base.size == 8000
    np.testing.assert_array_equal(values, np.arange(1000))
    assert client.heap_free() < free_before  # the block is held by the array
    view = values[10:20]
    del values
    gc.collect()
    np.testing.assert_array_equal(view, np.arange(10, 20))  # a view keeps the block
    assert client.heap_free() < free_before
    del view
    assert client.heap_free() == free_before


def test_a_vector_result_can_be_passed_back_without_a_copy(client: shmrpc.Client) -> None:
    values = client.range(1, 4, 1).astype(np.float64)  # astype: an ordinary copy
    assert not in_heap(client, values)
    shared = client.asarray(values)
    assert client.dot(shared, shared) == 14.0


def test_fixed_array_results_are_copies_out_of_the_frame(client: shmrpc.Client) -> None:
    first = client.stats(np.array([1.0, 3.0], dtype=np.float32))
    second = client.stats(np.array([5.0, 7.0], dtype=np.float32))
    assert not in_heap(client, first)
    np.testing.assert_array_equal(first, [1.0, 3.0, 2.0, 1.0])
    np.testing.assert_array_equal(second, [5.0, 7.0, 6.0, 1.0])


def test_100000_vector_results_do_not_exhaust_the_heap(client: shmrpc.Client) -> None:
    free_before = client.heap_free()
    expected = np.arange(0, 64, 1)
    for _ in range(100_000):
        values = client.range(0, 64, 1)
    np.testing.assert_array_equal(values, expected)
    del values
    assert client.heap_free() == free_before


def test_an_ordinary_array_is_staged_and_its_block_freed(client: shmrpc.Client) -> None:
    free_before = client.heap_free()
    values = np.ones(100_000)
    assert client.dot(values, values) == 100_000.0
    assert client.heap_free() == free_before


def test_a_heap_array_of_another_client_is_copied(demo: ServerProcess) -> None:
    with shmrpc.connect(demo.name) as first, shmrpc.connect(demo.name) as second:
        shared = first.asarray([1.0, 2.0])
        assert in_heap(first, shared) and not in_heap(second, shared)
        assert second.dot(shared, shared) == 5.0
        second.scale(shared, 2.0)  # copied in and back out
        np.testing.assert_array_equal(shared, [2.0, 4.0])


def test_heap_arrays_keep_their_channel_after_close(fresh_demo: ServerProcess) -> None:
    client = shmrpc.connect(fresh_demo.name)
    kept = client.zeros(3)
    client.close()
    kept[:] = 7.0  # still mapped
    # Every other channel of the server.
    others = [shmrpc.connect(fresh_demo.name) for _ in range(channel_count(fresh_demo.name) - 1)]
    try:
        with pytest.raises(shmrpc.ChannelsBusyError):
            shmrpc.connect(fresh_demo.name)  # the array still holds its channel
        np.testing.assert_array_equal(kept, [7.0, 7.0, 7.0])
        del kept
        with shmrpc.connect(fresh_demo.name) as last:
            assert last.add(1, 2) == 3
    finally:
        for other in others:
            other.close()


def test_heap_arrays_refuse_object_dtypes_and_negative_shapes(client: shmrpc.Client) -> None:
    with pytest.raises(TypeError, match="holds Python objects"):
        client.empty(3, object)
    with pytest.raises(ValueError, match="negative dimensions"):
        client.zeros((2, -1))
    assert client.zeros(0).shape == (0,)
