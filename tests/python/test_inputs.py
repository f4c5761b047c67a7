"""Arguments at the edges of what the Python client takes: misaligned views into the channel heap,
floats beyond float32, bytes that are not UTF-8, and a segment the caller may not open. Each is
either passed correctly or refused with an error naming the argument, before anything is sent."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import shmrpc
from conftest import ServerProcess

FLOAT32_MAX = float(np.finfo(np.float32).max)


def address(array: np.ndarray[Any, Any]) -> int:
    return int(array.__array_interface__["data"][0])


def in_heap(client: shmrpc.Client, array: np.ndarray[Any, Any]) -> bool:
    start, size = client.heap_range()
    return start <= address(array) and address(array) + array.nbytes <= start + size


def heap_offset(client: shmrpc.Client, array: np.ndarray[Any, Any]) -> int:
    return address(array) - client.heap_range()[0]


def misaligned(client: shmrpc.Client, count: int, dtype: Any = np.float64) -> np.ndarray[Any, Any]:
    """A C-contiguous view of `count` elements one byte into a heap array: in the heap, but not
    aligned to its elements."""
    dtype = np.dtype(dtype)
    backing = client.zeros(count * dtype.itemsize + 8, np.uint8)
    view = backing[1 : 1 + count * dtype.itemsize].view(dtype)
    assert view.flags.c_contiguous and in_heap(client, view)
    assert heap_offset(client, view) % 8 == 1
    return view


# --- misaligned views into the heap (SPEC 10.2) ------------------------------------------------


def test_a_misaligned_heap_view_is_copied_for_a_read_only_span(client: shmrpc.Client) -> None:
    view = misaligned(client, 1000)
    view[:] = np.arange(1000.0)
    expected = float(np.dot(np.arange(1000.0), np.arange(1000.0)))
    assert client.dot(view, view) == expected
    assert client.dot(view, np.arange(1000.0)) == expected


def test_a_misaligned_heap_view_of_a_mutable_span_gets_the_results(client: shmrpc.Client) -> None:
    view = misaligned(client, 1000)
    view[:] = np.arange(1000.0)
    free_before = client.heap_free()
    client.scale(view, 2.0)
    np.testing.assert_array_equal(view, 2 * np.arange(1000.0))
    assert client.heap_free() == free_before


def test_a_misaligned_heap_view_of_records_is_passed_both_ways(client: shmrpc.Client) -> None:
    Particle = client.types.Particle
    particles = misaligned(client, 3, Particle.dtype)
    particles["pos"][:, 2] = 1.0
    particles["vel"][:, 0] = 1.0
    particles["mass"] = 2.0
    energy = client.energy(particles)
    assert energy.kinetic == pytest.approx(3.0)
    client.step(particles, 0.5, client.types.Floor.kBounce)
    np.testing.assert_allclose(particles["pos"][:, 0], 0.5)


def test_asarray_copies_a_misaligned_heap_view(client: shmrpc.Client) -> None:
    view = misaligned(client, 10)
    view[:] = 3.0
    copied = client.asarray(view)
    assert copied is not view and in_heap(client, copied) and heap_offset(client, copied) % 8 == 0
    np.testing.assert_array_equal(copied, view)


# --- float32 ------------------------------------------------------------------------------------


def test_a_float_beyond_float32_is_an_overflow_error(types: shmrpc.Client) -> None:
    for value in (1e39, -1e39, np.float64(1e39), 2**200):
        with pytest.raises(OverflowError,
                           match=r"argument 1 \('value'\) of half.*does not fit float32.*"
                                 r"3\.4028234663852886e\+38"):
            types.half(value)
    # Values that round to the largest float32 are that value.
    assert types.half(3.4028235e38) == FLOAT32_MAX / 2
    assert types.half(-FLOAT32_MAX) == -FLOAT32_MAX / 2


def test_inf_and_nan_pass_for_float32(types: shmrpc.Client) -> None:
    assert types.half(math.inf) == math.inf
    assert types.half(-math.inf) == -math.inf
    assert math.isnan(types.half(math.nan))


def test_a_float32_element_beyond_range_is_an_overflow_error(client: shmrpc.Client,
                                                             types: shmrpc.Client) -> None:
    with pytest.raises(OverflowError, match=r"argument 1 \('values'\) of stats.*1e\+39.*float32"):
        client.stats([1.0, 1e39])
    with pytest.raises(OverflowError, match=r"float32"):
        client.stats((2**200,))
    with pytest.raises(OverflowError, match=r"argument 1 \('points'\) of centroid.*float32"):
        types.centroid([[0.0, 0.0], [-1e39, 0.0]])
    with pytest.raises(OverflowError, match=r"argument 2 \('offset'\) of translate.*float32"):
        types.translate(np.zeros((1, 2), np.float32), [1e39, 0.0])
    # Rounding to float32 is allowed, and so are inf and nan.
    low, high, _mean, _deviation = client.stats([0.1, 3.4028235e38, -math.inf])
    assert low == -math.inf and high == FLOAT32_MAX
    assert math.isnan(client.stats([math.nan])[2])
    assert client.stats([0.1, 0.2])[0] == float(np.float32(0.1))


def test_a_float32_field_beyond_range_is_an_overflow_error(client: shmrpc.Client,
                                                           types: shmrpc.Client) -> None:
    particle = {"pos": [0.0, 0.0, 1.0], "vel": [1.0, 0.0, 0.0], "mass": 1e39}
    with pytest.raises(OverflowError, match=r"argument 1 \('particles'\) of energy.*"
                                            r"\[0\]\.mass.*float32"):
        client.energy([particle])
    with pytest.raises(OverflowError, match=r"argument 2 \('by'\) of rotate.*complex64"):
        types.rotate(1 + 0j, complex(1e39, 0))
    assert types.rotate(1 + 0j, complex(math.inf, 0)).real == math.inf


# --- strings --------------------------------------------------------------------------------------


def test_bytes_that_are_not_utf8_are_refused(types: shmrpc.Client) -> None:
    free_before = types.heap_free()
    with pytest.raises(UnicodeDecodeError,
                       match=r"byte 0xff in position 1.*argument 1 \('text'\) of length.*"
                             r"UTF-8"):
        types.length(b"a\xff")
    with pytest.raises(ValueError, match=r"argument 1 \('text'\) of length"):
        types.length(b"\xc3")  # a sequence cut short
    assert types.heap_free() == free_before
    assert types.length(b"h\xc3\xa9llo") == 6
    assert types.length(b"") == 0


def test_a_lone_surrogate_is_refused_naming_the_argument(types: shmrpc.Client) -> None:
    with pytest.raises(UnicodeEncodeError, match=r"argument 1 \('text'\) of length"):
        types.length("a\udcff")


# --- segments of another user -------------------------------------------------------------------

_CONNECT_AS_NOBODY = """
import sys
import shmrpc
try:
    shmrpc.connect(sys.argv[1])
except PermissionError as error:
    print("PermissionError", error.errno, error)
except BaseException as error:
    print(type(error).__name__, error)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another user")
def test_a_segment_of_another_user_raises_permission_error(demo: ServerProcess) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CONNECT_AS_NOBODY, demo.name],
        user=65534, group=65534, extra_groups=[], capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("PermissionError 13 "), result.stdout
    assert f"'{demo.name}'" in result.stdout and "Permission denied" in result.stdout
