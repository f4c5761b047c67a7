"""Structs, enums, optionals, tuples and complex numbers from Python, against the functions of
tests/record_types.hpp in the real type server: records and IntEnums made from the metadata,
dicts and compatible records as arguments, and numpy structured arrays over shared memory."""

from __future__ import annotations

import enum
import inspect
from collections import namedtuple
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import shmrpc


def order(types: shmrpc.Client, **changes: Any) -> Any:
    fields = {"id": 42, "side": types.types.Side.kSell, "price": 101.25, "quantity": 10,
              "active": True}
    fields.update(changes)
    return types.types.Order(**fields)


def test_struct_in_and_out_as_records(types: shmrpc.Client) -> None:
    filled = types.fill(order(types), 4)
    assert isinstance(filled, types.types.Order)
    assert isinstance(filled, shmrpc.Record)
    assert (filled.id, filled.side, filled.price, filled.quantity, filled.active) == (
        42, types.types.Side.kSell, 101.25, 6, True)
    assert filled == order(types, quantity=6)
    assert repr(filled) == (
        "Order(id=42, side=<Side.kSell: 2>, price=101.25, quantity=6, active=True)"
    )
    assert filled.to_dict()["quantity"] == 6


def test_dicts_and_compatible_records_are_accepted(types: shmrpc.Client) -> None:
    as_dict = {"id": 1, "side": "kBuy", "price": 2.0, "quantity": 3, "active": True}
    assert types.fill(as_dict, 1).quantity == 2

    @dataclass
    class MyOrder:
        id: int
        side: int
        price: float
        quantity: int
        active: bool

    assert types.fill(MyOrder(1, 1, 2.0, 3, True), 3).active is False
    Tuple = namedtuple("Tuple", "id side price quantity active")
    assert types.fill(Tuple(1, 2, 2.0, 3, True), 0).side == types.types.Side.kSell


def test_missing_and_extra_fields_are_type_errors(types: shmrpc.Client) -> None:
    with pytest.raises(TypeError, match=r"field 'active' is missing \(its fields: id, side, "
                                        r"price, quantity, active\)"):
        types.fill({"id": 1, "side": 1, "price": 2.0, "quantity": 3}, 1)
    with pytest.raises(TypeError, match="has no field 'colour'"):
        types.fill({"id": 1, "side": 1, "price": 2.0, "quantity": 3, "active": True,
                    "colour": "red"}, 1)
    with pytest.raises(TypeError, match=r"argument 1 \('order'\) of fill.*\.price is float64"):
        types.fill({"id": 1, "side": 1, "price": "cheap", "quantity": 3, "active": True}, 1)
    with pytest.raises(TypeError, match="missing field"):
        types.types.Order(id=1)
    with pytest.raises(OverflowError, match=r"\.quantity: 4294967296 does not fit int32"):
        types.fill(order(types, quantity=2**32), 1)


def test_nested_structs_arrays_enums_and_complex(types: shmrpc.Client) -> None:
    Level = types.types.Level
    box = types.make_box(Level.kHigh)
    assert isinstance(box.corner, types.types.Particle)
    np.testing.assert_array_equal(box.corner.pos, [1.0, 2.0, 3.0])
    assert box.corner.mass == 7.0
    assert box.pair.dtype == types.types.Particle.dtype
    assert box.pair["pos"][1][2] == 2.0
    assert box.level is Level.kHigh
    assert box.phase == 1j
    assert types.level_of(box) is Level.kHigh
    assert types.level_of(types.make_box(-1)) is Level.kLow


def test_enums_are_int_enums_with_the_cxx_members(types: shmrpc.Client) -> None:
    Side = types.types.Side
    assert issubclass(Side, enum.IntEnum)
    assert [(member.name, member.value) for member in Side] == [("kBuy", 1), ("kSell", 2)]
    assert [(member.name, member.value) for member in types.types.Level] == [
        ("kLow", -1), ("kMid", 0), ("kHigh", 7)]
    assert types.opposite(Side.kBuy) is Side.kSell
    assert types.opposite(2) is Side.kBuy
    assert types.opposite("kSell") is Side.kBuy
    with pytest.raises(ValueError, match=r"3 is not an enumerator of shmrpc::test::Side "
                                         r"\(kBuy = 1, kSell = 2\)"):
        types.opposite(3)
    with pytest.raises(ValueError, match="'kHold' is not an enumerator|kHold is not"):
        types.opposite("kHold")
    with pytest.raises(TypeError, match="takes a member of shmrpc::test::Side"):
        types.opposite(1.0)


def test_span_of_structs_is_zero_copy_in_shared_memory(types: shmrpc.Client) -> None:
    Particle = types.types.Particle
    particles = types.zeros(3, Particle)
    assert particles.dtype == Particle.dtype
    particles["vel"][:, 0] = [1.0, 2.0, 3.0]
    particles["mass"] = 2.0
    address = particles.ctypes.data
    types.step(particles, 0.5)  # written in place, where it lies
    np.testing.assert_array_equal(particles["pos"][:, 0], [0.5, 1.0, 1.5])
    assert particles.ctypes.data == address
    assert types.total_mass(particles) == 6.0


def test_span_of_structs_from_records_dicts_and_other_layouts(types: shmrpc.Client) -> None:
    Particle = types.types.Particle
    records = [Particle(pos=[0, 0, 0], vel=[0, 0, 0], mass=1.5),
               {"pos": (1, 1, 1), "vel": (0, 0, 0), "mass": 2.5}]
    assert types.total_mass(records) == 4.0
    packed = np.zeros(2, dtype=[("mass", "<f8"), ("pos", "<f8", 3), ("vel", "<f8", 3)])
    packed["mass"] = [1.0, 0.25]
    assert types.total_mass(packed) == 1.25
    with pytest.raises(TypeError, match=r"fields pos, vel, mass"):
        types.total_mass(np.zeros(2, dtype=[("weight", "<f4")]))
    ordinary = np.zeros(1, dtype=Particle.dtype)  # ordinary memory: copied in and back
    ordinary["vel"] = [[2.0, 0, 0]]
    types.step(ordinary, 1.0)
    assert ordinary["pos"][0][0] == 2.0


def test_vector_of_structs_is_a_structured_array_in_shared_memory(types: shmrpc.Client) -> None:
    line = types.line_of(4)
    assert line.dtype == types.types.Particle.dtype
    assert line.shape == (4,)
    np.testing.assert_array_equal(line["pos"][:, 0], [0.0, 1.0, 2.0, 3.0])
    address, size = types.heap_range()
    assert address <= line.ctypes.data < address + size
    assert types.sides(3).tolist() == [1, 2, 1]
    assert types.count_side(types.sides(5), "kSell") == 2


def test_optionals(types: shmrpc.Client) -> None:
    Side = types.types.Side
    book = [order(types, side=Side.kBuy, price=99.5), order(types, side=Side.kBuy, price=100.0),
            order(types, side=Side.kSell, price=101.0, active=False)]
    assert types.best_price(book, Side.kBuy) == 100.0
    assert types.best_price(book, Side.kSell) is None
    assert types.or_zero(None) == 0
    assert types.or_zero(-5) == -5


def test_tuples_and_pairs(types: shmrpc.Client) -> None:
    assert types.divmod(17, 5) == (3, 2)
    value = types.triple((-7, 2.5, "kSell"))
    assert value == (-7, 2.5, types.types.Side.kSell)
    with pytest.raises(TypeError, match="takes 3 elements; got 2"):
        types.triple((1, 2.0))
    with pytest.raises(shmrpc.RemoteError, match="division by zero"):
        types.divmod(1, 0)


def test_complex_numbers(types: shmrpc.Client) -> None:
    assert types.rotate(1 + 2j, 1j) == -2 + 1j
    assert types.rotate(np.complex64(1j), 1) == 1j
    assert types.sum_complex([1 + 1j, 2 - 3j]) == 3 - 2j
    assert types.sum_complex(np.array([1j, 1j])) == 2j


def test_struct_without_names_has_positional_fields(types: shmrpc.Client) -> None:
    Anonymous = types.types.Anonymous
    assert Anonymous._fields == ("f0", "f1")
    assert types.swap_anonymous(Anonymous(3, 4.0)) == Anonymous(4, 3.0)


def test_signatures_and_dtypes_follow_the_metadata(types: shmrpc.Client) -> None:
    Particle = types.types.Particle
    # The dtype is the server's layout: offsets and size as the C++ compiler laid them out.
    assert Particle.dtype.itemsize == 56
    assert [Particle.dtype.fields[name][1] for name in ("pos", "vel", "mass")] == [0, 24, 48]
    assert Particle.cxx_name == "shmrpc::test::Particle"
    fill = inspect.signature(types.fill)
    assert fill.parameters["order"].annotation is types.types.Order
    assert fill.return_annotation is types.types.Order
    assert inspect.signature(types.best_price).return_annotation == (float | None)
    assert inspect.signature(types.divmod).return_annotation == tuple[int, int]
    info = {function.name: function for function in types.functions()}
    assert info["make_box"].signature == (
        "make_box(level: shmrpc::test::Level) -> shmrpc::test::Box")
