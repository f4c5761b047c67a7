"""Values that nest, against shmrpc_py_type_server (tests/nested_functions.hpp): lists of str,
dicts, optionals and tuples of strings and arrays, an image and its mask out of one call, results
larger than the heap, and wrong values refused before the call."""

from __future__ import annotations

import numpy as np
import pytest

import shmrpc


def test_lists_of_strings_cross_both_ways(types: shmrpc.Client) -> None:
    assert types.join(["a", "", "bc"], "-") == "a--bc"
    assert types.join(("x", b"y"), "+") == "x+y"  # any sequence; bytes in UTF-8
    assert types.join([], "-") == ""
    assert types.split("to be or") == ["to", "be", "or"]
    groups = [["x"], [], ["y", "z" * 100]]
    assert types.echo_groups(groups) == groups
    assert types.echo_words(["é", "日本"]) == ["é", "日本"]


def test_dicts_cross_as_maps(types: shmrpc.Client) -> None:
    assert types.word_lengths(["three", "one", "three"]) == {"one": 3, "three": 5}
    totals = types.totals({"a": np.array([1.0, 2.0, 3.0]), "b": [], "c": [0.5]})
    assert totals == {"a": 6.0, "b": 0.0, "c": 0.5}
    assert types.number_names({2: "two", -1: "minus one"}) == {-1: "minus one", 2: "two"}
    assert types.number_names({}) == {}


def test_optionals_and_tuples_hold_strings_and_arrays(types: shmrpc.Client) -> None:
    assert types.shout("hi") == "HI"
    assert types.shout(None) is None
    text, reversed_values, largest = types.describe([1.5, -2.0, 4.0])
    assert text == "3 values" and largest == 4.0
    assert isinstance(reversed_values, np.ndarray) and reversed_values.dtype == np.float64
    np.testing.assert_array_equal(reversed_values, [4.0, -2.0, 1.5])
    assert types.describe([]) == ("0 values", pytest.approx(np.array([])), None)
    assert types.tag(("id", 7)) == ("id", 7)


def test_an_image_and_its_mask_come_back_from_one_call(types: shmrpc.Client) -> None:
    image = np.array([[0.5, 2.0, 3.0], [0.0, 1.5, 9.0]], dtype=np.float32)
    clipped, mask = types.threshold(image, 1.0)
    assert clipped.shape == (2, 3) and clipped.dtype == np.float32
    assert mask.shape == (2, 3) and mask.dtype == np.uint8
    np.testing.assert_array_equal(clipped, np.where(image > 1.0, image, 0.0))
    np.testing.assert_array_equal(mask, [[0, 1, 1], [0, 1, 1]])
    # Zero copy: each lies in a buffer the client holds, one buffer each.
    assert types.owns(clipped) and types.owns(mask)
    assert clipped.base.buffer != 0 and clipped.base.buffer != mask.base.buffer


def test_a_fortran_ordered_image_is_read_as_it_is(types: shmrpc.Client) -> None:
    image = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    clipped, mask = types.threshold(image, 5.0)
    np.testing.assert_array_equal(mask, (image > 5.0).astype(np.uint8))
    np.testing.assert_array_equal(clipped, np.where(image > 5.0, image, 0.0))


def test_results_larger_than_the_heap_go_into_one_buffer(types: shmrpc.Client) -> None:
    word = "w" * 40
    words = types.repeat_word(word, 100_000)  # about 6 MB of handles and text
    assert len(words) == 100_000 and words[0] == word and words[-1] == word
    assert len(types.join(words, "")) == 4_000_000


def test_results_kept_across_many_calls_do_not_run_out(types: shmrpc.Client) -> None:
    image = np.full((64, 64), 2.0, dtype=np.float32)
    kept = []
    for i in range(1000):
        result = types.threshold(image, 1.0)
        if i % 100 == 0:
            kept.append(result)
    assert len(kept) == 10
    for clipped, mask in kept:
        assert clipped[63, 63] == 2.0 and mask[0, 0] == 1
    assert types.join(["still", "serving"], " ") == "still serving"


def test_wrong_nested_values_are_refused_naming_the_part(types: shmrpc.Client) -> None:
    with pytest.raises(TypeError,
                       match=r"\('words'\) of join\(.*: element 1 is string, which takes a str"):
        types.join(["a", 2], "")
    with pytest.raises(TypeError, match="vector<string>, which takes a sequence; got a str"):
        types.join("abc", "")
    with pytest.raises(TypeError, match=r"map<string, vector<float64>>, which takes a mapping"):
        types.totals([("a", [1.0])])
    with pytest.raises(OverflowError, match=r"key 3000000000: 3000000000 does not fit int32"):
        types.number_names({3_000_000_000: "big"})
    with pytest.raises(TypeError, match=r"takes 2 elements; got 3"):
        types.tag(("id", 7, 8))
    with pytest.raises(UnicodeDecodeError):
        types.echo_words([b"\xff"])
    assert types.join(["fine"], "") == "fine"


def test_the_type_table_describes_nested_types(types: shmrpc.Client) -> None:
    info = {f.name: f for f in types.functions()}
    assert info["join"].arguments[0].type == "vector<string>"
    assert info["totals"].arguments[0].type == "map<string, vector<float64>>"
    assert info["shout"].return_type == "optional<string>"
    assert info["threshold"].return_type == "tuple<ndarray<float32, 2>, ndarray<uint8, 2>>"
