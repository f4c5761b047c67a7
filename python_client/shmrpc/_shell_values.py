"""Values of the command line's `call`: shell words parsed by the parameter types of the
server's metadata into what the Python client takes, and results turned into JSON.

    integers (decimal or 0x hex, range-checked), floats, complex numbers (1+2j), true/false,
    enums by enumerator name or value, strings as they are, arrays and spans as JSON lists,
    structs as JSON objects (every field, no other), optionals as null or a value

A word that does not fit its parameter raises ArgumentError, whose message names the argument,
what it takes and what was given.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any

import numpy as np

from ._client import ArgumentInfo
from ._records import Record

__all__ = ["ArgumentError", "human", "jsonable", "parse_argument"]


class ArgumentError(ValueError):
    """A shell word that is no value of its parameter's type."""


def jsonable(value: Any) -> Any:
    """A result as plain JSON data: numpy arrays become (nested) lists, records objects, enum
    values their enumerator's name, complex numbers [real, imag]."""
    if isinstance(value, np.ndarray):
        if value.dtype.names or value.dtype.kind == "c":
            return [jsonable(item) for item in value]
        return value.tolist()
    if isinstance(value, np.void) and value.dtype.names:
        return {name: jsonable(value[name]) for name in value.dtype.names}
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, Record):
        return {name: jsonable(item) for name, item in value.to_dict().items()}
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, complex):
        return [value.real, value.imag]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "_asdict"):  # namedtuple
        return {key: jsonable(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def human(value: Any) -> str:
    """A result for a person: strings as they are, everything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(jsonable(value))


_INTEGER_RANGES = {
    "int8": (-(2**7), 2**7 - 1), "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1), "uint16": (0, 2**16 - 1), "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}


def _parse_enum(text: str, cls: type[enum.IntEnum], kind: str, where: str) -> enum.IntEnum:
    """An enumerator by name (kBuy) or by value (0, 0x1)."""
    if text in cls.__members__:
        return cls[text]
    try:
        return cls(int(text, 0))
    except ValueError:
        members = ", ".join(f"{member.name} ({member.value})" for member in cls)
        raise ArgumentError(f"shmrpc: {where} is the enum {kind}: one of {members}; got {text!r}")


def _record_value(value: Any, dtype: np.dtype[Any], where: str) -> Any:
    """A JSON value for a field or element of `dtype` as numpy takes it: a struct's object
    becomes a tuple in field order; a missing or unknown field is a usage error."""
    if dtype.subdtype is not None:
        base, _shape = dtype.subdtype
        if base.names and isinstance(value, list):
            return [_record_value(item, base, where) for item in value]
        return value
    if not dtype.names:
        return value
    if not isinstance(value, dict):
        raise ArgumentError(f"shmrpc: {where} takes JSON objects with the fields "
                          f"{', '.join(dtype.names)}; got {json.dumps(value)}")
    missing = [name for name in dtype.names if name not in value]
    unknown = [name for name in value if name not in dtype.names]
    if missing or unknown:
        problem = (f"field {missing[0]!r} is missing" if missing
                   else f"there is no field {unknown[0]!r}")
        raise ArgumentError(f"shmrpc: {where}: {problem} (its fields: {', '.join(dtype.names)})")
    return tuple(_record_value(value[name], dtype.fields[name][0], where)  # type: ignore[index]
                 for name in dtype.names)


def parse_argument(text: str, argument: ArgumentInfo, annotation: Any, where: str) -> Any:
    """The Python value for shell word `text` of an argument of wire type `argument.type`;
    `annotation` is its Python annotation (the IntEnum class of an enum)."""
    kind = argument.type
    if isinstance(annotation, type) and issubclass(annotation, enum.IntEnum):
        return _parse_enum(text, annotation, kind, where)
    if kind in ("complex64", "complex128"):
        try:
            return complex(text.replace(" ", ""))
        except ValueError:
            raise ArgumentError(f"shmrpc: {where} is a complex number ({kind}) such as 1+2j; "
                              f"got {text!r}")
    if kind in _INTEGER_RANGES:
        try:
            value = int(text, 0) if text.strip().lower().lstrip("+-").startswith("0x") \
                else int(text)
        except ValueError:
            raise ArgumentError(f"shmrpc: {where} is an integer ({kind}); got {text!r}")
        low, high = _INTEGER_RANGES[kind]
        if not low <= value <= high:
            raise ArgumentError(f"shmrpc: {where} is {kind}, from {low} to {high}; got {value}")
        return value
    if kind in ("float32", "float64"):
        try:
            return float(text)
        except ValueError:
            raise ArgumentError(f"shmrpc: {where} is a number ({kind}); got {text!r}")
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ArgumentError(f"shmrpc: {where} is a bool: true or false; got {text!r}")
    if kind == "string":
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        example = "a JSON list such as [1, 2, 3]" if argument.dtype is not None else "JSON"
        raise ArgumentError(f"shmrpc: {where} ({kind}) takes {example}; got {text!r}")
    if isinstance(annotation, type) and issubclass(annotation, Record):
        if not isinstance(value, dict):
            raise ArgumentError(f"shmrpc: {where} ({kind}) takes a JSON object with the fields "
                              f"{', '.join(annotation._fields)}; got {text!r}")
        return value
    if argument.dtype is None:
        return value
    if not isinstance(value, list):
        raise ArgumentError(f"shmrpc: {where} ({kind}) takes a JSON list such as [1, 2, 3]; "
                          f"got {text!r}")
    if argument.dtype.kind == "c":
        value = _complex_elements(value, where)
    if argument.mutable:
        # The function writes into it: it must be a writable array of the exact dtype.
        try:
            return np.array([_record_value(item, argument.dtype, where) for item in value],
                            dtype=argument.dtype)
        except (TypeError, ValueError, OverflowError) as error:
            raise ArgumentError(f"shmrpc: {where} ({kind}): {error}")
    return value


def _complex_elements(value: list[Any], where: str) -> list[Any]:
    """JSON elements of a complex array: [real, imag] pairs or strings such as "1+2j"."""
    converted: list[Any] = []
    for item in value:
        if isinstance(item, str):
            try:
                converted.append(complex(item.replace(" ", "")))
                continue
            except ValueError:
                pass
        elif (isinstance(item, list) and len(item) == 2
              and all(isinstance(part, (int, float)) for part in item)):
            converted.append(complex(item[0], item[1]))
            continue
        elif isinstance(item, (int, float)):
            converted.append(item)
            continue
        raise ArgumentError(f"shmrpc: {where} takes complex numbers as [real, imag] or \"1+2j\"; "
                          f"got {json.dumps(item)}")
    return converted
