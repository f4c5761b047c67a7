"""Codegen for nested values (format 4): vectors of any value type, also as parameters; maps;
optionals and tuples of strings, vectors and maps. Schema documents are built here and read with
codegen's own reader, so nothing needs a server or a build: the stub spellings are compared
exactly, and the generated Python compiles."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "codegen"))  # the checkout's generator, standard library alone

from shmrpc_codegen import (  # noqa: E402
    SchemaError, generate_cpp, generate_pyi, generate_python, load)
from shmrpc_codegen._schema import fnv1a  # noqa: E402

GOLDEN_TYPES = ROOT / "tests" / "codegen" / "golden" / "types.json"
MAP_ROW = {"class": "map", "storage": "variable", "size": 0, "numpy": "", "python": "", "cxx": ""}


def kinds(with_map: bool = True) -> dict[str, Any]:
    """The kinds table of today's documents, with the row of map (format 4)."""
    table: dict[str, Any] = json.loads(GOLDEN_TYPES.read_text())["kinds"]
    return {**table, "map": MAP_ROW} if with_map else table


def scalar(kind: str, size: int) -> dict[str, Any]:
    return {"kind": kind, "size": size, "align": size}


STRING = {"kind": "string", "size": 24, "align": 8}
INT32 = scalar("int32", 4)
INT64 = scalar("int64", 8)
FLOAT64 = scalar("float64", 8)
SIDE = {"kind": "enum", "name": "demo::Side", "size": 1, "align": 1}
POINT = {"kind": "struct", "name": "demo::Point", "size": 16, "align": 8}
TYPES = {
    "demo::Side": {"kind": "enum", "size": 1, "align": 1, "underlying": scalar("uint8", 1),
                   "members": [{"name": "kBuy", "value": 1}, {"name": "kSell", "value": 2}]},
    "demo::Point": {"kind": "struct", "size": 16, "align": 8, "fields": [
        {"name": "x", "offset": 0, "type": FLOAT64}, {"name": "y", "offset": 8, "type": FLOAT64}]},
}


def vector(element: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "vector", "size": 24, "align": 8, "element": element}


def optional(element: dict[str, Any], size: int = 32) -> dict[str, Any]:
    return {"kind": "optional", "size": size, "align": 8, "element": element}


def tuple_(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "tuple", "size": 24 * len(elements), "align": 8,
            "elements": [{"offset": 24 * i, "type": e} for i, e in enumerate(elements)]}


def map_(key: dict[str, Any], value: dict[str, Any], *more: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "map", "size": 24, "align": 8,
            "elements": [{"offset": 24 * i, "type": e} for i, e in enumerate([key, value, *more])]}


def ndarray(element: dict[str, Any], rank: int, mutable: bool = False) -> dict[str, Any]:
    return {"kind": "ndarray", "size": 16 + 16 * rank, "align": 8, "element": element,
            "count": rank, "mutable": mutable}


def document(functions: list[tuple[str, list[dict[str, Any]], dict[str, Any]]],
             table: dict[str, Any] | None = None) -> str:
    """A schema document of functions (name, argument types, result type) with valid hashes;
    the layout keys are made up (codegen only checks that the hashes match them)."""
    entries: list[dict[str, Any]] = []
    for name, arguments, returns in functions:
        signature = f"{name}(" + ", ".join(f"a{i}: t" for i in range(len(arguments))) + ") -> t"
        layout = f"{signature} #{fnv1a(json.dumps([arguments, returns], sort_keys=True)):x}"
        entries.append({"name": name, "doc": "", "signature": signature,
                        "signature_hash": f"{fnv1a(layout):#018x}", "layout": layout,
                        "arguments": [{"name": f"a{i}", "type": t}
                                      for i, t in enumerate(arguments)],
                        "returns": returns})
    layout_hash = fnv1a("".join(entry["layout"] + "\n" for entry in entries))
    return json.dumps({"format": "shmrpc-schema", "format_version": 1, "server": "nested",
                       "layout_hash": f"{layout_hash:#018x}",
                       "kinds": kinds() if table is None else table,
                       "types": TYPES, "functions": entries})


def spellings(parameter: dict[str, Any], result: dict[str, Any]) -> tuple[str, str, str, str]:
    """(C++ parameter, C++ result, Python parameter, Python result) of `parameter` taken by and
    `result` returned by one function, as the generated stubs write them (the method's lines
    joined where they wrap)."""
    schema = load(document([("f", [parameter], result)]), "test")
    cpp = _joined(generate_cpp(schema))
    head = next(line for line in cpp if " f(" in line and " a0)" in line)
    cpp_result, cpp_parameter = head.strip().split(" f(", 1)
    cpp_parameter = cpp_parameter.split(" a0)", 1)[0]
    method = next(line for line in _joined(generate_pyi(schema)) if line.startswith("    def f("))
    py_parameter = method.split("a0: ", 1)[1].rsplit(") -> ", 1)[0]
    py_result = method.rsplit(") -> ", 1)[1].removesuffix(":")
    return cpp_parameter, cpp_result, py_parameter, py_result


def _joined(text: str) -> list[str]:
    """The lines of `text`, with a declaration wrapped after "(" (or a def after ",") joined."""
    lines: list[str] = []
    for line in text.splitlines():
        if lines and lines[-1].endswith("("):
            lines[-1] += line.strip()
        elif lines and lines[-1].endswith(",") and lines[-1].lstrip().startswith("def "):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


# --- spellings ----------------------------------------------------------------------------------

def test_vector_of_strings() -> None:
    assert spellings(vector(STRING), vector(STRING)) == (
        "const std::vector<std::string>&", "std::vector<std::string>",
        "typing.Sequence[str]", "list[str]")


def test_vector_of_fixed_elements_is_a_numpy_array_and_a_parameter_takes_sequences() -> None:
    assert spellings(vector(FLOAT64), vector(FLOAT64)) == (
        "const std::vector<double>&", "std::vector<double>",
        "npt.NDArray[np.float64] | typing.Sequence[float]", "npt.NDArray[np.float64]")
    assert spellings(vector(POINT), vector(SIDE)) == (
        "const std::vector<demo::Point>&", "std::vector<demo::Side>",
        "npt.NDArray[np.void] | typing.Sequence[Point]", "npt.NDArray[np.uint8]")


def test_vector_of_vectors() -> None:
    assert spellings(vector(vector(FLOAT64)), vector(vector(STRING))) == (
        "const std::vector<std::vector<double>>&", "std::vector<std::vector<std::string>>",
        "typing.Sequence[npt.NDArray[np.float64] | typing.Sequence[float]]",
        "list[list[str]]")


def test_map() -> None:
    assert spellings(map_(STRING, INT32), map_(STRING, INT32)) == (
        "const std::map<std::string, std::int32_t>&", "std::map<std::string, std::int32_t>",
        "typing.Mapping[str, int]", "dict[str, int]")


def test_map_of_integer_keys_to_vectors() -> None:
    assert spellings(map_(INT64, vector(STRING)), map_(INT64, vector(FLOAT64))) == (
        "const std::map<std::int64_t, std::vector<std::string>>&",
        "std::map<std::int64_t, std::vector<double>>",
        "typing.Mapping[int, typing.Sequence[str]]",
        "dict[int, npt.NDArray[np.float64]]")


def test_tuple_of_a_string_and_a_vector() -> None:
    value = tuple_(STRING, vector(FLOAT64))
    assert spellings(value, value) == (
        "const std::tuple<std::string, std::vector<double>>&",
        "std::tuple<std::string, std::vector<double>>",
        "tuple[str, npt.NDArray[np.float64] | typing.Sequence[float]]",
        "tuple[str, npt.NDArray[np.float64]]")


def test_optional_of_a_string_and_of_a_map() -> None:
    assert spellings(optional(STRING), optional(STRING)) == (
        "const std::optional<std::string>&", "std::optional<std::string>",
        "str | None", "str | None")
    assert spellings(optional(map_(STRING, vector(STRING))), vector(optional(STRING))) == (
        "const std::optional<std::map<std::string, std::vector<std::string>>>&",
        "std::vector<std::optional<std::string>>",
        "typing.Mapping[str, typing.Sequence[str]] | None",
        "list[str | None]")


def test_vector_of_tuples_and_of_maps_is_a_list() -> None:
    assert spellings(vector(tuple_(STRING, INT32)), vector(map_(STRING, STRING))) == (
        "const std::vector<std::tuple<std::string, std::int32_t>>&",
        "std::vector<std::map<std::string, std::string>>",
        "typing.Sequence[tuple[str, int]]",
        "list[dict[str, str]]")


def test_ndarray_in_a_tuple_is_shared_as_a_result_and_a_view_as_a_parameter() -> None:
    value = tuple_(STRING, ndarray(FLOAT64, 2))
    assert spellings(value, value) == (
        "const std::tuple<std::string, shmrpc::ArrayView<const double, 2>>&",
        "std::tuple<std::string, shmrpc::SharedNdArray<double, 2>>",
        "tuple[str, npt.NDArray[np.float64] | typing.Sequence[float]]",
        "tuple[str, npt.NDArray[np.float64]]")
    assert spellings(vector(ndarray(INT32, 0)), vector(ndarray(INT32, 1))) == (
        "const std::vector<shmrpc::ArrayView<const std::int32_t>>&",
        "std::vector<shmrpc::SharedNdArray<std::int32_t, 1>>",
        "typing.Sequence[npt.NDArray[np.int32] | typing.Sequence[int]]",
        "list[npt.NDArray[np.int32]]")


def test_the_callable_annotation_of_the_module_matches_the_stub() -> None:
    schema = load(document([("f", [vector(STRING)], map_(STRING, INT32))]), "test")
    module = generate_python(schema)
    assert ("    _f: typing.Callable[[typing.Sequence[str]], dict[str, int]]"
            in module.splitlines())
    assert "    def f(self, a0: typing.Sequence[str]) -> dict[str, int]:" in module.splitlines()


# --- headers and the generated text -----------------------------------------------------------

def test_the_header_includes_map_only_when_a_function_uses_one() -> None:
    with_map = generate_cpp(load(document([("f", [vector(map_(STRING, INT32))], INT32)]), "t"))
    includes = [line for line in with_map.splitlines() if line.startswith("#include <")]
    assert includes == [f"#include <{header}>" for header in [
        "array", "complex", "cstddef", "cstdint", "map", "optional", "span", "string",
        "string_view", "tuple", "type_traits", "vector"]]
    without = generate_cpp(load(document([("f", [vector(STRING)], INT32)]), "t"))
    assert "#include <map>" not in without


NESTED_FUNCTIONS = [
    ("strings", [vector(STRING)], vector(vector(STRING))),
    ("counts", [map_(STRING, INT32)], map_(INT64, vector(FLOAT64))),
    ("pair", [tuple_(STRING, vector(FLOAT64))], optional(map_(STRING, STRING))),
    ("points", [vector(POINT), optional(vector(SIDE))], tuple_(STRING, ndarray(FLOAT64, 2))),
    ("long_names", [map_(STRING, vector(tuple_(STRING, INT32))), vector(map_(INT64, STRING))],
     map_(STRING, vector(optional(STRING)))),
]


def test_the_generated_python_compiles() -> None:
    schema = load(document(NESTED_FUNCTIONS), "test")
    for name, text in (("stub.py", generate_python(schema)), ("stub.pyi", generate_pyi(schema))):
        compile(text, name, "exec")


def test_the_generated_python_passes_mypy_strict(tmp_path: Path) -> None:
    """The stub and its .pyi type-check against the shmrpc package on PYTHONPATH, and a caller
    passes plain lists, tuples and dicts where the parameters take sequences and mappings."""
    pytest.importorskip("mypy")
    import shmrpc  # the package the stub imports; conftest imports it anyway

    schema = load(document(NESTED_FUNCTIONS), "test")
    (tmp_path / "module").mkdir()
    (tmp_path / "module" / "nested_client.py").write_text(generate_python(schema))
    (tmp_path / "stub").mkdir()
    (tmp_path / "stub" / "nested_client.pyi").write_text(generate_pyi(schema))
    (tmp_path / "stub" / "caller.py").write_text(
        "import numpy as np\n"
        "import numpy.typing as npt\n"
        "import nested_client\n\n\n"
        "def call(client: nested_client.NestedClient) -> None:\n"
        "    words: list[list[str]] = client.strings(['a', 'b'])\n"
        "    counts: dict[int, npt.NDArray[np.float64]] = client.counts({'a': 1})\n"
        "    pair: dict[str, str] | None = client.pair(('a', [1.0, 2.0]))\n"
        "    text, grid = client.points([nested_client.Point(1.0, 2.0)], None)\n"
        "    more: dict[str, list[str | None]] = client.long_names({'k': [('v', 1)]}, [{1: 'x'}])\n"
        "    print(words, counts, pair, text, grid, more)\n")
    package = str(Path(shmrpc.__file__).resolve().parents[1])
    for directory, files in (("module", ["nested_client.py"]),
                             ("stub", ["nested_client.pyi", "caller.py"])):
        done = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
             "/dev/null", *files], cwd=tmp_path / directory, capture_output=True, text=True,
            timeout=300, env={"MYPYPATH": package, "PATH": "/usr/bin:/bin"})
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_header_is_formatted_as_clang_format_writes_it(tmp_path: Path) -> None:
    clang_format = shutil.which("clang-format-14") or shutil.which("clang-format")
    if clang_format is None:
        pytest.skip("clang-format is not installed (scripts/setup.sh installs it)")
    header = tmp_path / "nested_client.hpp"
    header.write_text(generate_cpp(load(document(NESTED_FUNCTIONS), "test")))
    shutil.copy(ROOT / ".clang-format", tmp_path / ".clang-format")
    done = subprocess.run([clang_format, "--dry-run", "--Werror", "--style=file", str(header)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_signature_alias_too_long_to_align_breaks_after_the_equals_sign() -> None:
    cpp = generate_cpp(load(document([("counts", [map_(STRING, INT32)],
                                       map_(INT64, vector(FLOAT64)))]), "test")).splitlines()
    at = cpp.index("  using CountsSignature =")
    assert cpp[at + 1] == ("      std::map<std::int64_t, std::vector<double>>("
                           "const std::map<std::string, std::int32_t>&);")


def test_output_depends_on_the_schema_alone() -> None:
    text = document([("f", [map_(STRING, vector(STRING))], vector(tuple_(STRING, INT32)))])
    assert generate_cpp(load(text, "a")) == generate_cpp(load(text, "a"))
    assert generate_python(load(text, "a")) == generate_python(load(text, "a"))


# --- the schema reader --------------------------------------------------------------------------

def test_a_map_has_exactly_two_elements() -> None:
    with pytest.raises(SchemaError) as error:
        load(document([("f", [map_(STRING, INT32, INT32)], INT32)]), "three.json")
    assert str(error.value) == (
        "shmrpc codegen: three.json: functions[0].arguments[0].type.elements: a map has 2 "
        "elements, its key and its value; got 3")
    one = {"kind": "map", "size": 24, "align": 8, "elements": [{"offset": 0, "type": STRING}]}
    with pytest.raises(SchemaError, match=r"functions\[0\]\.returns\.elements: a map has 2 "
                                          r"elements, its key and its value; got 1"):
        load(document([("f", [], one)]), "one.json")


def test_a_map_without_elements_is_refused() -> None:
    bad = {"kind": "map", "size": 24, "align": 8, "element": STRING}
    with pytest.raises(SchemaError, match=r"functions\[0\]\.returns: missing key 'elements'"):
        load(document([("f", [], bad)]), "bad.json")


def test_a_map_element_is_checked_as_any_type() -> None:
    bad = map_(STRING, {"kind": "hashmap", "size": 1, "align": 1})
    with pytest.raises(SchemaError, match=r"returns\.elements\[1\]\.type\.kind: unknown type "
                                          r"kind 'hashmap'"):
        load(document([("f", [], bad)]), "bad.json")


def test_map_is_read_with_its_key_and_value() -> None:
    schema = load(document([("f", [map_(STRING, vector(STRING))], INT32)]), "test")
    value = schema.functions[0].arguments[0].type
    assert value.kind == "map"
    assert [(offset, t.kind) for offset, t in value.elements] == [(0, "string"), (24, "vector")]
    assert not value.is_fixed and not value.elements[1][1].is_fixed
    assert schema.kinds["map"].storage == "variable"


def test_fixed_storage_comes_from_the_kinds_table_or_from_the_kind() -> None:
    table = {name: {key: value for key, value in row.items() if key != "storage"}
             for name, row in kinds().items()}
    schema = load(document([("f", [vector(POINT)], vector(STRING))], table), "no-storage.json")
    function = schema.functions[0]
    assert function.arguments[0].type.element is not None
    assert function.arguments[0].type.element.is_fixed
    assert function.returns.element is not None and not function.returns.element.is_fixed
    assert generate_pyi(schema) == generate_pyi(load(document(
        [("f", [vector(POINT)], vector(STRING))]), "no-storage.json"))
