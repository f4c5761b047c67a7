"""Array-like arguments that shmrpc._core cannot pass as they are.

_core passes a numpy array straight through when it has the parameter's exact dtype and shape,
is C-contiguous and (for a span<T> the function writes to) writable. Everything else comes here:
sequences and other array-likes are converted to the parameter's dtype without losing values,
non-contiguous arrays are copied for read-only parameters, and everything that cannot work is
explained with a TypeError or OverflowError.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib import recfunctions


# What a float32 (or each part of a complex64) takes: rounding is fine, overflow to inf is not.
FLOAT32_RANGE = (
    f"finite values from {-float(np.finfo(np.float32).max)!r} to "
    f"{float(np.finfo(np.float32).max)!r}; inf and nan are allowed"
)


def _shape_text(shape: tuple[int | None, ...]) -> str:
    dims = ["n" if dim is None else str(dim) for dim in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _matches(actual: tuple[int, ...], expected: tuple[int | None, ...]) -> bool:
    return len(actual) == len(expected) and all(
        want is None or have == want for have, want in zip(actual, expected)
    )


def _from_array_like(value: Any, dtype: np.dtype[Any], where: str) -> np.ndarray[Any, Any]:
    """Converts a sequence (or other array-like) to dtype, refusing lossy conversions."""
    wanted = f"a numpy array of dtype {dtype} or a sequence of {_element_words(dtype)}"
    if isinstance(value, (str, bytes, bytearray)):
        raise TypeError(f"shmrpc: {where} needs {wanted}; got a {type(value).__name__}")
    try:
        natural = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"shmrpc: {where} needs {wanted}; got {type(value).__name__}: {error}"
        ) from None
    if natural.ndim == 0:
        raise TypeError(f"shmrpc: {where} needs {wanted}; got {type(value).__name__}")
    if natural.size == 0:
        return natural.astype(dtype)
    kind = natural.dtype.kind
    if kind == "O" and dtype.kind in "iu" and all(
        isinstance(item, int) and not isinstance(item, bool) for item in natural.flat
    ):
        raise OverflowError(f"shmrpc: {where}: an element does not fit {dtype}")
    if kind == "O" and dtype.kind in "fc" and all(
        isinstance(item, (int, float)) and not isinstance(item, bool) for item in natural.flat
    ):
        # Integers beyond int64 and uint64 among them, for a floating-point parameter.
        try:
            natural = natural.astype(np.float64)
        except OverflowError:
            raise OverflowError(
                f"shmrpc: {where}: an element does not fit {dtype} (finite values up to "
                f"{float(np.finfo(np.float64).max)!r} in magnitude)"
            ) from None
        kind = "f"
    allowed = {"b": "b", "i": "iu", "u": "iu", "f": "iuf", "c": "iufc"}[dtype.kind]
    if kind not in allowed:
        raise TypeError(f"shmrpc: {where} needs {wanted}; got elements of dtype {natural.dtype}")
    if dtype.kind in "iu" and natural.dtype != dtype:
        limits = np.iinfo(dtype)
        low, high = int(natural.min()), int(natural.max())
        if low < limits.min or high > limits.max:
            bad = low if low < limits.min else high
            raise OverflowError(f"shmrpc: {where}: element {bad} does not fit {dtype}")
    if dtype in (np.float32, np.complex64):
        return _to_float32(natural, dtype, where)
    return natural.astype(dtype)


def _to_float32(natural: np.ndarray[Any, Any], dtype: np.dtype[Any],
                where: str) -> np.ndarray[Any, Any]:
    """`natural` rounded to float32 or complex64 (`dtype`). A finite value that would become inf
    is an OverflowError, as an integer that does not fit is: rounding changes a value a little,
    overflow changes it completely."""
    with np.errstate(over="ignore", invalid="ignore"):
        converted = natural.astype(dtype)
    if dtype.kind == "c":
        overflow = (np.isinf(converted.real) & np.isfinite(natural.real)) | (
            np.isinf(converted.imag) & np.isfinite(natural.imag)
        )
    else:
        overflow = np.isinf(converted) & np.isfinite(natural)
    if overflow.any():
        index = tuple(int(i) for i in np.argwhere(overflow)[0])
        position = "[" + ", ".join(str(i) for i in index) + "]"
        element = natural[index].item()
        raise OverflowError(
            f"shmrpc: {where}: element {position} = {element!r} does not fit {dtype} "
            f"({FLOAT32_RANGE})"
        )
    return converted


def _element_words(dtype: np.dtype[Any]) -> str:
    return {"b": "bools", "i": "integers", "u": "integers", "f": "numbers",
            "c": "complex numbers"}[dtype.kind]


def argument_array(
    value: Any,
    dtype: np.dtype[Any],
    shape: tuple[int | None, ...],
    mutable: bool,
    where: str,
) -> np.ndarray[Any, Any]:
    """A C-contiguous array of `dtype` and `shape` (None: any length) for the argument `where`.

    `mutable`: the function writes into the argument (std::span<T>), so only a writable,
    C-contiguous numpy array of the exact dtype will do: a converted copy would take the results
    and be thrown away.
    """
    if isinstance(value, np.ndarray):
        if value.dtype != dtype:
            raise TypeError(
                f"shmrpc: {where} needs an array of dtype {dtype}; got dtype {value.dtype} "
                f"(convert it with .astype(numpy.{dtype}))"
            )
        if not _matches(value.shape, shape):
            raise TypeError(
                f"shmrpc: {where} needs an array of shape {_shape_text(shape)}; "
                f"got shape {value.shape}"
            )
        if mutable and not value.flags.writeable:
            raise TypeError(f"shmrpc: {where} is written in place, so it needs a writable array")
        if mutable:
            raise TypeError(
                f"shmrpc: {where} is written in place, so it needs a C-contiguous array; this "
                "one is a non-contiguous view (pass numpy.ascontiguousarray(x) and read the "
                "results from that copy)"
            )
        return np.ascontiguousarray(value)
    if mutable:
        raise TypeError(
            f"shmrpc: {where} is written in place, so it needs a writable numpy array of dtype "
            f"{dtype}; a {type(value).__name__} cannot receive the results"
        )
    array = _from_array_like(value, dtype, where)
    if array.size == 0 and len(shape) > 1 and array.shape == (0,):
        array = array.reshape((0,) + tuple(dim or 0 for dim in shape[1:]))
    if not _matches(array.shape, shape):
        raise TypeError(
            f"shmrpc: {where} needs shape {_shape_text(shape)}; got a {type(value).__name__} of "
            f"shape {array.shape}"
        )
    return np.ascontiguousarray(array)


def structured_array(value: np.ndarray[Any, Any], dtype: np.dtype[Any],
                     where: str) -> np.ndarray[Any, Any]:
    """A one-dimensional array of `dtype` (a struct's) from an array of another structured dtype
    with the same field names, copied field by field."""
    names = dtype.names or ()
    if value.dtype.names is None or set(value.dtype.names) != set(names):
        raise TypeError(
            f"shmrpc: {where} needs an array of dtype {dtype} (fields {', '.join(names)}) or a "
            f"sequence of records or dicts; got an array of dtype {value.dtype}"
        )
    if value.ndim != 1:
        raise TypeError(f"shmrpc: {where} needs a one-dimensional array; got shape {value.shape}")
    converted = np.empty(value.shape, dtype)
    recfunctions.assign_fields_by_name(converted, value)
    return converted
