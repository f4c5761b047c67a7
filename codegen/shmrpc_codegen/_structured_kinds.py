"""What codegen knows of each structured kind: the keys its types carry in the JSON schema, and
its C++ and Python spellings as patterns that the stubs fill in.

The document's "kinds" table (include/shmrpc/type_kinds.hpp) gives the spellings of scalars,
void and string ("cxx", "python"); a structured kind (one with an element, members or a shape of
its own) is spelled from the spellings of its parts, so its row is here. Adding a structured
kind to codegen is adding its row (CONTRIBUTING.md, "Adding a type").

Pattern fields, filled in by :meth:`str.format_map` only when a pattern names them:

- C++: ``{name}`` (a struct's or enum's C++ name), ``{element}`` (the element's C++ type),
  ``{elements}`` (a tuple's or a map's, joined by ", "), ``{count}``, ``{rank}`` (``", N"`` for
  a count N, empty for 0), ``{const}`` (``"const "`` unless mutable), ``{value}`` (the value
  type, in a parameter pattern). Elements are spelled as values (:attr:`KindForm.cxx`) in a
  result, and as parts of a value taken (:attr:`KindForm.cxx_part_taken`) in a parameter.
- Python: ``{cls}`` (the record or enum class), ``{element}`` / ``{elements}`` (annotations of
  returned values), ``{element_parameter}`` / ``{element_parameters}`` (annotations of values
  taken), ``{element_numpy}`` (the numpy scalar type of an array of the element),
  ``{or_sequence}`` (``" | typing.Sequence[...]"`` of the element unless mutable: a function
  that writes into a value needs a numpy array, which sees the writes), ``{value}``.

A vector of a fixed element (storage "fixed" in the kinds table: numbers, enums, std::array,
structs) is a numpy array in Python; a vector of any other element is a list, spelled by
:attr:`KindForm.python_list` and :attr:`KindForm.python_list_parameter`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KEYS", "Fields", "KindForm", "STRUCTURED_KINDS", "form"]

KEYS = ("name", "element", "count", "mutable", "elements")
"""Every key a type's JSON object may carry besides "kind", "size" and "align"."""


@dataclass(frozen=True)
class KindForm:
    keys: tuple[str, ...] = ()
    """Which of :data:`KEYS` the JSON object of a type of the kind carries, all of them required:
    "name" (a reference to a definition in "types"), "element" (a type), "count" (a number),
    "mutable" (true or false), "elements" (a list of offset and type)."""
    cxx: str = ""
    """The C++ value type; empty: the "cxx" of the kinds table."""
    cxx_parameter: str = "{value}"
    """The C++ type of a parameter."""
    python: str = ""
    """The annotation of a returned value; empty: the "python" of the kinds table."""
    python_parameter: str = "{value}"
    """The annotation of a value taken."""
    python_list: str = ""
    """The annotation of a returned value whose element is not a fixed type (a Python list, not
    a numpy array); empty: :attr:`python` whatever the element."""
    python_list_parameter: str = ""
    """The annotation of a value taken whose element is not a fixed type; empty:
    :attr:`python_parameter`."""
    cxx_part_taken: str = ""
    """The C++ type of an element or member of a parameter (a part of a value the client
    passes), where it differs from :attr:`cxx` (an ndarray is a view there); empty: cxx."""
    element_count: int | None = None
    """How many entries "elements" holds (a map: 2, its key and its value); None: any number."""
    in_every_table: bool = True
    """Every schema document's "kinds" table has the kind; False for a kind newer than the
    oldest documents codegen reads (map), which a document that uses it lists."""


_BY_REFERENCE = "const {value}&"
_NDARRAY = "npt.NDArray[{element_numpy}]"
_OR_SEQUENCE = " | typing.Sequence[{element_parameter}]"

STRUCTURED_KINDS: dict[str, KindForm] = {
    "string": KindForm(cxx_parameter="std::string_view"),
    "array": KindForm(("element", "count"), "std::array<{element}, {count}>", _BY_REFERENCE,
                      _NDARRAY, _NDARRAY + _OR_SEQUENCE),
    "span": KindForm(("element", "mutable"), "std::span<{const}{element}>", "{value}", _NDARRAY,
                     _NDARRAY + "{or_sequence}"),
    "vector": KindForm(("element",), "std::vector<{element}>", _BY_REFERENCE, _NDARRAY,
                       _NDARRAY + _OR_SEQUENCE, python_list="list[{element}]",
                       python_list_parameter="typing.Sequence[{element_parameter}]"),
    "struct": KindForm(("name",), "{name}", _BY_REFERENCE, "{cls}"),
    "enum": KindForm(("name",), "{name}", "{value}", "{cls}"),
    "optional": KindForm(("element",), "std::optional<{element}>", _BY_REFERENCE,
                         "{element} | None", "{element_parameter} | None"),
    "tuple": KindForm(("elements",), "std::tuple<{elements}>", _BY_REFERENCE,
                      "tuple[{elements}]", "tuple[{element_parameters}]"),
    "ndarray": KindForm(("element", "count", "mutable"), "shmrpc::SharedNdArray<{element}{rank}>",
                        "shmrpc::ArrayView<{const}{element}{rank}>", _NDARRAY,
                        _NDARRAY + "{or_sequence}",
                        cxx_part_taken="shmrpc::ArrayView<{const}{element}{rank}>"),
    "map": KindForm(("elements",), "std::map<{elements}>", _BY_REFERENCE, "dict[{elements}]",
                    "typing.Mapping[{element_parameters}]", element_count=2,
                    in_every_table=False),
}
"""The kinds whose spellings are patterns, by wire name; string is here for its parameter."""

_SCALAR = KindForm()


def form(kind: str) -> KindForm:
    """The form of kind `kind`: its row, or for scalars and void the kinds table's spellings."""
    return STRUCTURED_KINDS.get(kind, _SCALAR)


class Fields(dict[str, object]):
    """Pattern fields computed when a pattern names them: each value is a function of no
    arguments, so that a field that does not apply to a type (the numpy type of a tuple) is never
    asked for."""

    def __getitem__(self, key: str) -> object:
        value = super().__getitem__(key)
        return value() if callable(value) else value
