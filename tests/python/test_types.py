"""The wire types against shmrpc_py_type_server: bool spans, arrays of arrays, every integer
width with its range, float32, fixed arrays in and out, vectors of arrays, empty results."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import shmrpc


def test_bool_spans_use_dtype_bool(types: shmrpc.Client) -> None:
    assert types.count_true(np.array([True, False, True])) == 2
    assert types.count_true([True, True, False, True]) == 3
    assert types.count_true([]) == 0
    with pytest.raises(TypeError, match="needs an array of dtype bool; got dtype int64"):
        types.count_true(np.array([1, 0]))
    with pytest.raises(TypeError, match="sequence of bools; got elements of dtype int64"):
        types.count_true([1, 0])
    flags = np.array([True, False, False])
    types.flip(flags)
    np.testing.assert_array_equal(flags, [False, True, True])


def test_spans_of_arrays_are_n_by_2(types: shmrpc.Client) -> None:
    points = np.array([[0.0, 0.0], [2.0, 4.0]], dtype=np.float32)
    centre = types.centroid(points)
    assert centre.dtype == np.float32 and centre.shape == (2,)
    np.testing.assert_array_equal(centre, [1.0, 2.0])
    np.testing.assert_array_equal(types.centroid([[1, 1], [3, 5], [5, 3]]), [3.0, 3.0])
    np.testing.assert_array_equal(types.centroid([]), [0.0, 0.0])
    with pytest.raises(TypeError, match=r"needs an array of shape \(n, 2\); got shape \(2, 3\)"):
        types.centroid(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match=r"needs shape \(n, 2\); got a list of shape \(2,\)"):
        types.centroid([1.0, 2.0])
    info = {f.name: f for f in types.functions()}["centroid"]
    assert info.arguments[0].type == "span<const array<float32, 2>>"
    assert info.return_type == "array<float32, 2>"


def test_mutable_spans_of_arrays_are_written_in_place(types: shmrpc.Client) -> None:
    points = np.array([[0, 0], [1, 2]], dtype=np.float32)
    types.translate(points, [10, 20])
    np.testing.assert_array_equal(points, [[10, 20], [11, 22]])
    shared = types.zeros((3, 2), np.float32)
    types.translate(points=shared, offset=np.array([1, -1], dtype=np.float32))
    np.testing.assert_array_equal(shared, [[1, -1]] * 3)
    with pytest.raises(TypeError, match=r"needs an array of shape \(2,\); got shape \(3,\)"):
        types.translate(shared, np.zeros(3, dtype=np.float32))


def test_vectors_of_arrays_come_back_as_n_by_2(types: shmrpc.Client) -> None:
    corners = types.square(2.0)
    assert corners.shape == (4, 2) and corners.dtype == np.float32
    np.testing.assert_array_equal(corners, [[0, 0], [2, 0], [2, 2], [0, 2]])
    start, size = types.heap_range()
    assert start <= corners.__array_interface__["data"][0] < start + size


def test_nested_fixed_array_results_are_2d(types: shmrpc.Client) -> None:
    matrix = types.matrix()
    assert matrix.shape == (2, 3) and matrix.dtype == np.int32
    np.testing.assert_array_equal(matrix, [[1, 2, 3], [4, 5, 6]])


def test_fixed_array_arguments(types: shmrpc.Client) -> None:
    reversed_ = types.reverse([1, 2, 3])
    np.testing.assert_array_equal(reversed_, [3.0, 2.0, 1.0])
    np.testing.assert_array_equal(types.reverse(np.array([1.0, 2.0, 3.0])[::-1]), [1, 2, 3])
    with pytest.raises(TypeError, match=r"needs an array of shape \(3,\); got shape \(2,\)"):
        types.reverse(np.array([1.0, 2.0]))


def test_integer_widths_are_range_checked(types: shmrpc.Client) -> None:
    assert types.negate_i8(5) == -5
    assert types.negate_i8(-127) == 127
    with pytest.raises(OverflowError, match="128 does not fit int8"):
        types.negate_i8(128)
    with pytest.raises(OverflowError, match="-129 does not fit int8"):
        types.negate_i8(-129)
    assert types.echo_u8(255) == 255
    with pytest.raises(OverflowError, match="256 does not fit uint8"):
        types.echo_u8(256)
    with pytest.raises(OverflowError, match="-1 does not fit uint8"):
        types.echo_u8(-1)
    assert types.echo_u64(2**64 - 1) == 2**64 - 1
    assert types.echo_u64(np.uint64(2**64 - 1)) == 2**64 - 1
    with pytest.raises(OverflowError, match=f"{2**64} does not fit uint64"):
        types.echo_u64(2**64)


def test_integer_sequences_are_range_checked(types: shmrpc.Client) -> None:
    assert types.sum_u16([1, 2, 65535]) == 65538
    assert types.sum_u16(np.array([7, 8], dtype=np.uint16)) == 15
    with pytest.raises(OverflowError, match="element 70000 does not fit uint16"):
        types.sum_u16([1, 70000])
    with pytest.raises(OverflowError, match="element -1 does not fit uint16"):
        types.sum_u16([-1, 5])
    with pytest.raises(OverflowError, match="an element does not fit uint16"):
        types.sum_u16([2**70])
    with pytest.raises(TypeError, match="sequence of integers; got elements of dtype float64"):
        types.sum_u16([1.5])
    with pytest.raises(TypeError, match="needs an array of dtype uint16; got dtype int64"):
        types.sum_u16(np.array([1, 2]))


def test_float32_and_bool_scalars(types: shmrpc.Client) -> None:
    assert types.half(1.0) == 0.5
    assert types.half(3) == 1.5
    assert type(types.half(np.float32(1))) is float
    assert types.invert(True) is False
    assert types.invert(np.bool_(False)) is True
    with pytest.raises(TypeError, match="is bool, but an integer"):
        types.invert(1)
    with pytest.raises(TypeError, match="is float32, but a bool"):
        types.half(True)


def test_strings_are_utf8(types: shmrpc.Client) -> None:
    assert types.length("héllo") == 6
    assert types.length(b"\xc3\xa9\x00") == 3  # bytes in UTF-8; others: test_inputs.py
    assert types.empty_text() == ""
    with pytest.raises(UnicodeEncodeError):
        types.length("\ud800")  # a lone surrogate has no UTF-8 form


def test_empty_vector_results(types: shmrpc.Client) -> None:
    nothing = types.nothing()
    assert nothing.shape == (0,) and nothing.dtype == np.float64
    assert types.bytes(0).shape == (0,)
    data = types.bytes(3)
    assert data.dtype == np.uint8
    np.testing.assert_array_equal(data, [7, 7, 7])


def test_a_result_larger_than_the_heap_comes_back_in_a_buffer(types: shmrpc.Client) -> None:
    _, size = types.heap_range()
    large = types.bytes(size + 1)
    assert large.size == size + 1 and large.base.buffer > 0 and (large == 7).all()
    assert types.bytes(2).tolist() == [7, 7]


def test_a_function_named_like_a_method_is_reached_through_function(
    types: shmrpc.Client,
) -> None:
    assert callable(types.close) and types.close.__self__ is types  # still the method
    assert types.function("close")(41) == 42
    assert "close" in dir(types)


def test_an_argument_named_like_a_python_keyword(types: shmrpc.Client) -> None:
    assert str(inspect.signature(types.keyword)) == "(arg0: int) -> int"
    assert types.keyword(arg0=9) == 9
    info = {f.name: f for f in types.functions()}["keyword"]
    assert info.arguments[0].name == "lambda"


def test_no_argument_function_signature(types: shmrpc.Client) -> None:
    assert str(inspect.signature(types.matrix)) == "() -> numpy.ndarray"
    with pytest.raises(TypeError, match=r"^matrix\(\) takes 0 positional arguments but 1 was"):
        types.matrix(1)
