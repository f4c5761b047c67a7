"""The wire-type kinds, as the C++ table (include/shmrpc/type_kinds.hpp) describes them: the
"kinds" section of every schema document, here read from the extension."""

from __future__ import annotations

import json
from dataclasses import dataclass

from . import _core


@dataclass(frozen=True)
class Kind:
    name: str
    kind_class: str
    """"bool", "signed_integer", "unsigned_integer", "float", "complex", "string", ..."""
    size: int
    """Bytes of a scalar; 0 for kinds whose types have sizes of their own."""
    numpy: str
    python: str
    cxx: str
    min: int | None = None
    """The smallest value of an integer kind."""
    max: int | None = None
    """The largest value of an integer kind."""


def _load() -> dict[str, Kind]:
    table = json.loads(_core.kinds_json())
    return {
        name: Kind(name, entry["class"], entry["size"], entry["numpy"], entry["python"],
                   entry["cxx"], entry.get("min"), entry.get("max"))
        for name, entry in table.items()
    }


KINDS = _load()
"""Every kind, by its wire name ("int32", "array", ...)."""
