"""Python classes for a server's structs and enums, made from the metadata alone.

A C++ struct becomes a subclass of :class:`Record`: attribute access, keyword or positional
construction, equality, a readable repr, ``to_dict()``, and a ``dtype`` class attribute (the
numpy structured dtype with the server's field offsets and size), so that
``numpy.zeros(n, dtype=Particle)`` or ``client.empty(n, Particle)`` makes an array of them. A C++
enum becomes an :class:`enum.IntEnum`.
"""

from __future__ import annotations

import enum
import types
from typing import Any, ClassVar

import numpy as np

from .codegen._names import record_class_name

__all__ = ["Record", "annotation", "make_classes"]


class Record:
    """A value of a C++ struct. Subclasses are made per struct by :func:`make_classes`."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    cxx_name: ClassVar[str] = ""
    """The C++ name of the struct, e.g. ``"demo::Particle"``."""
    dtype: ClassVar[np.dtype[Any]]
    """The numpy structured dtype: the server's field names, offsets and size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(
                f"{type(self).__name__}() takes {len(fields)} fields ({', '.join(fields)}); "
                f"{len(args)} given"
            )
        values = dict(zip(fields, args))
        for name, value in kwargs.items():
            if name not in fields:
                raise TypeError(
                    f"{type(self).__name__} has no field {name!r} (its fields: "
                    f"{', '.join(fields)})"
                )
            if name in values:
                raise TypeError(f"{type(self).__name__}() got field {name!r} twice")
            values[name] = value
        missing = [name for name in fields if name not in values]
        if missing:
            raise TypeError(
                f"{type(self).__name__}() is missing field(s) {', '.join(missing)} (its fields: "
                f"{', '.join(fields)})"
            )
        for name in fields:
            object.__setattr__(self, name, values[name])

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (nested records stay records)."""
        return {name: getattr(self, name) for name in self._fields}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, name), getattr(other, name))
            if isinstance(getattr(self, name), np.ndarray)
            else getattr(self, name) == getattr(other, name)
            for name in self._fields
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"


def _int_enum(name: str, members: list[tuple[str, int]]) -> type:
    # Enum's functional API; mypy types any call of an enum class as a lookup of a member.
    return enum.IntEnum(name, members, module="shmrpc.types")  # type: ignore[return-value]


def make_classes(named_types: list[dict[str, Any]]) -> dict[str, type]:
    """Record and IntEnum classes for the descriptions of _core.Connection.named_types(), by C++
    name. Fields whose types are structs or enums are annotated with their classes."""
    classes: dict[str, type] = {}
    taken: set[str] = set()
    for entry in named_types:
        name = record_class_name(entry["name"], taken)
        taken.add(name)
        made: type
        if entry["kind"] == "enum":
            members = [(member, value) for member, value in entry["members"]]
            made = _int_enum(name, members)
            made.__doc__ = f"The C++ enum {entry['name']}."
        else:
            fields = tuple(field for field, _offset, _type in entry["fields"])
            annotations = {field: annotation(description, classes)
                           for field, _offset, description in entry["fields"]}
            made = type(name, (Record,), {
                "__slots__": fields,
                "__module__": "shmrpc.types",
                "__doc__": f"A record of the C++ struct {entry['name']} ({entry['size']} bytes).",
                "__annotations__": annotations,
                "_fields": fields,
                "cxx_name": entry["name"],
                "dtype": entry["dtype"],
            })
        classes[entry["name"]] = made
    return classes


# The categories of scalars and strings: the Python classes of their values.
_SIMPLE: dict[str, Any] = {
    "bool": bool,
    "int": int,
    "float": float,
    "complex": complex,
    "str": str,
}


def annotation(description: dict[str, Any], classes: dict[str, type]) -> Any:
    """The Python annotation of a type description of _core."""
    category = description["category"]
    if category == "void":
        return None
    if category in ("struct", "enum"):
        return classes[description["type"]]
    if category == "optional":
        return annotation(description["element"], classes) | None
    if category == "tuple":
        elements = tuple(annotation(element, classes) for element in description["elements"])
        return tuple[elements]  # type: ignore[valid-type]
    if category == "map":
        key, value = (annotation(part, classes) for part in description["elements"])
        return types.GenericAlias(dict, (key, value))
    if category == "vector" and description["dtype"] is None:
        return types.GenericAlias(list, (annotation(description["element"], classes),))
    if category in _SIMPLE:
        return _SIMPLE[category]
    # Any other kind with a dtype (array, span, vector) is a numpy array of it.
    if description["dtype"] is None:
        raise TypeError(f"shmrpc: no Python annotation for a {category}")
    return np.ndarray

