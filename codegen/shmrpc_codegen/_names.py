"""Names in generated code: the default class name, and identifiers that must not clash with a
language's keywords or with the stub's own members. The shmrpc package names its dynamic
client's parameters and record classes with the same functions, so a stub and the client it wraps
agree."""

from __future__ import annotations

import keyword
import re

__all__ = ["class_name", "cxx_name", "parameter_name", "python_name", "record_class_name"]

_CXX_KEYWORDS = frozenset("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
char32_t class compl concept const consteval constexpr constinit const_cast continue co_await
co_return co_yield decltype default delete do double dynamic_cast else enum explicit export
extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq
nullptr operator or or_eq private protected public register reinterpret_cast requires return
short signed sizeof static static_assert static_cast struct switch template this thread_local
throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while
xor xor_eq
""".split())

# Members of the generated classes besides the functions.
_CXX_RESERVED = frozenset({"client", "connect"})
_PYTHON_RESERVED = frozenset({"client", "close"})


def class_name(server: str) -> str:
    """"demo" -> "DemoClient", "py-12-3" -> "Py123Client": the default stub class name."""
    parts = [part for part in re.split(r"[^0-9A-Za-z]+", server) if part]
    name = "".join(part[:1].upper() + part[1:] for part in parts) + "Client"
    return name if name[0].isalpha() else "Server" + name


def cxx_name(name: str) -> str:
    """`name` as a C++ member or parameter name: keywords and the stub's own members get a
    trailing underscore ("delete" -> "delete_")."""
    return name + "_" if name in _CXX_KEYWORDS or name in _CXX_RESERVED else name


def python_name(name: str) -> str:
    """`name` as a Python method name, renamed as :func:`cxx_name` does."""
    reserved = keyword.iskeyword(name) or name in _PYTHON_RESERVED or name.startswith("__")
    return name + "_" if reserved else name


def parameter_name(name: str, position: int) -> str:
    """The Python parameter name of argument `position` named `name` ("arg1" when `name` is
    no identifier or a keyword)."""
    if name.isidentifier() and not keyword.iskeyword(name):
        return name
    return f"arg{position}"


def record_class_name(cxx_name: str, taken: set[str]) -> str:
    """The Python class name of a C++ struct or enum: the last part of the C++ name, or the whole
    name joined by underscores if that is taken."""
    short = cxx_name.rsplit("::", 1)[-1]
    name = short if short.isidentifier() and short not in taken else cxx_name
    name = "".join(char if char.isalnum() or char == "_" else "_" for char in name)
    if not name.isidentifier() or keyword.iskeyword(name):
        name = f"T_{name}"
    return name
