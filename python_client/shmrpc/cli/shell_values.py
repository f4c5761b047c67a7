"""Values of the command line's `call`: shell words parsed by the parameter types of the
server's metadata into what the Python client takes, and results turned into JSON.

    integers (ASCII digits with an optional sign, or 0x hex; range-checked), floats (ASCII
    decimal numbers, inf or nan), complex numbers (1+2j), true/false, enums by enumerator name or
    value, strings as they are, arrays and spans as JSON lists (numbers as JSON numbers, nested
    at most 64 levels deep), structs as JSON objects (every field, no other), optionals as null
    or a value, tuples as JSON lists of their elements

and, for values that nest (vectors, maps, and optionals and tuples that hold strings, vectors,
maps or ndarrays), one JSON text whose parts are written as JSON:

    vectors as JSON lists (of fixed elements as spans are: [1, 2, 3]; of strings ["a", "b"];
    of vectors [[1, 2], [3]]), maps with string keys as JSON objects ({"a": 1}) and maps with
    other keys as JSON lists of [key, value] pairs ([[1, "one"], [2, "two"]]), optionals as
    null or a value ("text" for an optional<string>), tuples as JSON lists (["a", [1.5]]),
    strings as JSON strings, enums by enumerator name ("kBuy") or value, structs as JSON objects,
    complex numbers as [real, imag] or "1+2j", ndarrays as nested JSON lists

Results become JSON (:func:`jsonable`) the same way: lists, dicts with string keys as objects
and other dicts as lists of [key, value] pairs, tuples as lists, numpy arrays as (nested) lists.

A word that does not fit its parameter raises ArgumentError, whose message names the argument,
what it takes and what was given.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import json
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._client import ArgumentInfo
from .._convert import FLOAT32_RANGE
from .._kinds import KINDS
from .._records import Record

__all__ = ["ArgumentError", "WireType", "human", "jsonable", "parse_argument", "wire_type"]


class ArgumentError(ValueError):
    """A shell word that is no value of its parameter's type."""


def jsonable(value: Any) -> Any:
    """A result as plain JSON data: numpy arrays become (nested) lists, records objects, enum
    values their enumerator's name, complex numbers [real, imag], tuples lists, dicts (maps)
    with string keys objects, other dicts lists of [key, value] pairs (in the dict's order)."""
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
        if all(isinstance(key, str) for key in value):
            return {key: jsonable(item) for key, item in value.items()}
        return [[jsonable(key), jsonable(item)] for key, item in value.items()]
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
        wire: WireType | None = wire_type(kind)
    except ValueError:  # a C++ name this reader does not know how to split: not a nested value
        wire = None
    if wire is not None and _nests(wire, argument):
        return _parse_nested(text, wire, annotation, where)
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


# --- nested values ------------------------------------------------------------------------------

@dataclass(frozen=True)
class WireType:
    """A wire type as its display name spells it (``map<string, vector<int32>>``): the kind, and
    the parts its name lists in brackets."""

    kind: str
    """The kind's wire name ("int32", "vector", "map", ...), or "named" for a struct or an enum
    (whose display name is its C++ name)."""
    text: str
    """The display name."""
    parts: tuple[WireType, ...] = ()
    """The element (array, span, vector, optional, ndarray), elements (tuple), or key and value
    (map)."""
    count: int = 0
    """array: the number of elements; ndarray: the rank (0: any)."""


# The kinds whose display names list parts in brackets (include/shmrpc/type_kinds.hpp).
_BRACKETED = ("array", "span", "vector", "optional", "tuple", "ndarray", "map")
_NAME = re.compile(r"\s*(?:const\s+)?([A-Za-z_][A-Za-z0-9_:]*|[0-9]+)\s*")
_VARIABLE = ("string", "vector", "map", "ndarray")
"""Kinds whose values lie outside their slot; an optional or tuple that holds one nests."""


def wire_type(text: str) -> WireType:
    """The structure of the display name `text` of a wire type; ValueError when it is none."""
    parsed, end = _wire_part(text, 0)
    if end != len(text):
        raise ValueError(f"not a wire type: {text!r}")
    return parsed


def _wire_part(text: str, start: int) -> tuple[WireType, int]:
    match = _NAME.match(text, start)
    if match is None:
        raise ValueError(f"not a wire type: {text!r}")
    head, at = match.group(1), match.end()
    parts: list[WireType] = []
    count = 0
    if at < len(text) and text[at] == "<":
        if head not in _BRACKETED:  # a templated struct's C++ name: the brackets are its name
            depth = 0
            for at in range(at, len(text)):
                depth += {"<": 1, ">": -1}.get(text[at], 0)
                if depth == 0:
                    break
            return WireType("named", text[start:at + 1].strip()), at + 1
        at += 1
        while True:
            number = re.match(r"\s*([0-9]+)\s*", text[at:])
            if number is not None and text[at + number.end():at + number.end() + 1] in ",>":
                count = int(number.group(1))
                at += number.end()
            else:
                part, at = _wire_part(text, at)
                parts.append(part)
            if at < len(text) and text[at] == ",":
                at += 1
                continue
            if at < len(text) and text[at] == ">":
                at += 1
                break
            raise ValueError(f"not a wire type: {text!r}")
        while at < len(text) and text[at] == " ":
            at += 1
    kind = head if head in _BRACKETED or head in KINDS or head == "string" else "named"
    return WireType(kind, text[start:at].strip(), tuple(parts), count), at


def _holds_variable(wire: WireType) -> bool:
    return wire.kind in _VARIABLE or any(_holds_variable(part) for part in wire.parts)


def _nests(wire: WireType, argument: ArgumentInfo) -> bool:
    """A parameter that takes a nested value: a vector (but one of fixed elements with a dtype
    is parsed as a span is), a map, an optional or tuple holding a string, vector, map or
    ndarray."""
    if wire.kind == "vector":
        return argument.dtype is None or not _is_fixed(wire.parts[0])
    if wire.kind == "map":
        return True
    return wire.kind in ("optional", "tuple") and _holds_variable(wire)


def _is_fixed(wire: WireType) -> bool:
    """A fixed type (numbers, bool, complex, enums, arrays, structs): a vector of it is a numpy
    array."""
    if wire.kind in ("array", "named"):
        return True
    traits = KINDS.get(wire.kind)
    return traits is not None and traits.is_scalar  # numbers, bool, complex


def _parse_nested(text: str, wire: WireType, annotation: Any, where: str) -> Any:
    try:
        value = _parse_json(text, wire.text, where)
    except json.JSONDecodeError:
        raise ArgumentError(f"shmrpc: {where} ({wire.text}) takes {_takes(wire, example=True)}; "
                            f"got {text!r}")
    return _nested_value(value, wire, annotation, where, "")


def _takes(wire: WireType, example: bool = False) -> str:
    """What JSON a value of `wire` is written as, for messages."""
    kind = wire.kind
    traits = KINDS.get(kind)
    if kind == "string":
        return "a JSON string"
    if kind == "bool":
        return "true or false"
    if traits is not None and traits.is_integer:
        return "a JSON integer"
    if traits is not None and traits.kind_class == "float":
        return "a JSON number"
    if traits is not None and traits.kind_class == "complex":
        return 'a complex number as [real, imag] or "1+2j"'
    if kind == "named":
        return "a JSON object (a struct) or an enumerator's name or value (an enum)"
    if kind == "optional":
        return f"null or {_takes(wire.parts[0], example)}"
    if kind == "tuple":
        return f"a JSON list of {len(wire.parts)} values ({', '.join(p.text for p in wire.parts)})"
    if kind == "map":
        key, value = wire.parts
        if key.kind == "string":
            return 'a JSON object such as {"key": value}' if example else \
                f"a JSON object of {value.text} values"
        if example:
            return "a JSON list of [key, value] pairs such as [[key1, value1], [key2, value2]]"
        return f"a JSON list of [key, value] pairs ({key.text}, {value.text})"
    if kind in ("vector", "array", "ndarray"):
        element = wire.parts[0] if wire.parts else None
        if example and element is not None and element.kind == "string":
            return 'a JSON list such as ["a", "b"]'
        if example and element is not None and element.kind in ("vector", "ndarray"):
            return "a JSON list of lists such as [[1, 2], [3]]"
        if example:
            return "a JSON list such as [1, 2, 3]"
        return f"a JSON list of {element.text} values" if element is not None else "a JSON list"
    return "JSON"


def _wrong(wire: WireType, value: Any, where: str, path: str) -> ArgumentError:
    at = f"{where}: {path} ({wire.text})" if path else f"{where} ({wire.text})"
    return ArgumentError(f"shmrpc: {at} takes {_takes(wire, example=not path)}; got "
                         f"{json.dumps(value)}")


def _sub_annotations(annotation: Any, wire: WireType) -> list[Any]:
    """The annotations of the parts of `wire` (its element, elements, or key and value) within
    `annotation` (``list[Side]``, ``dict[str, Side]``, ``Side | None``, ``tuple[...]``), where
    it spells them; None where it does not (numpy arrays)."""
    count = len(wire.parts)
    unknown = [None] * count
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if wire.kind == "optional":
        if origin in (typing.Union, types.UnionType):
            present = [a for a in arguments if a is not type(None)]
            return present if len(present) == 1 else unknown
        return unknown
    if wire.kind == "tuple" and origin is tuple and len(arguments) == count:
        return list(arguments)
    if wire.kind == "vector" and origin in (list, collections.abc.Sequence) and len(arguments) == 1:
        return list(arguments)
    if wire.kind == "map" and origin in (dict, collections.abc.Mapping) and len(arguments) == 2:
        return list(arguments)
    return unknown


def _nested_value(value: Any, wire: WireType, annotation: Any, where: str, path: str) -> Any:
    """JSON `value` for a value of `wire` as the Python client takes it: lists for vectors,
    dicts for maps, tuples for tuples, checked part by part (`path` names the part)."""
    kind = wire.kind
    parts = _sub_annotations(annotation, wire)
    if kind == "optional":
        return None if value is None else \
            _nested_value(value, wire.parts[0], parts[0], where, path)
    if kind == "tuple":
        if not isinstance(value, list) or len(value) != len(wire.parts):
            raise _wrong(wire, value, where, path)
        return tuple(_nested_value(item, part, sub, where, f"{path}[{i}]")
                     for i, (item, part, sub) in enumerate(zip(value, wire.parts, parts)))
    if kind in ("vector", "array"):
        if not isinstance(value, list) or (kind == "array" and len(value) != wire.count):
            raise _wrong(wire, value, where, path)
        return [_nested_value(item, wire.parts[0], parts[0], where, f"{path}[{i}]")
                for i, item in enumerate(value)]
    if kind == "map":
        return _map_value(value, wire, parts, where, path)
    if kind == "ndarray":
        return _ndarray_value(value, wire, where, path)
    if kind == "named":
        return _named_value(value, wire, annotation, where, path)
    return _scalar_value(value, wire, where, path)


def _map_value(value: Any, wire: WireType, parts: list[Any], where: str, path: str
               ) -> dict[Any, Any]:
    """A JSON object (string keys) or a JSON list of [key, value] pairs as a dict."""
    key_type, value_type = wire.parts
    if key_type.kind == "string":
        if not isinstance(value, dict):
            raise _wrong(wire, value, where, path)
        return {key: _nested_value(item, value_type, parts[1], where,
                                   f"{path}[{json.dumps(key)}]")
                for key, item in value.items()}
    if not isinstance(value, list):
        raise _wrong(wire, value, where, path)
    result: dict[Any, Any] = {}
    for i, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) != 2:
            at = f"{where}: {path}[{i}]" if path else f"{where} ({wire.text}): [{i}]"
            raise ArgumentError(f"shmrpc: {at} is not a [key, value] pair: {json.dumps(pair)} "
                                f"(a map of {key_type.text} keys takes a JSON list of [key, "
                                "value] pairs)")
        key = _hashable(_nested_value(pair[0], key_type, parts[0], where, f"{path}[{i}][0]"))
        if key in result:
            raise ArgumentError(f"shmrpc: {where}: {path}[{i}][0]: the key "
                                f"{json.dumps(pair[0])} appears twice")
        result[key] = _nested_value(pair[1], value_type, parts[1], where, f"{path}[{i}][1]")
    return result


def _hashable(key: Any) -> Any:
    """A map key as a dict key: lists (of vector or tuple keys) become tuples."""
    if isinstance(key, list):
        return tuple(_hashable(item) for item in key)
    if isinstance(key, dict):
        return tuple((name, _hashable(item)) for name, item in key.items())
    return key


def _ndarray_value(value: Any, wire: WireType, where: str, path: str) -> Any:
    """Nested JSON lists of numbers, checked as the element's dtype; complex numbers converted."""
    element = wire.parts[0]
    traits = KINDS.get(element.kind)
    if not isinstance(value, list) or traits is None or not traits.numpy:
        raise _wrong(wire, value, where, path)
    dtype = np.dtype(traits.numpy)
    if dtype.kind == "c":
        return _complex_nested(value, where)
    _check_numbers(value, dtype, where, path)
    return value


def _complex_nested(value: list[Any], where: str) -> list[Any]:
    """Complex elements of nested lists: the innermost lists hold [real, imag] pairs, strings
    such as "1+2j" or numbers."""
    def pair(item: Any) -> bool:
        return isinstance(item, list) and len(item) == 2 and all(
            isinstance(part, (int, float)) and not isinstance(part, bool) for part in item)

    if value and all(isinstance(item, list) and not pair(item) for item in value):
        return [_complex_nested(item, where) for item in value]
    return _complex_elements(value, where)


def _named_value(value: Any, wire: WireType, annotation: Any, where: str, path: str) -> Any:
    """A struct (a JSON object of its fields) or an enum (an enumerator's name or value)."""
    at = f"{where}: {path}" if path else where
    if isinstance(annotation, type) and issubclass(annotation, enum.IntEnum):
        if isinstance(value, str) and value in annotation.__members__:
            return annotation[value]
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return annotation(value)
            except ValueError:
                pass
        members = ", ".join(f"{member.name} ({member.value})" for member in annotation)
        raise ArgumentError(f"shmrpc: {at} is the enum {wire.text}: one of {members}; got "
                            f"{json.dumps(value)}")
    if isinstance(annotation, type) and issubclass(annotation, Record):
        fields = annotation._fields
        if not isinstance(value, dict):
            raise ArgumentError(f"shmrpc: {at} ({wire.text}) takes a JSON object with the fields "
                                f"{', '.join(fields)}; got {json.dumps(value)}")
        missing = [name for name in fields if name not in value]
        unknown = [name for name in value if name not in fields]
        if missing or unknown:
            problem = (f"field {missing[0]!r} is missing" if missing
                       else f"there is no field {unknown[0]!r}")
            raise ArgumentError(f"shmrpc: {at} ({wire.text}): {problem} (its fields: "
                                f"{', '.join(fields)})")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, dict)):  # the client checks more
        raise _wrong(wire, value, where, path)
    return value


def _scalar_value(value: Any, wire: WireType, where: str, path: str) -> Any:
    kind = wire.kind
    traits = KINDS.get(kind)
    if kind == "string":
        if not isinstance(value, str):
            raise _wrong(wire, value, where, path)
        return value
    if traits is None or not traits.numpy:
        raise ArgumentError(f"shmrpc: {where}: {path or 'the value'} is a {wire.text}, which "
                            "the command line cannot write")
    dtype = np.dtype(traits.numpy)
    if dtype.kind == "c":
        if isinstance(value, str):
            try:
                return complex(value.replace(" ", ""))
            except ValueError:
                pass
        elif (isinstance(value, list) and len(value) == 2
              and all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in value)):
            return complex(value[0], value[1])
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            return complex(value)
        raise _wrong(wire, value, where, path)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if (dtype.kind == "b" and not isinstance(value, bool)) or (dtype.kind != "b" and not number) \
            or (dtype.kind in "iu" and not isinstance(value, int)):
        raise _wrong(wire, value, where, path)
    _check_numbers(value, dtype, where, path or "the value")  # the range
    return float(value) if dtype.kind == "f" else value
