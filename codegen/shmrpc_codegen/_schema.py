"""The JSON schema document (include/shmrpc/schema_json.hpp), read and checked.

:func:`load` turns the text that ``shmrpc schema NAME`` or ``server_example --schema`` writes into
frozen dataclasses, and raises :class:`SchemaError` naming the first thing that is wrong, by its
path in the document (``functions[3].arguments[0].type.kind``). Hashes are checked too: a hand-
edited signature without a matching layout key and hash is refused, so a stub never embeds a
hash that no server could have published.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from ._structured_kinds import STRUCTURED_KINDS, form

__all__ = [
    "Argument", "Definition", "Function", "Kind", "Schema", "SchemaError", "Type", "fnv1a", "load",
    "load_kinds",
]

FORMAT = "shmrpc-schema"
_FIXED_KINDS = ("array", "struct", "enum")
"""The structured kinds of fixed storage, for a kinds table without "storage"."""
FORMAT_VERSION = 1


class SchemaError(ValueError):
    """The schema document is not one codegen can use; the message says where and why."""


def fnv1a(text: str) -> int:
    """FNV-1a 64 of the UTF-8 bytes of `text` (docs/SPEC.md, section 5.6)."""
    value = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


@dataclass(frozen=True)
class Kind:
    """A wire-type kind as the document's "kinds" table describes it (include/shmrpc/
    type_kinds.hpp): the one description of each kind, from which the stubs take the C++ and
    Python spellings of scalars."""

    name: str
    kind_class: str
    """"bool", "signed_integer", "unsigned_integer", "float", "complex", "string", ..."""
    size: int
    """Bytes of a scalar; 0 for the kinds whose types have sizes of their own."""
    numpy: str
    python: str
    cxx: str
    min: int | None = None
    """The smallest value of an integer kind."""
    max: int | None = None
    """The largest value of an integer kind."""
    storage: str = ""
    """"fixed" (copied byte for byte: scalars, array, struct, enum), "variable" (a handle to
    memory outside the slot: string, vector, map, ndarray, span), "composite" (optional,
    tuple), "none" (void); empty when the document does not say."""

    @property
    def is_fixed(self) -> bool:
        """A kind of fixed storage, whose values a numpy array can hold."""
        if self.storage:
            return self.storage == "fixed"
        return self.is_scalar or self.name in _FIXED_KINDS

    @property
    def is_scalar(self) -> bool:
        return self.size != 0

    @property
    def is_integer(self) -> bool:
        return self.kind_class in ("signed_integer", "unsigned_integer")

    @property
    def numpy_format(self) -> str:
        """numpy's format string, little-endian like every machine shmrpc runs on."""
        if self.kind_class == "bool":
            return "?"
        code = {"signed_integer": "i", "unsigned_integer": "u", "float": "f",
                "complex": "c"}[self.kind_class]
        return f"{'<' if self.size > 1 else ''}{code}{self.size}"


@dataclass(frozen=True)
class Type:
    """A type as a function's argument, result or a field uses it."""

    kind: str
    size: int
    align: int
    traits: Kind | None = field(default=None, compare=False, repr=False)
    """The kind's entry of the "kinds" table."""
    name: str = ""
    """struct and enum: the C++ name, e.g. ``"demo::Particle"`` (the definition is in
    :attr:`Schema.types`)."""
    element: Type | None = None
    """array, span, vector, optional, ndarray: the element type."""
    count: int = 0
    """array: the number of elements."""
    mutable: bool = False
    """span: the function writes into it (``std::span<T>``, not ``std::span<const T>``)."""
    elements: tuple[tuple[int, Type], ...] = ()
    """tuple: (offset, type) of each element; map: of its key and its value, at their offsets
    in an entry."""

    @property
    def is_fixed(self) -> bool:
        """A value of fixed storage (numbers, enums, arrays, structs): in Python, a vector of it
        is a numpy array; of any other element, a list."""
        return self.traits is not None and self.traits.is_fixed


@dataclass(frozen=True)
class Field:
    name: str
    offset: int
    type: Type


@dataclass(frozen=True)
class Definition:
    """A struct (fields) or an enum (underlying type and members)."""

    kind: str
    name: str
    size: int
    align: int
    fields: tuple[Field, ...] = ()
    underlying: Type | None = None
    members: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Argument:
    name: str
    type: Type


@dataclass(frozen=True)
class Function:
    name: str
    doc: str
    signature: str
    signature_hash: int
    layout: str
    arguments: tuple[Argument, ...]
    returns: Type
    streams: bool = False
    """The function streams elements of type `returns` (docs/SPEC.md, section 7.8)."""


@dataclass(frozen=True)
class Schema:
    server: str
    format_version: int
    layout_hash: int
    functions: tuple[Function, ...]
    types: dict[str, Definition] = field(default_factory=dict)
    """Structs and enums by C++ name, each after the definitions it uses."""
    kinds: dict[str, Kind] = field(default_factory=dict)
    """The document's "kinds" table, by kind name."""


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.defined: dict[str, Definition] = {}
        self.kinds: dict[str, Kind] = {}

    def kind_table(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_json_type(value)}")
        for name, entry in value.items():
            at = f"{where}[{name!r}]"
            kind = Kind(name, self.get(entry, "class", str, at), self.size(entry, "size", at),
                        self.get(entry, "numpy", str, at), self.get(entry, "python", str, at),
                        self.get(entry, "cxx", str, at))
            if kind.is_integer:
                kind = dataclasses.replace(kind, min=self.get(entry, "min", int, at),
                                           max=self.get(entry, "max", int, at))
            if "storage" in entry:
                kind = dataclasses.replace(kind, storage=self.get(entry, "storage", str, at))
            if kind.is_scalar and kind.kind_class not in (
                    "bool", "signed_integer", "unsigned_integer", "float", "complex"):
                raise self.fail(f"{at}.class", f"a kind of size {kind.size} is a number or bool, "
                                               f"not {kind.kind_class!r}")
            self.kinds[name] = kind
        required = {name for name, row in STRUCTURED_KINDS.items() if row.in_every_table}
        missing = required.union({"void"}).difference(self.kinds)
        if missing:
            raise self.fail(where, f"the kinds {', '.join(sorted(missing))} are missing")

    def fail(self, where: str, message: str) -> SchemaError:
        return SchemaError(f"shmrpc codegen: {self.source}: {where}: {message}")

    def get(self, value: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_json_type(value)}")
        if key not in value:
            raise self.fail(where, f"missing key {key!r}")
        item = value[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python; a JSON true is never a number here.
        if not isinstance(item, kinds) or (isinstance(item, bool) and bool not in kinds):
            expected = " or ".join(_TYPE_WORDS[k] for k in kinds)
            raise self.fail(f"{where}.{key}", f"expected {expected}, got {_json_type(item)}")
        return item

    def hex(self, value: Any, key: str, where: str) -> int:
        text = self.get(value, key, str, where)
        try:
            if not text.startswith("0x"):
                raise ValueError(text)
            return int(text, 16)
        except ValueError:
            raise self.fail(f"{where}.{key}", f"expected a hex number like \"0x1f\", got {text!r}")

    def size(self, value: Any, key: str, where: str) -> int:
        number: int = self.get(value, key, int, where)
        if number < 0:
            raise self.fail(f"{where}.{key}", f"expected a non-negative number, got {number}")
        return number

    def type(self, value: Any, where: str) -> Type:
        kind = self.get(value, "kind", str, where)
        traits = self.kinds.get(kind)
        if traits is None:
            raise self.fail(f"{where}.kind", f"unknown type kind {kind!r} (known: "
                                             f"{', '.join(sorted(self.kinds))})")
        size = self.size(value, "size", where)
        align = self.size(value, "align", where)
        row = form(kind)
        keys = row.keys  # which keys the kind carries (_structured_kinds.py)
        if "name" in keys:
            name = self.get(value, "name", str, where)
            definition = self.defined.get(name)
            if definition is None or definition.kind != kind:
                raise self.fail(f"{where}.name", f"{kind} {name!r} is not defined in \"types\" "
                                                 "(before its use)")
            if (definition.size, definition.align) != (size, align):
                raise self.fail(where, f"{name} has size {size} and align {align} here but "
                                       f"{definition.size} and {definition.align} in \"types\"")
            return Type(kind, size, align, traits, name=name)
        element = self.type(self.get(value, "element", dict, where), f"{where}.element") \
            if "element" in keys else None
        count = self.size(value, "count", where) if "count" in keys else 0
        mutable = self.get(value, "mutable", bool, where) if "mutable" in keys else False
        elements: tuple[tuple[int, Type], ...] = ()
        if "elements" in keys:
            items = self.get(value, "elements", list, where)
            if row.element_count is not None and len(items) != row.element_count:
                raise self.fail(f"{where}.elements", _element_count_error(kind, row.element_count,
                                                                           len(items)))
            elements = tuple(
                (self.size(item, "offset", f"{where}.elements[{i}]"),
                 self.type(self.get(item, "type", dict, f"{where}.elements[{i}]"),
                           f"{where}.elements[{i}].type"))
                for i, item in enumerate(items)
            )
        return Type(kind, size, align, traits, element=element, count=count, mutable=mutable,
                    elements=elements)

    def definition(self, name: str, value: Any, where: str) -> Definition:
        kind = self.get(value, "kind", str, where)
        size = self.size(value, "size", where)
        align = self.size(value, "align", where)
        if kind == "struct":
            fields = []
            for i, item in enumerate(self.get(value, "fields", list, where)):
                at = f"{where}.fields[{i}]"
                fields.append(Field(_identifier(self, self.get(item, "name", str, at), f"{at}.name"),
                                    self.size(item, "offset", at),
                                    self.type(self.get(item, "type", dict, at), f"{at}.type")))
            return Definition(kind, name, size, align, fields=tuple(fields))
        if kind == "enum":
            underlying = self.type(self.get(value, "underlying", dict, where), f"{where}.underlying")
            if underlying.traits is None or not underlying.traits.is_integer:
                raise self.fail(f"{where}.underlying", f"expected an integer type, got "
                                                       f"{underlying.kind!r}")
            members = []
            for i, item in enumerate(self.get(value, "members", list, where)):
                at = f"{where}.members[{i}]"
                members.append((_identifier(self, self.get(item, "name", str, at), f"{at}.name"),
                                self.get(item, "value", int, at)))
            return Definition(kind, name, size, align, underlying=underlying,
                              members=tuple(members))
        raise self.fail(f"{where}.kind", f"expected \"struct\" or \"enum\", got {kind!r}")

    def function(self, value: Any, where: str) -> Function:
        name = _identifier(self, self.get(value, "name", str, where), f"{where}.name")
        arguments = []
        for i, item in enumerate(self.get(value, "arguments", list, where)):
            at = f"{where}.arguments[{i}]"
            arguments.append(Argument(_identifier(self, self.get(item, "name", str, at),
                                                  f"{at}.name"),
                                      self.type(self.get(item, "type", dict, at), f"{at}.type")))
        function = Function(
            name=name,
            doc=self.get(value, "doc", str, where),
            signature=self.get(value, "signature", str, where),
            signature_hash=self.hex(value, "signature_hash", where),
            layout=self.get(value, "layout", str, where),
            arguments=tuple(arguments),
            returns=self.type(self.get(value, "returns", dict, where), f"{where}.returns"),
            streams="streams" in value and self.get(value, "streams", bool, where),
        )
        if function.streams and function.returns.kind == "void":
            raise self.fail(f"{where}.streams", "a function that streams has elements of a "
                                                "type, not void")
        if fnv1a(function.layout) != function.signature_hash:
            raise self.fail(f"{where}.signature_hash",
                            f"{function.signature_hash:#018x} is not the hash of the layout key "
                            f"{function.layout!r} ({fnv1a(function.layout):#018x})")
        if not function.signature.startswith(name + "("):
            raise self.fail(f"{where}.signature", f"{function.signature!r} is not a signature "
                                                  f"of {name!r}")
        return function


def _element_count_error(kind: str, expected: int, got: int) -> str:
    if kind == "map":
        return f"a map has 2 elements, its key and its value; got {got}"
    return f"a {kind} has {expected} elements; got {got}"


_TYPE_WORDS = {str: "a string", int: "a number", bool: "true or false", list: "an array",
               dict: "an object"}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    for kind, word in _TYPE_WORDS.items():
        if isinstance(value, kind):
            return f"{word} ({json.dumps(value)[:40]})" if kind in (str, int) else word
    return "null" if value is None else type(value).__name__


def _identifier(reader: _Reader, name: str, where: str) -> str:
    if not name.isidentifier() or not name.isascii():
        raise reader.fail(where, f"{name!r} is not a C++ identifier")
    return name


def load_kinds(table: Any, source: str) -> dict[str, Kind]:
    """The kinds table alone (the "kinds" object of a schema document), read from `source`.
    Raises SchemaError."""
    reader = _Reader(source)
    reader.kind_table(table, "kinds")
    return reader.kinds


def load(text: str, source: str) -> Schema:
    """The schema document `text`, read from `source` (a file name or "server NAME", for
    messages). Raises SchemaError."""
    reader = _Reader(source)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SchemaError(f"shmrpc codegen: {source}: not JSON: {error}") from None
    where = "document"
    if reader.get(document, "format", str, where) != FORMAT:
        raise reader.fail(f"{where}.format", f"expected {FORMAT!r}, got {document['format']!r}: "
                                             "not an shmrpc schema")
    version = reader.get(document, "format_version", int, where)
    if version != FORMAT_VERSION:
        raise reader.fail(f"{where}.format_version",
                          f"this codegen reads version {FORMAT_VERSION}, the document is "
                          f"version {version}")
    server = reader.get(document, "server", str, where)
    layout_hash = reader.hex(document, "layout_hash", where)
    reader.kind_table(reader.get(document, "kinds", dict, where), f"{where}.kinds")
    for name, value in reader.get(document, "types", dict, where).items():
        reader.defined[name] = reader.definition(name, value, f"types[{name!r}]")
    functions = tuple(reader.function(value, f"functions[{i}]")
                      for i, value in enumerate(reader.get(document, "functions", list, where)))
    names = [function.name for function in functions]
    for name in names:
        if names.count(name) > 1:
            raise reader.fail("functions", f"function {name!r} appears twice")
    expected = fnv1a("".join(function.layout + "\n" for function in functions))
    if expected != layout_hash:
        raise reader.fail(f"{where}.layout_hash",
                          f"{layout_hash:#018x} is not the hash of the functions' layout keys "
                          f"({expected:#018x})")
    return Schema(server, version, layout_hash, functions, dict(reader.defined),
                  dict(reader.kinds))
