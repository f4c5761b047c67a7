"""Every error the Python client raises, each from a real server (or a real segment file)."""

from __future__ import annotations

import builtins
import os
import pickle
import signal
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import shmrpc
from conftest import (
    ServerProcess,
    channel_count,
    segment_path,
    unique_name,
    wait_for_call_state,
)


def test_errors_share_one_base() -> None:
    for error in [shmrpc.RemoteError, shmrpc.ServerGoneError, shmrpc.TimeoutError,
                  shmrpc.NoServerError, shmrpc.ChannelsBusyError, shmrpc.ProtocolError]:
        assert issubclass(error, shmrpc.Error)
    assert issubclass(shmrpc.ServerGoneError, ConnectionError)
    assert issubclass(shmrpc.NoServerError, ConnectionError)
    assert issubclass(shmrpc.TimeoutError, builtins.TimeoutError)
    assert shmrpc.RemoteError.__module__ == "shmrpc"


# --- connecting -------------------------------------------------------------------------------


def test_connecting_to_a_missing_name_raises_no_server_error() -> None:
    name = unique_name("missing")
    with pytest.raises(shmrpc.NoServerError) as raised:
        shmrpc.connect(name)
    assert f"no server named '{name}' is running" in str(raised.value)
    assert isinstance(raised.value, ConnectionError)


def test_a_name_that_cannot_be_a_server_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="contains '/'"):
        shmrpc.connect("a/b")


def test_segment_of_a_dead_server_is_no_server(fresh_demo: ServerProcess) -> None:
    fresh_demo.kill()  # leaves its segment behind
    assert segment_path(fresh_demo.name).exists()
    with pytest.raises(shmrpc.NoServerError, match="has died"):
        shmrpc.connect(fresh_demo.name)


def test_segment_of_another_format_version_is_a_protocol_error() -> None:
    name = unique_name("proto")
    path = segment_path(name)
    magic = 0x0131_4350_524D_4853  # "SHMRPC1\x01", layout::kMagic
    header = struct.pack("<QI", magic, 99).ljust(4096, b"\0")
    try:
        path.write_bytes(header)
        with pytest.raises(shmrpc.ProtocolError) as raised:
            shmrpc.connect(name)
        assert "version 99" in str(raised.value)
    finally:
        path.unlink(missing_ok=True)


def test_all_channels_taken_is_channels_busy_error(fresh_demo: ServerProcess) -> None:
    count = channel_count(fresh_demo.name)
    clients = [shmrpc.connect(fresh_demo.name) for _ in range(count)]  # one channel each
    try:
        assert sorted(c.channel for c in clients) == list(range(count))
        with pytest.raises(shmrpc.ChannelsBusyError, match=f"all {count} channels"):
            shmrpc.connect(fresh_demo.name)
        # Only connecting raises it: a call that finds the client's one slot busy and no channel
        # left to claim waits for the slot to be given back.
        busy = clients[0]
        sleeper = threading.Thread(target=busy.sleep_ms, args=(300,))
        sleeper.start()
        try:
            wait_for_call_state(fresh_demo.name, busy.channel, "running")
            assert busy.add(2, 3) == 5
        finally:
            sleeper.join(timeout=60)
        assert busy.slots == 1
        clients.pop().close()  # gives its channel back
        with shmrpc.connect(fresh_demo.name) as again:
            assert again.add(2, 3) == 5
    finally:
        for c in clients:
            c.close()


# --- arguments --------------------------------------------------------------------------------


def test_a_float_for_an_integer_is_a_type_error(client: shmrpc.Client) -> None:
    with pytest.raises(TypeError) as raised:
        client.add(1.5, 2)
    assert "argument 1 ('a') of add(a: int64, b: int64) -> int64 is int64" in str(raised.value)
    assert "floating-point" in str(raised.value)


def test_wrong_python_types_are_type_errors(client: shmrpc.Client) -> None:
    with pytest.raises(TypeError, match=r"argument 2 \('b'\).* is int64, but a string"):
        client.add(1, "2")
    with pytest.raises(TypeError, match="is int64, but a bool"):
        client.add(True, 2)
    with pytest.raises(TypeError, match="is int64, but an object of Python type 'list'"):
        client.add([1], 2)
    with pytest.raises(TypeError, match="is string, but an integer"):
        client.greet(5)
    with pytest.raises(TypeError, match="is string, but an object of Python type 'NoneType'"):
        client.greet(None)


def test_array_of_the_wrong_dtype_says_which_dtype(client: shmrpc.Client) -> None:
    with pytest.raises(TypeError) as raised:
        client.dot(np.ones(3, dtype=np.float32), np.ones(3))
    message = str(raised.value)
    assert "argument 1 ('a') of dot" in message
    assert "needs an array of dtype float64; got dtype float32" in message
    with pytest.raises(TypeError, match="needs an array of dtype float32; got dtype float64"):
        client.stats(np.ones(3))


def test_array_of_the_wrong_shape_is_a_type_error(client: shmrpc.Client) -> None:
    with pytest.raises(TypeError, match=r"needs an array of shape \(n,\); got shape \(2, 2\)"):
        client.dot(np.ones((2, 2)), np.ones(4))
    with pytest.raises(TypeError, match="needs a numpy array of dtype float64 or a sequence"):
        client.dot(3.0, [1.0])
    with pytest.raises(TypeError, match="got a str"):
        client.dot("abc", [1.0])


def test_sequences_that_lose_values_are_refused(client: shmrpc.Client) -> None:
    with pytest.raises(TypeError, match="got elements of dtype <U1"):
        client.dot(["a"], [1.0])
    with pytest.raises(TypeError, match="got elements of dtype bool"):
        client.dot([True], [1.0])


def test_mutable_span_refuses_what_cannot_take_results(client: shmrpc.Client) -> None:
    with pytest.raises(TypeError, match="written in place.*a list cannot receive the results"):
        client.scale([1.0, 2.0], 2.0)
    values = np.arange(8, dtype=np.float64)
    with pytest.raises(TypeError, match="non-contiguous view"):
        client.scale(values[::2], 2.0)
    np.testing.assert_array_equal(values, np.arange(8))  # untouched
    read_only = np.ones(3)
    read_only.flags.writeable = False
    with pytest.raises(TypeError, match="needs a writable array"):
        client.scale(read_only, 2.0)
    with pytest.raises(TypeError, match="needs an array of dtype float64; got dtype int64"):
        client.scale(np.arange(3), 2.0)


def test_arity_and_keyword_mistakes_are_type_errors_like_python(client: shmrpc.Client) -> None:
    with pytest.raises(TypeError, match=r"^add\(\) takes 2 positional arguments but 3 were given$"):
        client.add(1, 2, 3)
    with pytest.raises(TypeError, match=r"^add\(\) missing 1 required argument: 'b'$"):
        client.add(1)
    with pytest.raises(TypeError, match=r"^add\(\) missing 2 required arguments: 'a' and 'b'$"):
        client.add()
    with pytest.raises(TypeError, match=r"^add\(\) got an unexpected keyword argument 'c'"):
        client.add(1, 2, c=3)
    with pytest.raises(TypeError, match=r"^add\(\) got multiple values for argument 'a'$"):
        client.add(1, a=2)


def test_integers_out_of_range_are_overflow_errors(client: shmrpc.Client) -> None:
    with pytest.raises(OverflowError, match="9223372036854775808 does not fit int64"):
        client.add(2**63, 0)
    with pytest.raises(OverflowError, match="-9223372036854775809 does not fit int64"):
        client.add(-(2**63) - 1, 0)
    with pytest.raises(OverflowError, match=f"{2**70} does not fit int64"):
        client.add(2**70, 0)
    with pytest.raises(OverflowError, match=r"\('milliseconds'\) of sleep_ms: 2147483648 does not"):
        client.sleep_ms(2**31)
    with pytest.raises(OverflowError, match="does not fit int32"):
        client.sleep_ms(np.int64(-(2**31) - 1))
    assert client.add(2**63 - 1, -(2**63)) == -1  # the extremes themselves fit


def test_an_argument_larger_than_the_heap_crosses_in_a_buffer(client: shmrpc.Client) -> None:
    _, heap_size = client.heap_range()
    large = np.ones(heap_size // 8 * 3)
    assert client.dot(large, large) == float(large.size)
    assert client.add(2, 3) == 5


def test_an_array_larger_than_the_heap_is_made_in_a_buffer(client: shmrpc.Client) -> None:
    _, heap_size = client.heap_range()
    array = client.empty(heap_size + 1, np.uint8)
    assert array.nbytes == heap_size + 1 and array.base.buffer > 0


# --- calls ------------------------------------------------------------------------------------


def test_remote_exceptions_carry_type_and_message(client: shmrpc.Client) -> None:
    with pytest.raises(shmrpc.RemoteError) as raised:
        client.dot([1.0, 2.0], [1.0])
    assert raised.value.function == "dot"
    assert raised.value.remote_type == "std::invalid_argument"
    assert raised.value.remote_message == "dot: a has 2 elements, b has 1"
    with pytest.raises(shmrpc.RemoteError, match="range: step must not be 0"):
        client.range(0, 1, 0)
    copy = pickle.loads(pickle.dumps(raised.value))
    assert (copy.function, copy.remote_type, str(copy)) == (
        "dot", "std::invalid_argument", str(raised.value))


def test_timeout_raises_and_the_client_stays_usable(demo: ServerProcess) -> None:
    with shmrpc.connect(demo.name, timeout=0.2) as client:
        assert client.timeout == 0.2
        with pytest.raises(shmrpc.TimeoutError, match="'sleep_ms'.*timed out") as raised:
            client.sleep_ms(1000)
        assert isinstance(raised.value, builtins.TimeoutError)
        client.timeout = None  # the next call may wait for the late one
        assert client.add(2, 3) == 5


def test_a_late_call_does_not_hold_up_the_next_call(demo: ServerProcess) -> None:
    with shmrpc.connect(demo.name, timeout=0.1) as client:
        with pytest.raises(shmrpc.TimeoutError):
            client.sleep_ms(1500)
        # Within the same 0.1 s timeout, while the server sleeps on: the late call's slot is set
        # aside and the next call claims another.
        assert client.add(1, 1) == 2
        assert client.slots == 2
        client.timeout = 5.0
        assert client.add(2, 2) == 4


def test_with_one_call_slot_a_late_call_times_out_the_next_call_too(
        demo: ServerProcess) -> None:
    with shmrpc.connect(demo.name, timeout=0.1, max_slots=1) as client:
        with pytest.raises(shmrpc.TimeoutError):
            client.sleep_ms(1500)
        # No other slot to take: the next call waits for the late one, within its own timeout.
        with pytest.raises(shmrpc.TimeoutError, match="previous call to 'sleep_ms'"):
            client.add(1, 1)
        client.timeout = 5.0
        assert client.add(1, 1) == 2
        assert client.slots == 1


def test_negative_timeout_is_a_value_error(demo: ServerProcess) -> None:
    with pytest.raises(ValueError, match="timeout must be a number of seconds"):
        shmrpc.connect(demo.name, timeout=-1)


def test_server_killed_during_a_call_raises_server_gone_error(fresh_demo: ServerProcess) -> None:
    with shmrpc.connect(fresh_demo.name) as client:
        assert client.add(1, 1) == 2
        killed_at: list[float] = []

        def kill() -> None:
            killed_at.append(time.monotonic())
            os.kill(fresh_demo.pid, 9)

        timer = threading.Timer(0.3, kill)
        timer.start()
        try:
            with pytest.raises(shmrpc.ServerGoneError, match="died during the call to 'sleep_ms'"):
                client.sleep_ms(5000)
            noticed_after = time.monotonic() - killed_at[0]
        finally:
            timer.join()
        assert noticed_after < 1.5  # the client checks liveness every 100 ms
        with pytest.raises(shmrpc.ServerGoneError):
            client.add(1, 1)
        with pytest.raises(ConnectionError):
            client.add(1, 1)


def test_reconnect_after_a_restart(fresh_demo: ServerProcess, server_example_binary: str,
                                   tmp_path: Path) -> None:
    with shmrpc.connect(fresh_demo.name) as client:
        assert client.add(1, 1) == 2
        fresh_demo.kill()
        with pytest.raises(shmrpc.ServerGoneError):
            client.add(1, 1)
        with pytest.raises(shmrpc.NoServerError):
            client.reconnect()  # the dead server's segment is no server
        restarted = ServerProcess(server_example_binary, tmp_path, name=fresh_demo.name)
        try:
            client.reconnect()
            assert client.add(2, 3) == 5
            assert client.server_pid == restarted.pid
        finally:
            restarted.stop()


def test_server_stopped_between_calls_raises_server_gone_error(fresh_demo: ServerProcess) -> None:
    with shmrpc.connect(fresh_demo.name) as client:
        assert client.add(1, 1) == 2
        fresh_demo.stop()
        with pytest.raises(shmrpc.ServerGoneError):
            client.add(1, 1)


def test_calls_on_a_closed_client_are_value_errors(demo: ServerProcess) -> None:
    client = shmrpc.connect(demo.name)
    add = client.add
    client.close()
    client.close()  # idempotent
    assert client.closed
    with pytest.raises(ValueError, match="is closed") as raised:
        add(1, 2)
    # One exception, not one raised while handling another (a chained traceback).
    assert raised.value.__context__ is None and raised.value.__cause__ is None
    with pytest.raises(ValueError, match="is closed"):
        client.zeros(3)


def test_a_signal_handler_can_call_during_a_call(client: shmrpc.Client) -> None:
    nested: list[int] = []

    def handler(signum: int, frame: object) -> None:
        nested.append(client.add(20, 22))  # sleep_ms holds the thread's slot: it takes another

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        assert client.sleep_ms(1000) is None  # goes on once the handler returned
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert nested == [42]
    assert client.slots == 2, "the handler ran after the call, not during it"
    assert client.add(2, 3) == 5
