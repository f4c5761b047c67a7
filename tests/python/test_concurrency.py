"""Threads share a client's call slots and call in parallel, the GIL is released while waiting,
and Ctrl-C interrupts a long call and leaves the client usable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

import shmrpc
from conftest import ServerProcess, channel_count


def run_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = target(index)
        except BaseException as error:  # noqa: BLE001 (reported by the test below)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_threads_call_in_parallel_on_their_own_slots(types: shmrpc.Client) -> None:
    threads = 4

    def meet(_: int) -> bool:
        # rendezvous returns True only if all four calls are inside the server at once: calls
        # serialized by a shared slot or a held GIL would each wait alone and return False.
        return bool(types.rendezvous(threads, 10_000))

    assert run_threads(threads, meet) == [True] * threads
    assert types.slots == threads  # one per call in flight, claimed while the others were busy


def test_eight_threads_share_one_client_and_lose_nothing(client: shmrpc.Client) -> None:
    calls = 100_000

    def work(index: int) -> tuple[int, int]:
        add = client.add
        offset = index << 40
        wrong = checksum = 0
        for i in range(calls):
            # Distinct arguments per thread and call: a reply of another call is a wrong sum.
            total = add(i, offset)
            wrong += total != i + offset
            checksum += total - offset
            if i % 1000 == 0:  # a variable result too, through a slot's heap
                wrong += client.greet(str(index)) != f"Hello, {index}!"
        return wrong, checksum

    results = run_threads(8, work)
    assert results == [(0, calls * (calls - 1) // 2)] * 8
    assert 1 <= client.slots <= 8


def test_futures_return_results_and_raise_errors(client: shmrpc.Client) -> None:
    futures = [client.add.future(i, 1000) for i in range(100)]
    assert [future.result(timeout=60) for future in futures] == [i + 1000 for i in range(100)]
    assert client.greet.future(name="Ada").result(timeout=60) == "Hello, Ada!"
    with pytest.raises(TypeError, match="is int64, but a string"):
        client.add.future("1", 2).result(timeout=60)


def test_futures_run_in_parallel(types: shmrpc.Client) -> None:
    # rendezvous returns True only if all four calls are inside the server at once.
    futures = [types.rendezvous.future(4, 10_000) for _ in range(4)]
    assert [future.result(timeout=60) for future in futures] == [True] * 4


def test_threads_get_their_own_results(client: shmrpc.Client) -> None:
    def work(index: int) -> bool:
        return all(client.add(index, i) == index + i for i in range(2000)) and (
            client.greet(str(index)) == f"Hello, {index}!"
        )

    assert run_threads(6, work) == [True] * 6


def test_threads_hold_no_slot_once_their_call_ended(fresh_demo: ServerProcess) -> None:
    # The timeout turns a call left waiting for a slot into a failure, not a hang.
    with shmrpc.connect(fresh_demo.name, timeout=10.0) as client:
        # One after the other, 20 threads: more than max_slots (8). Each call takes the slot the
        # last one gave back; threads that kept theirs would use up max_slots.
        for index in range(20):
            assert run_threads(1, lambda _: client.add(index, 1)) == [index + 1]
        assert client.slots == 1
    # close gave everything back: every channel of the server can be taken again.
    clients = [shmrpc.connect(fresh_demo.name) for _ in range(channel_count(fresh_demo.name))]
    for other in clients:
        other.close()


def test_close_releases_every_slot(type_server_binary: str, tmp_path: Path) -> None:
    # A server of this test alone: rendezvous counts every call it was ever given.
    server = ServerProcess(type_server_binary, tmp_path, "pyclose")
    try:
        client = shmrpc.connect(server.name)
        # Four calls inside the server at once: four slots, each a channel of the server.
        assert run_threads(4, lambda _: client.rendezvous(4, 10_000)) == [True] * 4
        assert client.slots == 4
        assert shmrpc._core.inspect_segment(server.name)["channels_in_use"] == 4
        client.close()
        # All channels are free again, the three claimed for calls too.
        clients = [shmrpc.connect(server.name) for _ in range(channel_count(server.name))]
        for other in clients:
            other.close()
    finally:
        server.stop()


INTERRUPTED_CALL = """
import json, os, signal, sys, threading, time
import shmrpc

with shmrpc.connect(sys.argv[1]) as client:
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
    start = time.monotonic()
    try:
        client.sleep_ms(2000)
        outcome = "returned"
    except KeyboardInterrupt:
        outcome = "KeyboardInterrupt"
    interrupted_after = time.monotonic() - start
    total = client.add(2, 3)
    next_call_done_after = time.monotonic() - start
    # The first slot's channel shows the abandoned sleep running until the server ends it.
    give_up = start + 30
    while shmrpc._core.inspect_segment(sys.argv[1])["channels"][client.channel]["state"] != "done":
        if time.monotonic() > give_up:
            sys.exit("the abandoned sleep_ms never ended")
        time.sleep(0.005)
    abandoned_ended_after = time.monotonic() - start
    later_total = client.add(4, 5)
    slots = client.slots
    first_slot = shmrpc._core.inspect_segment(sys.argv[1])["channels"][client.channel]
    first_slot_last_call = client.functions()[first_slot["function_index"]].name
print(json.dumps({
    "outcome": outcome, "interrupted_after": interrupted_after, "total": total,
    "next_call_done_after": next_call_done_after, "abandoned_ended_after": abandoned_ended_after,
    "later_total": later_total, "slots": slots, "first_slot_last_call": first_slot_last_call,
}))
"""


def test_ctrl_c_interrupts_a_long_call_and_the_client_stays_usable(demo: ServerProcess) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", INTERRUPTED_CALL, demo.name],
        capture_output=True, text=True, timeout=60, env=dict(os.environ), check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["outcome"] == "KeyboardInterrupt"
    assert report["interrupted_after"] < 1.5  # well before the 2 s the call takes
    assert report["total"] == 5
    # The next call took another slot at once, while the server still ran the abandoned sleep.
    assert report["next_call_done_after"] < 1.5
    assert report["abandoned_ended_after"] >= 1.9
    # Once the sleep had ended, the call after took its slot back instead of claiming a third.
    assert report["later_total"] == 9
    assert report["slots"] == 2
    assert report["first_slot_last_call"] == "add"


def test_channel_wait_waits_for_a_released_channel(fresh_demo: ServerProcess) -> None:
    clients = [shmrpc.connect(fresh_demo.name) for _ in range(channel_count(fresh_demo.name))]
    try:
        with pytest.raises(shmrpc.ChannelsBusyError):
            shmrpc.connect(fresh_demo.name)  # every channel is taken
        released = clients.pop()
        channel = released.channel
        threading.Timer(0.2, released.close).start()
        with shmrpc.connect(fresh_demo.name, channel_wait=10.0) as waited:
            assert waited.channel == channel  # the one given back
            assert waited.add(1, 2) == 3
    finally:
        for other in clients:
            other.close()


def test_a_forked_child_calls_on_its_own_channel(client: shmrpc.Client) -> None:
    parent_channel = client.channel
    shared = client.asarray([1.0, 2.0])
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running pytest's cleanup
        status = 1
        try:
            report = {"sum": client.add(2, 3), "channel": client.channel,
                      "dot": client.dot(shared, shared)}
            os.write(write_end, json.dumps(report).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        report = json.loads(pipe.read() or "null")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert report["sum"] == 5 and report["dot"] == 5.0
    assert report["channel"] != parent_channel
    assert client.add(1, 1) == 2 and client.channel == parent_channel
