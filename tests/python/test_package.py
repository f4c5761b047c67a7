"""The package as users install it: typed, with stubs that name what it exports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import shmrpc
from conftest import ServerProcess


def test_the_package_is_typed() -> None:
    package = Path(shmrpc.__file__).parent
    assert (package / "py.typed").is_file()
    stub = ast.parse((package / "__init__.pyi").read_text())
    declared = {
        node.name for node in stub.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))
    }
    assert set(shmrpc.__all__) <= declared


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
