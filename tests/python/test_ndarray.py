"""n-dimensional numpy arrays through server_example's blur (a 2-D float32 image in and out) and
total (any rank): C-, Fortran-ordered and strided arrays, views of shared memory passed as they
lie, and results as numpy arrays of their shape over shared memory."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

import shmrpc


def reference_blur(image: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The 3x3 box blur of server_example, border clamped, in numpy."""
    rows, columns = image.shape
    padded = np.pad(image.astype(np.float64), 1)
    counts = np.pad(np.ones_like(image, dtype=np.float64), 1)
    total = sum(padded[1 + dy:1 + dy + rows, 1 + dx:1 + dx + columns]
                for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    count = sum(counts[1 + dy:1 + dy + rows, 1 + dx:1 + dx + columns]
                for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    return (total / count).astype(np.float32)


@pytest.fixture
def image() -> npt.NDArray[np.float32]:
    return np.random.default_rng(7).random((37, 53), dtype=np.float32)


@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed"])
def test_a_2d_image_of_any_layout_goes_in_and_comes_back(
        client: shmrpc.Client, image: npt.NDArray[np.float32], layout: str) -> None:
    given = {"C": image, "F": np.asfortranarray(image), "strided": image[::2, ::3],
             "reversed": image[::-1, :]}[layout]
    blurred = client.blur(given)
    assert isinstance(blurred, np.ndarray)
    assert blurred.shape == given.shape and blurred.dtype == np.float32
    np.testing.assert_allclose(blurred, reference_blur(np.ascontiguousarray(given)), rtol=1e-5)
    assert client.owns(blurred) or blurred.nbytes == 0


@pytest.mark.parametrize("shape", [(), (5,), (4, 6), (2, 3, 4), (2, 1, 3, 1, 2, 1, 2, 2)])
def test_arrays_of_any_rank_cross(client: shmrpc.Client, shape: tuple[int, ...]) -> None:
    values = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    assert client.total(values) == values.sum()
    assert client.total(np.asfortranarray(values)) == values.sum()
    if values.ndim >= 2:
        assert client.total(values[..., ::2]) == values[..., ::2].sum()
    assert client.total(values.tolist()) == values.sum()  # nested lists through numpy.asarray


def test_a_strided_view_of_shared_memory_passes_without_a_copy(client: shmrpc.Client) -> None:
    shared = client.zeros((1000, 1200))  # 9.6 MB: a buffer
    shared[:] = np.arange(1200.0)
    view = shared[10:900:3, ::-7]
    mapped, free = client.buffers_mapped(), client.heap_free()
    assert client.total(view) == view.sum()
    assert (client.buffers_mapped(), client.heap_free()) == (mapped, free)
    image = client.zeros((512, 512), np.float32)
    image[100:200, 100:200] = 9.0
    window = image[64:448, 32:480:2]
    np.testing.assert_allclose(client.blur(window), reference_blur(np.ascontiguousarray(window)),
                               rtol=1e-5)
    assert client.buffers_mapped() == mapped + 1, "the image's buffer; no scratch for the window"


def test_a_large_image_with_default_server_options(client: shmrpc.Client) -> None:
    image = np.zeros((4096, 8192), np.float32)  # 128 MiB in, 128 MiB out
    image[2000:2100, 4000:4100] = 9.0
    blurred = client.blur(image)
    assert blurred.shape == (4096, 8192) and client.owns(blurred)
    assert blurred[2050, 4050] == 9.0 and blurred[1999, 4050] == pytest.approx(3.0)
    assert blurred[0, 0] == 0.0


def test_the_wrong_rank_or_an_unconvertible_value_is_a_type_error(client: shmrpc.Client) -> None:
    with pytest.raises(TypeError, match=r"needs an array of 2 dimensions; got shape \(2, 2, 2\)"):
        client.blur(np.ones((2, 2, 2), np.float32))
    with pytest.raises((TypeError, ValueError)):
        client.total([[1.0, 2.0], [3.0]])  # ragged
    assert client.total(np.arange(6, dtype=np.int32).reshape(2, 3)) == 15.0  # converted once
    assert client.add(2, 3) == 5
