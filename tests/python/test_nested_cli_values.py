"""The command line's values that nest (format 4): shell words for vector, map, and optional and
tuple parameters that hold strings, vectors or maps, parsed by their wire types; results turned
into JSON. No server: parse_argument and jsonable are called with ArgumentInfo values as the
client describes parameters. The module is this checkout's python_client/shmrpc/cli/
shell_values.py, loaded into the shmrpc package on PYTHONPATH (which brings the binding)."""

from __future__ import annotations

import enum
import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import shmrpc
import shmrpc.cli

ROOT = Path(__file__).resolve().parents[2]


def _load_shell_values() -> types.ModuleType:
    name = "shmrpc.cli._checkout_shell_values"
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "python_client" / "shmrpc" / "cli" / "shell_values.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


values = _load_shell_values()
ArgumentError = values.ArgumentError

Side = enum.IntEnum("Side", [("kBuy", 1), ("kSell", 2)])


def parse(wire: str, text: str, annotation: Any = None,
          dtype: np.dtype[Any] | None = None) -> Any:
    argument = shmrpc.ArgumentInfo("x", wire, dtype, False)
    return values.parse_argument(text, argument, annotation, f"argument 'x' of f(x: {wire})")


def error(wire: str, text: str, annotation: Any = None) -> str:
    with pytest.raises(ArgumentError) as raised:
        parse(wire, text, annotation)
    return str(raised.value)


def where(wire: str) -> str:
    return f"shmrpc: argument 'x' of f(x: {wire})"


# --- wire types ---------------------------------------------------------------------------------

def test_wire_types_are_read_from_their_display_names() -> None:
    wire = values.wire_type("map<int64, vector<tuple<string, demo::Side>>>")
    assert wire.kind == "map"
    key, value = wire.parts
    assert (key.kind, value.kind) == ("int64", "vector")
    assert [part.kind for part in value.parts[0].parts] == ["string", "named"]
    assert value.parts[0].parts[1].text == "demo::Side"
    nd = values.wire_type("optional<ndarray<const float64, 2>>").parts[0]
    assert (nd.kind, nd.count, nd.parts[0].kind) == ("ndarray", 2, "float64")
    assert values.wire_type("vector<ns::Box<3>>").parts[0] == values.WireType("named", "ns::Box<3>")
    with pytest.raises(ValueError, match="not a wire type"):
        values.wire_type("vector<string")


# --- vectors ------------------------------------------------------------------------------------

def test_vector_of_strings_is_a_json_list_of_strings() -> None:
    assert parse("vector<string>", '["a", "b c", ""]') == ["a", "b c", ""]
    assert parse("vector<string>", "[]") == []


def test_vector_of_strings_given_a_number() -> None:
    assert error("vector<string>", "5") == (
        f'{where("vector<string>")} (vector<string>) takes a JSON list such as ["a", "b"]; '
        "got 5")
    assert error("vector<string>", "[1]") == (
        f"{where('vector<string>')}: [0] (string) takes a JSON string; got 1")
    assert error("vector<string>", "a,b") == (
        f'{where("vector<string>")} (vector<string>) takes a JSON list such as ["a", "b"]; '
        "got 'a,b'")


def test_vector_of_vectors_is_nested_lists() -> None:
    assert parse("vector<vector<float64>>", "[[1, 2.5], []]") == [[1.0, 2.5], []]
    assert parse("vector<vector<string>>", '[["a"], ["b", "c"]]') == [["a"], ["b", "c"]]
    assert error("vector<vector<string>>", '[["a"], "b"]') == (
        f"{where('vector<vector<string>>')}: [1] (vector<string>) takes a JSON list of string "
        'values; got "b"')


def test_vector_of_fixed_elements_with_a_dtype_is_parsed_as_a_span() -> None:
    assert parse("vector<float64>", "[1, 2, 3]", dtype=np.dtype(np.float64)) == [1, 2, 3]
    with pytest.raises(ArgumentError, match=r"takes a JSON list such as \[1, 2, 3\]; got '7'"):
        parse("vector<float64>", "7", dtype=np.dtype(np.float64))


def test_vector_of_fixed_elements_without_a_dtype_checks_every_number() -> None:
    assert parse("vector<int32>", "[1, -2]") == [1, -2]
    assert parse("vector<complex128>", '[[1, 2], "3+4j", 5]') == [1 + 2j, 3 + 4j, 5]
    assert error("vector<float64>", '[1, "2"]') == (
        f"{where('vector<float64>')}: [1] (float64) takes a JSON number; got \"2\"")
    assert error("vector<int8>", "[1, 200]") == (
        f"{where('vector<int8>')}: [1] is int8, which takes an integer from -128 to 127; "
        "got 200")


def test_vector_of_enums_by_name_or_value_when_the_annotation_names_the_class() -> None:
    assert parse("vector<demo::Side>", '["kSell", 1]', list[Side]) == [Side.kSell, Side.kBuy]
    assert error("vector<demo::Side>", '["kHold"]', list[Side]) == (
        f"{where('vector<demo::Side>')}: [0] is the enum demo::Side: one of kBuy (1), "
        'kSell (2); got "kHold"')


# --- maps ---------------------------------------------------------------------------------------

def test_map_with_string_keys_is_a_json_object() -> None:
    assert parse("map<string, int32>", '{"a": 1, "b": -2}') == {"a": 1, "b": -2}
    assert parse("map<string, vector<string>>", '{"k": ["x", "y"]}') == {"k": ["x", "y"]}
    assert error("map<string, int32>", '{"a": 1.5}') == (
        f'{where("map<string, int32>")}: ["a"] (int32) takes a JSON integer; got 1.5')
    assert error("map<string, int32>", '[["a", 1]]') == (
        f'{where("map<string, int32>")} (map<string, int32>) takes a JSON object such as '
        '{"key": value}; got [["a", 1]]')


def test_map_with_other_keys_is_a_json_list_of_pairs() -> None:
    assert parse("map<int32, string>", '[[2, "two"], [1, "one"]]') == {2: "two", 1: "one"}
    assert parse("map<int64, map<string, float64>>", '[[7, {"x": 1}]]') == {7: {"x": 1.0}}
    assert parse("map<tuple<int32, int32>, string>", '[[[1, 2], "a"]]') == {(1, 2): "a"}


def test_map_given_a_json_list_of_non_pairs() -> None:
    assert error("map<int32, string>", "[1, 2]") == (
        f"{where('map<int32, string>')} (map<int32, string>): [0] is not a [key, value] pair: 1 "
        "(a map of int32 keys takes a JSON list of [key, value] pairs)")
    assert error("map<int32, string>", '[[1, "a", "b"]]') == (
        f"{where('map<int32, string>')} (map<int32, string>): [0] is not a [key, value] pair: "
        '[1, "a", "b"] (a map of int32 keys takes a JSON list of [key, value] pairs)')
    assert error("map<int32, string>", '{"1": "a"}') == (
        f"{where('map<int32, string>')} (map<int32, string>) takes a JSON list of [key, value] "
        'pairs such as [[key1, value1], [key2, value2]]; got {"1": "a"}')


def test_map_keys_are_checked_and_unique() -> None:
    assert error("map<uint8, string>", '[[256, "a"]]') == (
        f"{where('map<uint8, string>')}: [0][0] is uint8, which takes an integer from 0 to 255; "
        "got 256")
    assert error("map<int32, string>", '[[1, "a"], [1, "b"]]') == (
        f"{where('map<int32, string>')}: [1][0]: the key 1 appears twice")


# --- optionals and tuples that nest -----------------------------------------------------------

def test_optional_of_a_string_is_null_or_a_json_string() -> None:
    assert parse("optional<string>", "null") is None
    assert parse("optional<string>", '"text"') == "text"
    assert error("optional<string>", "text") == (
        f"{where('optional<string>')} (optional<string>) takes null or a JSON string; "
        "got 'text'")


def test_optional_of_a_vector_and_of_a_map() -> None:
    assert parse("optional<vector<string>>", '["a"]') == ["a"]
    assert parse("optional<map<string, int32>>", "null") is None
    assert parse("optional<map<string, int32>>", '{"a": 1}') == {"a": 1}


def test_tuple_holding_a_string_and_a_vector_is_a_json_list() -> None:
    assert parse("tuple<string, vector<float64>>", '["a", [1, 2.5]]') == ("a", [1.0, 2.5])
    assert parse("tuple<string, demo::Side>", '["x", "kBuy"]', tuple[str, Side]) == (
        "x", Side.kBuy)
    assert error("tuple<string, vector<float64>>", '["a"]') == (
        f"{where('tuple<string, vector<float64>>')} (tuple<string, vector<float64>>) takes a "
        'JSON list of 2 values (string, vector<float64>); got ["a"]')


def test_ndarray_inside_a_tuple_is_nested_json_lists() -> None:
    wire = "tuple<string, ndarray<const float64, 2>>"
    assert parse(wire, '["m", [[1, 2], [3, 4]]]') == ("m", [[1, 2], [3, 4]])
    assert error(wire, '["m", [[1, true]]]') == (
        f"{where(wire)}: [1][0][1] is float64, which takes a JSON number; got true")


def test_optional_and_tuple_of_fixed_values_are_parsed_as_before() -> None:
    assert parse("optional<int64>", "null") is None
    assert parse("optional<int64>", "5") == 5
    assert parse("tuple<int8, float64, demo::Side>", "[1, 2.5, 2]") == [1, 2.5, 2]


def test_json_nested_too_deep_is_refused() -> None:
    deep = "[" * 70 + "]" * 70
    assert "nests JSON deeper than 64 levels" in error("vector<vector<string>>", deep)


# --- results as JSON --------------------------------------------------------------------------

def test_results_become_json() -> None:
    assert values.jsonable(["a", "b"]) == ["a", "b"]
    assert values.jsonable({"a": 1, "b": [np.float64(2.5)]}) == {"a": 1, "b": [2.5]}
    assert values.jsonable({2: "two", 1: "one"}) == [[2, "two"], [1, "one"]]
    assert values.jsonable({(1, 2): ["x"]}) == [[[1, 2], ["x"]]]
    assert values.jsonable(("a", np.array([1.0, 2.0]))) == ["a", [1.0, 2.0]]
    assert values.jsonable([{"k": (np.int32(1), None)}]) == [{"k": [1, None]}]
    assert values.jsonable({Side.kBuy: np.array([[1, 2]])}) == [["kBuy", [[1, 2]]]]
    assert values.jsonable({}) == {}
    assert json.loads(values.human({3: ["a"]})) == [[3, ["a"]]]
    assert values.human(["a"]) == '["a"]'
