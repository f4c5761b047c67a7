"""The edges of what the Python client takes: a segment the caller may not open is refused with
the OSError for it, naming the segment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ServerProcess


# --- segments of another user -------------------------------------------------------------------

_CONNECT_AS_NOBODY = """
import sys
import shmrpc
try:
    shmrpc.connect(sys.argv[1])
except PermissionError as error:
    print("PermissionError", error.errno, error)
except BaseException as error:
    print(type(error).__name__, error)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another user")
def test_a_segment_of_another_user_raises_permission_error(demo: ServerProcess) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CONNECT_AS_NOBODY, demo.name],
        user=65534, group=65534, extra_groups=[], capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("PermissionError 13 "), result.stdout
    assert f"'{demo.name}'" in result.stdout and "Permission denied" in result.stdout
