"""Every function of server_example through the Python API: calls, keywords, signatures, docs."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import shmrpc


def test_add(client: shmrpc.Client) -> None:
    assert client.add(2, 3) == 5
    assert client.add(-(2**62), -(2**62)) == -(2**63)
    assert type(client.add(1, 1)) is int


def test_add_takes_keywords(client: shmrpc.Client) -> None:
    assert client.add(a=40, b=2) == 42
    assert client.add(40, b=2) == 42
    assert client.add(b=2, a=40) == 42


def test_dot_of_arrays_lists_and_keywords(client: shmrpc.Client) -> None:
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([4.0, 5.0, 6.0])
    assert client.dot(x, y) == 32.0
    assert client.dot(a=x, b=y) == 32.0
    assert client.dot([1, 2, 3], (4.0, 5.0, 6.0)) == 32.0
    assert client.dot([], []) == 0.0
    assert type(client.dot(x, y)) is float


def test_dot_copies_a_non_contiguous_view(client: shmrpc.Client) -> None:
    x = np.arange(10, dtype=np.float64)
    assert not x[::2].flags.c_contiguous
    assert client.dot(x[::2], x[::2]) == float(np.dot(x[::2], x[::2]))


def test_scale_changes_an_ordinary_array_in_place(client: shmrpc.Client) -> None:
    values = np.array([1.0, -2.0, 3.5])
    assert client.scale(values, 2.0) is None
    np.testing.assert_array_equal(values, [2.0, -4.0, 7.0])


def test_scale_changes_a_shared_array_in_place(client: shmrpc.Client) -> None:
    values = client.asarray([1.0, 2.0, 3.0])
    client.scale(values=values, factor=-1)  # an int is fine for a float64 parameter
    np.testing.assert_array_equal(values, [-1.0, -2.0, -3.0])


def test_stats_returns_a_numpy_array(client: shmrpc.Client) -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    result = client.stats(values)
    assert isinstance(result, np.ndarray)
    assert result.dtype == np.float64 and result.shape == (4,)
    np.testing.assert_allclose(result, [1.0, 4.0, 2.5, math.sqrt(1.25)])
    np.testing.assert_allclose(client.stats([2, 2]), [2.0, 2.0, 2.0, 0.0])


def test_greet_takes_and_returns_str(client: shmrpc.Client) -> None:
    assert client.greet("Ada") == "Hello, Ada!"
    assert client.greet(name="Zoë ✓") == "Hello, Zoë ✓!"
    assert client.greet("") == "Hello, !"
    assert client.greet(b"bytes") == "Hello, bytes!"


def test_range_returns_int64_arrays(client: shmrpc.Client) -> None:
    values = client.range(0, 10, 3)
    assert isinstance(values, np.ndarray) and values.dtype == np.int64
    np.testing.assert_array_equal(values, [0, 3, 6, 9])
    np.testing.assert_array_equal(client.range(5, 0, -2), [5, 3, 1])
    empty = client.range(0, 0, 1)
    assert empty.shape == (0,) and empty.dtype == np.int64


def test_sleep_ms_returns_none(client: shmrpc.Client) -> None:
    assert client.sleep_ms(1) is None


def test_fail_raises_remote_error(client: shmrpc.Client) -> None:
    with pytest.raises(shmrpc.RemoteError) as raised:
        client.fail("it broke")
    assert raised.value.function == "fail"
    assert raised.value.remote_type == "std::runtime_error"
    assert raised.value.remote_message == "it broke"
    assert "it broke" in str(raised.value)
    assert isinstance(raised.value, shmrpc.Error)
    assert client.add(2, 3) == 5  # the client is fine afterwards


def test_numpy_scalars_are_accepted(client: shmrpc.Client) -> None:
    assert client.add(np.int64(2), np.int32(3)) == 5
    assert client.add(np.uint8(200), np.int16(-1)) == 199
    assert client.add(np.array(4), 1) == 5  # a 0-d array is a scalar
    x = np.array([1.0, 2.0])
    client.scale(x, np.float32(0.5))
    np.testing.assert_array_equal(x, [0.5, 1.0])


def test_signatures_come_from_registration(client: shmrpc.Client) -> None:
    assert str(inspect.signature(client.add)) == "(a: int, b: int) -> int"
    assert str(inspect.signature(client.dot)) == (
        "(a: numpy.ndarray, b: numpy.ndarray) -> float"
    )
    assert str(inspect.signature(client.scale)) == "(values: numpy.ndarray, factor: float) -> None"
    assert str(inspect.signature(client.stats)) == "(values: numpy.ndarray) -> numpy.ndarray"
    assert str(inspect.signature(client.greet)) == "(name: str) -> str"
    assert str(inspect.signature(client.range)) == (
        "(start: int, stop: int, step: int) -> numpy.ndarray"
    )
    assert str(inspect.signature(client.sleep_ms)) == "(milliseconds: int) -> None"
    assert str(inspect.signature(client.fail)) == "(message: str) -> None"


def test_docs_and_names(client: shmrpc.Client) -> None:
    assert client.add.__name__ == "add"
    assert client.add.__doc__ is not None
    assert client.add.__doc__.startswith("Sum of two integers.")
    assert "add(a: int64, b: int64) -> int64" in client.add.__doc__
    assert client.scale.__doc__ is not None
    assert client.scale.__doc__.startswith("Multiplies values by factor, in place.")


def test_functions_describes_everything(client: shmrpc.Client) -> None:
    infos = {info.name: info for info in client.functions()}
    assert list(infos) == ["add", "dot", "scale", "stats", "greet", "range", "step", "energy",
                           "heaviest", "sleep_ms", "fail", "blur", "total", "segment",
                           "word_counts", "simulate"]
    add = infos["add"]
    assert add.signature == "add(a: int64, b: int64) -> int64"
    assert add.doc == "Sum of two integers."
    assert [(a.name, a.type) for a in add.arguments] == [("a", "int64"), ("b", "int64")]
    assert add.return_type == "int64"
    scale = infos["scale"]
    assert [(a.name, a.type, a.dtype, a.mutable) for a in scale.arguments] == [
        ("values", "span<float64>", np.dtype(np.float64), True),
        ("factor", "float64", None, False),
    ]
    assert scale.return_type == "void"
    assert infos["stats"].return_type == "array<float64, 4>"
    assert infos["range"].return_type == "vector<int64>"
    assert infos["dot"].arguments[0].type == "span<const float64>"
    assert infos["dot"].arguments[0].mutable is False
    assert infos["greet"].python_signature == inspect.signature(client.greet)
    simulate = infos["simulate"]
    assert simulate.streams and not add.streams
    assert simulate.signature.endswith("-> stream<vector<demo::Particle>>")


def test_dir_lists_the_functions(client: shmrpc.Client) -> None:
    names = dir(client)
    for function in ["add", "dot", "scale", "stats", "greet", "range", "sleep_ms", "fail"]:
        assert function in names
    assert "close" in names and "empty" in names


def test_unknown_function_is_an_attribute_error_naming_what_exists(
    client: shmrpc.Client,
) -> None:
    with pytest.raises(AttributeError) as raised:
        client.ad(2, 3)
    message = str(raised.value)
    assert "has no function 'ad'" in message
    assert "add, dot, scale, stats, greet, range, step, energy, heaviest, sleep_ms, fail" in message
    assert not hasattr(client, "nope")
    with pytest.raises(AttributeError, match="has no function 'nope'"):
        client.function("nope")
    assert client.function("add")(1, 2) == 3


def test_a_function_outlives_attribute_lookup(client: shmrpc.Client) -> None:
    add = client.add
    assert [add(i, i) for i in range(5)] == [0, 2, 4, 6, 8]


def test_repr_names_the_server(client: shmrpc.Client, demo) -> None:  # type: ignore[no-untyped-def]
    assert repr(client) == f"<shmrpc.Client of server {demo.name!r}, 16 functions>"
    assert client.name == demo.name
    assert client.server_pid == demo.pid


def test_particles_step_in_place_as_a_structured_array(client: shmrpc.Client) -> None:
    Particle, Floor = client.types.Particle, client.types.Floor
    particles = client.zeros(2, Particle)  # in shared memory: step() writes where it lies
    particles[0] = ([0.0, 0.0, 10.0], [1.0, 0.0, 0.0], 2.0)
    particles[1] = ([0.0, 0.0, 0.0], [0.0, 0.0, 5.0], 1.0)
    before = client.energy(particles)
    assert isinstance(before, client.types.Energy)
    for _ in range(100):
        client.step(particles, 0.001, Floor.kBounce)
    assert particles["pos"][0][0] == pytest.approx(0.1)
    after = client.energy(particles)
    assert after.kinetic + after.potential == pytest.approx(before.kinetic + before.potential,
                                                            abs=1.0)
    heaviest = client.heaviest(particles)
    assert heaviest.mass == 2.0 and isinstance(heaviest, Particle)
    assert client.heaviest(client.empty(0, Particle)) is None
    with pytest.raises(shmrpc.RemoteError, match="dt must be >= 0"):
        client.step(particles, -1.0, "kNone")
