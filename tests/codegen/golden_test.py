#!/usr/bin/env python3
"""Golden-file test of the stub generator, as gRPC tests its compiler: each case below runs
codegen/shmrpc-codegen on a schema committed in tests/codegen/golden/ and compares every file it
writes, byte for byte, with the expected file of that name beside the schema.

    python3 tests/codegen/golden_test.py              # compare; prints a diff per changed file
    python3 tests/codegen/golden_test.py --update     # rewrite the expected files
    python3 tests/codegen/golden_test.py --server demo.json=build/release/server_example/...

--server SCHEMA=BINARY also checks that the committed SCHEMA is what `BINARY --schema FILE`
writes today, so that the golden files follow the servers they come from.
scripts/regenerate_codegen_golden.sh rewrites the schemas from the built servers, then the
expected files; review the change as a diff.

The generator runs as `python3 -I -S`: the standard library alone, no site-packages, nothing
installed. Exit status 0 when everything matches, 1 otherwise.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "codegen" / "golden"
GENERATOR = ROOT / "codegen" / "shmrpc-codegen"


@dataclass(frozen=True)
class Case:
    schema: str  # in GOLDEN
    stem: str  # the outputs: stem.py and stem.pyi (python), stem.hpp (cpp)
    options: tuple[str, ...] = ()
    python: bool = True
    cpp: bool = True

    def outputs(self) -> list[str]:
        return ([f"{self.stem}.py", f"{self.stem}.pyi"] if self.python else []) + \
            ([f"{self.stem}.hpp"] if self.cpp else [])


# The stubs the tests generate (tests/CMakeLists.txt, tests/python/test_codegen.py), from:
# demo.json, server_example --schema; shapes_v1/v2.json, shmrpc_codegen_server_v1/v2 --schema;
# types.json, shmrpc_py_type_server --schema (every wire type server_example lacks).
CASES = [
    Case("demo.json", "demo_client"),
    Case("demo.json", "demo_client_include", ("--cpp-include", "particles.hpp"), python=False),
    Case("shapes_v1.json", "shapes_v1", ("--class", "ShapesV1", "--cpp-namespace", "old")),
    Case("shapes_v2.json", "shapes_v2"),
    Case("types.json", "types_client"),
]


def generate(case: Case, directory: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-I", "-S", "-B", str(GENERATOR), "--schema",
               str(GOLDEN / case.schema), *case.options]
    if case.python:
        command += ["--python", str(directory / f"{case.stem}.py")]
    if case.cpp:
        command += ["--cpp", str(directory / f"{case.stem}.hpp")]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def difference(expected: Path, actual: Path) -> list[str]:
    """A unified diff of the two files (at most 40 lines of it), or [] when they are equal."""
    if not expected.exists():
        return [f"{expected.relative_to(ROOT)} is missing (run with --update)"]
    if expected.read_bytes() == actual.read_bytes():
        return []
    lines = list(difflib.unified_diff(
        expected.read_text(encoding="utf-8").splitlines(),
        actual.read_text(encoding="utf-8").splitlines(),
        str(expected.relative_to(ROOT)), "generated", lineterm=""))
    return (lines[:40] + ["..."] if len(lines) > 40 else lines) or \
        [f"{expected.relative_to(ROOT)}: differs in line endings or trailing bytes"]


def check_schema(schema: str, binary: str, directory: Path) -> list[str]:
    written = directory / schema
    done = subprocess.run([binary, "--schema", str(written)], capture_output=True, text=True,
                          timeout=60, check=False)
    if done.returncode != 0:
        return [f"{binary} --schema failed ({done.returncode}): {done.stderr.strip()}"]
    return difference(GOLDEN / schema, written)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the expected files")
    parser.add_argument("--server", action="append", default=[], metavar="SCHEMA=BINARY",
                        help="also check that BINARY --schema writes the committed SCHEMA")
    args = parser.parse_args()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="shmrpc-golden-") as temporary:
        directory = Path(temporary)
        for case in CASES:
            done = generate(case, directory)
            if done.returncode != 0:
                failures.append(f"{case.stem}: the generator failed ({done.returncode}): "
                                f"{done.stderr.strip()}")
                continue
            for output in case.outputs():
                if args.update:
                    shutil.copyfile(directory / output, GOLDEN / output)
                else:
                    failures += difference(GOLDEN / output, directory / output)
        for pair in args.server:
            schema, _, binary = pair.partition("=")
            failures += check_schema(schema, binary, directory)
    known = {case.schema for case in CASES} | {out for case in CASES for out in case.outputs()}
    failures += [f"{path.relative_to(ROOT)} belongs to no case of {Path(__file__).name}"
                 for path in sorted(GOLDEN.iterdir()) if path.name not in known]
    for line in failures:
        print(line)
    checked = sum(len(case.outputs()) for case in CASES)
    verb = "updated" if args.update else "compared"
    print(f"golden_test: {checked} files {verb}, {len(args.server)} schemas checked, "
          f"{'FAILED' if failures else 'ok'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
