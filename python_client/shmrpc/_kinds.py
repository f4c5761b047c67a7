"""The wire-type kinds, as the C++ table (include/shmrpc/type_kinds.hpp) describes them: the
"kinds" section of every schema document, here read from the extension with codegen's reader."""

from __future__ import annotations

import json

from . import _core
from .codegen._schema import Kind, load_kinds

__all__ = ["KINDS", "Kind"]

KINDS: dict[str, Kind] = load_kinds(json.loads(_core.kinds_json()), "shmrpc._core.kinds_json()")
"""Every kind, by its wire name ("int32", "array", ...)."""
