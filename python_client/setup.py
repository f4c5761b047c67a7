"""Builds shmrpc._core with CMake for pip; the metadata is in pyproject.toml.

    pip install --no-build-isolation ./python_client

The extension is the CMake target _core of the repository around this directory (pip builds a
local directory in place, so the C++ sources are found at ..). Environment:
  SHMRPC_CMAKE_ARGS  extra arguments for the CMake configure step, e.g. "-G Ninja"
  SHMRPC_BUILD_JOBS  parallel build jobs (default: all CPUs)
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        if not (ROOT / "CMakeLists.txt").is_file() or not (ROOT / "include/shmrpc").is_dir():
            raise RuntimeError(
                f"shmrpc: {ROOT} is not the shmrpc repository; build from a checkout "
                "(pip install --no-build-isolation ./python_client)"
            )
        build_dir = Path(self.build_temp).resolve() / "cmake"
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DPython_EXECUTABLE={sys.executable}",
            "-DSHMRPC_BUILD_PYTHON=ON",
            "-DSHMRPC_BUILD_TESTS=OFF",
            "-DSHMRPC_BUILD_BENCH=OFF",
            "-DSHMRPC_BUILD_EXAMPLES=OFF",
            *shlex.split(os.environ.get("SHMRPC_CMAKE_ARGS", "")),
        ]
        jobs = os.environ.get("SHMRPC_BUILD_JOBS", str(os.cpu_count() or 1))
        subprocess.run(configure, check=True)
        subprocess.run(
            ["cmake", "--build", str(build_dir), "--target", "_core", "-j", jobs], check=True
        )
        built = list((build_dir / "python_client" / "shmrpc").glob("_core*.so"))
        if len(built) != 1:
            raise RuntimeError(f"shmrpc: expected one _core*.so in {build_dir}, found {built}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)


setup(ext_modules=[CMakeExtension("shmrpc._core")], cmdclass={"build_ext": CMakeBuild})
