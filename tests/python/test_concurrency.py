"""Threads call in parallel on their own channels, the GIL is released while waiting, and Ctrl-C
interrupts a long call and leaves the client usable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any, Callable

import shmrpc
from conftest import ServerProcess


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


def test_threads_call_in_parallel_on_their_own_channels(types: shmrpc.Client) -> None:
    threads = 4

    def meet(_: int) -> tuple[int, bool]:
        # rendezvous returns True only if all four calls are inside the server at once: calls
        # serialized by a shared channel or a held GIL would each wait alone and return False.
        return types.channel, types.rendezvous(threads, 10_000)

    results = run_threads(threads, meet)
    assert len({channel for channel, _ in results}) == threads
    assert [met for _, met in results] == [True] * threads


def test_threads_get_their_own_results(client: shmrpc.Client) -> None:
    def work(index: int) -> bool:
        return all(client.add(index, i) == index + i for i in range(2000)) and (
            client.greet(str(index)) == f"Hello, {index}!"
        )

    assert run_threads(6, work) == [True] * 6


def test_channels_of_finished_threads_go_back_to_the_server(fresh_demo: ServerProcess) -> None:
    with shmrpc.connect(fresh_demo.name) as client:
        # One after the other, 20 threads: more than the server's 8 channels.
        for index in range(20):
            assert run_threads(1, lambda _: client.add(index, 1)) == [index + 1]
    with shmrpc.connect(fresh_demo.name) as again:  # close gave everything back
        others = [shmrpc.connect(fresh_demo.name) for _ in range(7)]
        for other in others:
            other.close()
        assert again.add(2, 2) == 4


def test_close_releases_every_thread_channel(fresh_demo: ServerProcess) -> None:
    client = shmrpc.connect(fresh_demo.name)
    barrier = threading.Barrier(4)

    def hold(_: int) -> int:
        channel = client.channel
        barrier.wait()  # all four threads hold a channel at once
        return channel

    assert len(set(run_threads(4, hold))) == 4
    client.close()
    clients = [shmrpc.connect(fresh_demo.name) for _ in range(8)]  # all 8 channels are free
    for other in clients:
        other.close()


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
print(json.dumps({"outcome": outcome, "interrupted_after": interrupted_after, "total": total,
                  "next_call_done_after": next_call_done_after}))
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
    # The server still ran the abandoned sleep; the next call waited for it to finish.
    assert report["next_call_done_after"] >= 1.9


def test_channel_wait_waits_for_a_released_channel(fresh_demo: ServerProcess) -> None:
    clients = [shmrpc.connect(fresh_demo.name) for _ in range(8)]
    try:
        threading.Timer(0.2, clients.pop().close).start()
        with shmrpc.connect(fresh_demo.name, channel_wait=10.0) as waited:
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
