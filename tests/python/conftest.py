"""Fixtures that run real shmrpc servers as subprocesses.

The server binaries come from the environment (ctest sets them):
  SHMRPC_SERVER_EXAMPLE  server_example (build/<dir>/server_example/server_example)
  SHMRPC_TYPE_SERVER     shmrpc_py_type_server (build/<dir>/tests/python/shmrpc_py_type_server)
  SHMRPC_STREAM_SERVER   shmrpc_py_stream_server (build/<dir>/tests/python/shmrpc_py_stream_server)
and the shmrpc package from PYTHONPATH (build/<dir>/python_client). Every server gets a unique
name and its segment is removed on teardown, also when a test fails or kills the server.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

import shmrpc

_names = itertools.count()


def unique_name(prefix: str = "py") -> str:
    return f"{prefix}-{os.getpid()}-{next(_names)}"


def segment_path(name: str) -> Path:
    return Path("/dev/shm") / f"shmrpc.{name}"


def channel_count(name: str) -> int:
    """The channels of the running server `name`, as its segment says (what `shmrpc ls` shows):
    how many clients can be connected at once, each holding the one it claimed as it connected.
    Read, not assumed, so that tests taking every channel follow ServerOptions::channels
    (test_errors.py checks it against the channels that clients can take)."""
    return int(shmrpc._core.inspect_segment(name)["channel_count"])


def wait_for_call_state(name: str, channel: int, state: str, seconds: float = 10.0) -> None:
    """Waits until channel `channel` of server `name` shows `state` (what `shmrpc info` shows:
    "running" while the server runs a call on it, "done" once it has ended), so that a test
    knows where a call it cannot see stands."""
    give_up = time.monotonic() + seconds
    while (seen := shmrpc._core.inspect_segment(name)["channels"][channel]["state"]) != state:
        if time.monotonic() > give_up:
            pytest.fail(f"channel {channel} of server {name} stayed {seen}, not {state}, for "
                        f"{seconds} s")
        time.sleep(0.005)


def _binary(variable: str) -> str:
    path = os.environ.get(variable)
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            f"{variable} must name the built binary (ctest sets it; by hand: "
            f"{variable}=build/py/... PYTHONPATH=build/py/python_client pytest tests/python)"
        )
    return path


class ServerProcess:
    """A server binary running as `binary NAME`, ready once a client could connect."""

    def __init__(self, binary: str, log_dir: Path, prefix: str = "py",
                 name: str | None = None) -> None:
        self.name = name or unique_name(prefix)
        self.log = log_dir / f"{self.name}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [binary, self.name], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_ready(self, seconds: float = 10.0) -> None:
        give_up = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                pytest.fail(
                    f"server {self.name} exited with {self.process.returncode}: "
                    f"{self.log.read_text(errors='replace')}"
                )
            if segment_path(self.name).exists():
                try:
                    with shmrpc.connect(self.name):
                        return
                except shmrpc.NoServerError:
                    pass  # still starting
            if time.monotonic() > give_up:
                pytest.fail(f"server {self.name} did not become ready within {seconds} s")
            time.sleep(0.01)

    def kill(self) -> None:
        """SIGKILL: the server dies without cleaning up, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        segment_path(self.name).unlink(missing_ok=True)
        # A killed server leaves its buffers, as a crash would (`shmrpc clean` removes them).
        shmrpc._core.remove_buffer_leftovers(self.name)


@pytest.fixture(scope="session")
def server_example_binary() -> str:
    return _binary("SHMRPC_SERVER_EXAMPLE")


@pytest.fixture(scope="session")
def type_server_binary() -> str:
    return _binary("SHMRPC_TYPE_SERVER")


@pytest.fixture(scope="session")
def stream_server_binary() -> str:
    return _binary("SHMRPC_STREAM_SERVER")


@pytest.fixture(scope="module")
def demo(server_example_binary: str, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[ServerProcess]:
    """server_example shared by the tests of one module."""
    server = ServerProcess(server_example_binary, tmp_path_factory.mktemp("demo"))
    yield server
    server.stop()


@pytest.fixture
def fresh_demo(server_example_binary: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """server_example of one test alone (killed, filled up, or stopped by it)."""
    server = ServerProcess(server_example_binary, tmp_path)
    yield server
    server.stop()


@pytest.fixture
def client(demo: ServerProcess) -> Iterator[shmrpc.Client]:
    with shmrpc.connect(demo.name) as connected:
        yield connected


@pytest.fixture(scope="module")
def type_server(type_server_binary: str, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[ServerProcess]:
    server = ServerProcess(type_server_binary, tmp_path_factory.mktemp("types"), "pytypes")
    yield server
    server.stop()


@pytest.fixture
def types(type_server: ServerProcess) -> Iterator[shmrpc.Client]:
    with shmrpc.connect(type_server.name) as connected:
        yield connected
