"""Values of the command line's `call`: shell words parsed by the parameter types of the
server's metadata into what the Python client takes, and results turned into JSON.

    integers (ASCII digits with an optional sign, or 0x hex; range-checked), floats (ASCII
    decimal numbers, inf or nan), complex numbers (1+2j), true/false, enums by enumerator name or
    value, strings as they are, arrays and spans as JSON lists (numbers as JSON numbers, nested
    at most 64 levels deep), structs as JSON objects (every field, no other), optionals as null
    or a value

A word that does not fit its parameter raises ArgumentError, whose message names the argument,
what it takes and what was given.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import re
from typing import Any

import numpy as np

from .._client import ArgumentInfo
from .._convert import FLOAT32_RANGE
from .._kinds import KINDS
from .._records import Record

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



# What the command line takes as numbers: ASCII only, no spaces or underscores (Python's int()
# and float() take ' 5', '5_000' and other scripts' digits, which a typo should not pass as).
_INTEGER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|[0-9]+)")
_FLOAT = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                    r"|(?i:inf|infinity|nan))")
_INTEGER_WORDS = "ASCII digits with an optional sign, or 0x hex"
_FLOAT64_RANGE = f"finite values up to {float(np.finfo(np.float64).max)!r} in magnitude"
# The smallest magnitude that rounds to inf in float32: 2^128 - 2^103.
_FLOAT32_OVERFLOW = float.fromhex("0x1.ffffffp127")

# JSON nested deeper than any wire type (at most 32 levels, SPEC 10.1) is a mistake; the limit
# keeps json and the conversions from recursing without bound.
MAX_JSON_DEPTH = 64
_JSON_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def _integer(text: str) -> int | None:
    """The value of an integer literal, or None when `text` is none."""
    if not _INTEGER.fullmatch(text):
        return None
    return int(text, 16) if "x" in text.lower() else int(text)


def _number(text: str, where: str) -> float:
    """A float literal: a finite value that does not fit float64 is an error, not inf."""
    value = float(text)
    if math.isinf(value) and "inf" not in text.lower():
        raise ArgumentError(f"shmrpc: {where}: {text} does not fit float64 ({_FLOAT64_RANGE})")
    return value


def _float_overflows(value: int | float, dtype: np.dtype[Any]) -> bool:
    """True when the JSON number `value` is finite but would be inf as a value of `dtype`."""
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float64
        return True
    return dtype == np.float32 and math.isfinite(number) and abs(number) >= _FLOAT32_OVERFLOW


def _json_depth(text: str) -> int:
    """How deep the arrays and objects of JSON `text` nest (brackets inside strings are text);
    stops counting past MAX_JSON_DEPTH."""
    depth = deepest = 0
    for match in _JSON_STRING_OR_BRACKET.finditer(text):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                break
        elif bracket in "]}":
            depth -= 1
    return deepest


def _parse_json(text: str, kind: str, where: str) -> Any:
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise ArgumentError(f"shmrpc: {where} ({kind}) nests JSON deeper than {MAX_JSON_DEPTH} "
                            "levels; no value of its type needs that many")
    return json.loads(text, parse_float=lambda literal: _number(literal, where))


def _check_numbers(value: Any, dtype: np.dtype[Any], where: str, path: str) -> None:
    """JSON `value` for a field or element of `dtype` holds numbers where the dtype has them: JSON
    numbers for floats, integers in range for integers, true/false for bools (numpy would take
    "2" for a float and 1 for a bool). Complex and other values are left to numpy."""
    if isinstance(value, list):
        base = dtype.subdtype[0] if dtype.subdtype is not None else dtype
        for i, item in enumerate(value):
            _check_numbers(item, base, where, f"{path}[{i}]")
        return
    if dtype.fields:
        if isinstance(value, dict):
            for name, item in value.items():
                if name in dtype.fields:
                    _check_numbers(item, dtype.fields[name][0], where, f"{path}.{name}")
        return
    kind = dtype.kind
    if kind == "f" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        wanted = "a JSON number"
    elif kind in "iu" and (isinstance(value, bool) or not isinstance(value, int)):
        wanted = "a JSON integer"
    elif kind == "b" and not isinstance(value, bool):
        wanted = "true or false"
    elif kind in "iu" and not np.iinfo(dtype).min <= value <= np.iinfo(dtype).max:
        wanted = f"an integer from {np.iinfo(dtype).min} to {np.iinfo(dtype).max}"
    elif kind == "f" and _float_overflows(value, dtype):
        limits = FLOAT32_RANGE if dtype == np.float32 else _FLOAT64_RANGE
        raise ArgumentError(f"shmrpc: {where}: {path} = {value!r} does not fit {dtype} ({limits})")
    else:
        return
    raise ArgumentError(f"shmrpc: {where}: {path} is {dtype}, which takes {wanted}; "
                        f"got {json.dumps(value)}")


def _parse_enum(text: str, cls: type[enum.IntEnum], kind: str, where: str) -> enum.IntEnum:
    """An enumerator by name (kBuy) or by value (0, 0x1)."""
    if text in cls.__members__:
        return cls[text]
    value = _integer(text)
    try:
        if value is not None:
            return cls(value)
    except ValueError:
        pass
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
    traits = KINDS.get(kind)
    if traits is not None and traits.kind_class == "complex":
        try:
            return complex(text.replace(" ", ""))
        except ValueError:
            raise ArgumentError(f"shmrpc: {where} is a complex number ({kind}) such as 1+2j; "
                              f"got {text!r}")
    if traits is not None and traits.min is not None and traits.max is not None:
        value = _integer(text)
        if value is None:
            raise ArgumentError(f"shmrpc: {where} is an integer ({kind}); got {text!r} "
                                f"(it takes {_INTEGER_WORDS})")
        low, high = traits.min, traits.max
        if not low <= value <= high:
            raise ArgumentError(f"shmrpc: {where} is {kind}, from {low} to {high}; got {value}")
        return value
    if traits is not None and traits.kind_class == "float":
        if not _FLOAT.fullmatch(text):
            raise ArgumentError(f"shmrpc: {where} is a number ({kind}); got {text!r} (it takes "
                                "ASCII decimal digits with an optional sign, point and exponent, "
                                "or inf or nan)")
        return _number(text, where)
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
        value = _parse_json(text, kind, where)
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
        # The function writes into it: it must be a writable array of the exact dtype, which
        # numpy would convert strings and bools to; the client checks the other values.
        _check_numbers(value, argument.dtype, where, "")
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
