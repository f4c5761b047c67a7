"""The package as users install it: typed, with a stub for the extension, which imports nothing
of the package."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import shmrpc
from conftest import ServerProcess, unique_name


def test_the_package_is_typed_by_its_modules_and_a_stub_of_core() -> None:
    """py.typed and the modules' own annotations type the package; _core.pyi declares exactly
    what the extension exports. (mypy --strict over the package and stubtest of _core.pyi
    against the extension run as the ctest entries python.mypy and python.stubtest.)"""
    package = Path(shmrpc.__file__).parent
    assert (package / "py.typed").is_file()
    assert not (package / "__init__.pyi").exists()  # it would hide the modules' annotations
    stub = ast.parse((package / "_core.pyi").read_text())
    declared = {
        node.name for node in stub.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))
    }
    declared |= {node.target.id for node in stub.body
                 if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
    assert declared == {name for name in dir(shmrpc._core) if not name.startswith("__")}


def test_version() -> None:
    assert shmrpc.__version__ == "0.1.0"


def test_the_readme_example_runs(demo: ServerProcess, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).parents[2] / "python_client" / "README.md").read_text()
    example = re.search(r"## Example.*?```python\n(.*?)```", readme, re.S)
    assert example is not None
    code = example.group(1).replace('"demo"', repr(demo.name))
    exec(compile(code, "README.md", "exec"), {"help": lambda _: None})  # noqa: S102
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == ["5", "42", "Hello, Ada!", "32.0"]
    assert "400000.0" in lines
    assert "[0 2 4 6 8]" in lines
    assert "add(a: int64, b: int64) -> int64 - Sum of two integers." in lines
    assert lines[-1] == "fail std::runtime_error boom"


CORE_ALONE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("_core", sys.argv[1])
core = importlib.util.module_from_spec(spec)
spec.loader.exec_module(core)
try:
    core.Connection(sys.argv[2])
except core.NoServerError as error:
    print(type(error).__name__, isinstance(error, ConnectionError))
connection = core.Connection(sys.argv[3])
dot = [entry["name"] for entry in connection.functions()].index("dot")
try:
    connection.call(dot, ([1.0, 2.0], [3.0, 4.0]))
except RuntimeError as error:
    print(error)
print(sorted(name for name in sys.modules if name.split(".")[0] == "shmrpc"))
"""


def test_core_imports_no_module_of_the_package(demo: ServerProcess) -> None:
    """_core on its own raises its own exception classes and imports nothing of shmrpc; a list
    argument needs the converters that only the package installs."""
    done = subprocess.run(
        [sys.executable, "-c", CORE_ALONE, shmrpc._core.__file__, unique_name("missing"),
         demo.name], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "NoServerError True",
        "shmrpc._core: no array converters are installed; import shmrpc, which installs them",
        "[]",
    ]
