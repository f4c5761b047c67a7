"""Arrays of any size through a default server (server_example): copied in, made in shared memory
and passed without a copy, returned as numpy arrays over shared memory, kept, reclaimed, and a
full /dev/shm as MemoryError."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import shmrpc
from conftest import ServerProcess

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
SIZES = [KIB, MIB, 16 * MIB, 256 * MIB, GIB]


def buffer_files(name: str) -> int:
    return sum(1 for path in Path("/dev/shm").iterdir() if path.name.startswith(f"shmrpc.{name}@"))


def wait_for_buffer_files(name: str, count: int, seconds: float = 10.0) -> int:
    give_up = time.monotonic() + seconds
    while buffer_files(name) != count and time.monotonic() < give_up:
        time.sleep(0.02)
    return buffer_files(name)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size // KIB}KiB")
def test_an_ordinary_array_of_any_size_is_copied_in(client: shmrpc.Client, size: int) -> None:
    values = np.full(size // 8, 0.5)
    assert client.dot(values, values) == pytest.approx(values.size * 0.25)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size // KIB}KiB")
def test_an_array_of_any_size_made_in_shared_memory_passes_without_a_copy(
        client: shmrpc.Client, size: int) -> None:
    values = client.zeros(size // 8)
    assert client.owns(values)
    values.fill(2.0)
    mapped = client.buffers_mapped()
    assert client.dot(values, values) == 4.0 * values.size
    client.scale(values, 0.5)  # in place, wherever it lies
    assert values[0] == 1.0 and values[-1] == 1.0
    assert client.buffers_mapped() == mapped, "a copy would have mapped a scratch buffer"


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size // KIB}KiB")
def test_a_result_of_any_size_is_a_numpy_array_over_shared_memory(
        client: shmrpc.Client, size: int) -> None:
    count = size // 8
    values = client.range(0, count, 1)
    assert values.shape == (count,) and values.dtype == np.int64
    assert client.owns(values), "the result lies in shared memory, not in a copy"
    assert values[0] == 0 and values[count // 2] == count // 2 and values[-1] == count - 1
    # It passes back without a copy too.
    assert client.dot(values.astype(np.float64)[:3], np.ones(3)) == 3.0


def test_results_kept_across_a_thousand_calls_do_not_run_out(client: shmrpc.Client) -> None:
    kept = [client.range(i, i + 2 * MIB // 8, 1) for i in range(1000)]  # 2 GiB in all
    assert all(values[0] == i and values[-1] == i + 2 * MIB // 8 - 1
               for i, values in enumerate(kept))
    mapped = client.buffers_mapped()
    assert mapped >= 1000
    del kept
    client.add(1, 2)  # the released buffers are given back at the next call
    assert client.buffers_mapped() <= mapped - 1000


def test_buffers_of_a_killed_client_are_reclaimed(fresh_demo: ServerProcess) -> None:
    baseline = buffer_files(fresh_demo.name)
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time, shmrpc
            client = shmrpc.connect({fresh_demo.name!r})
            kept = [client.zeros(4 << 20), client.range(0, 1 << 21, 1)]
            print("ready", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        assert buffer_files(fresh_demo.name) == baseline + 2
    finally:
        child.kill()
        child.wait(timeout=10)
        assert child.stdout is not None
        child.stdout.close()
    assert wait_for_buffer_files(fresh_demo.name, baseline) == baseline
    with shmrpc.connect(fresh_demo.name) as client:
        assert client.add(2, 3) == 5


def test_arrays_stay_readable_after_the_server_dies(fresh_demo: ServerProcess) -> None:
    client = shmrpc.connect(fresh_demo.name)
    result = client.range(0, 4 * MIB // 8, 1)
    made = client.zeros(4 * MIB // 8)
    made[:] = 3.0
    fresh_demo.kill()
    assert result.sum() == (4 * MIB // 8) * (4 * MIB // 8 - 1) // 2
    assert (made == 3.0).all()
    with pytest.raises(shmrpc.ServerGoneError):
        client.add(1, 2)
    client.close()
    assert result[-1] == 4 * MIB // 8 - 1, "still readable after close"


FULL_DEV_SHM_SCRIPT = """
import subprocess, sys, time
import numpy as np
import shmrpc
server = subprocess.Popen([sys.argv[1], "full-dev-shm"], stdout=subprocess.DEVNULL)
try:
    for _ in range(500):
        try:
            client = shmrpc.connect("full-dev-shm")
            break
        except shmrpc.NoServerError:
            time.sleep(0.01)
    try:
        client.dot(np.ones(8 << 20), np.ones(8 << 20))  # 2 x 64 MiB into a 48 MiB /dev/shm
        sys.exit("a 64 MiB argument fitted a 48 MiB /dev/shm")
    except MemoryError as error:
        print(error)
    try:
        client.range(0, 8 << 20, 1)
        sys.exit("a 64 MiB result fitted a 48 MiB /dev/shm")
    except MemoryError as error:
        print(error)
    assert client.add(2, 3) == 5
    small = np.ones(1 << 20)
    assert client.dot(small, small) == small.size
    assert client.range(0, 1 << 20, 1)[-1] == (1 << 20) - 1
    print("still serving")
finally:
    server.terminate()
    server.wait()
"""


def test_a_full_dev_shm_is_a_memory_error_and_the_server_keeps_serving(
        server_example_binary: str) -> None:
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        pytest.skip("a private /dev/shm needs root and unshare(1)")
    result = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "sh", "-c",
         'mount -t tmpfs -o size=48m shmrpc-test /dev/shm && exec "$0" -c "$1" "$2"',
         sys.executable, FULL_DEV_SHM_SCRIPT, server_example_binary],
        capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "cannot make a buffer of" in lines[0] and "/dev/shm has" in lines[0]
    assert "cannot make a buffer of 67108864 bytes" in lines[1]
    assert lines[-1] == "still serving"
