"""The command line of the generator: ``codegen/shmrpc-codegen`` (any Python 3, nothing
installed), and ``python -m shmrpc.codegen`` and ``shmrpc-codegen`` from the shmrpc package.

Exit status 0 when every file was written, 1 when the schema could not be read or used (the
message says why), 2 for bad usage (argparse), 3 when no server of that name runs.

Only ``--server NAME`` needs the shmrpc package (it reads the schema from the server's segment
through the package's compiled module); it is imported when that option is used, so the
generator runs from a schema file with the standard library alone.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from ._cpp_stub import generate_cpp
from ._python_stub import generate_pyi, generate_python
from ._schema import Schema, SchemaError, load

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NO_SERVER = 3


class _Failure(Exception):
    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def _read_schema(args: argparse.Namespace) -> Schema:
    if args.schema is not None:
        try:
            text = Path(args.schema).read_text(encoding="utf-8")
        except OSError as error:
            raise _Failure(f"shmrpc codegen: cannot read the schema file {args.schema}: "
                           f"{error.strerror}") from None
        except UnicodeDecodeError as error:
            raise _Failure(f"shmrpc codegen: {args.schema} is not UTF-8 text: {error}") from None
        return load(text, args.schema)
    return load(_server_schema(args.server), f"server {args.server!r}")


def _server_schema(server: str) -> str:
    """The schema JSON that running server `server` publishes, read with the shmrpc package."""
    try:
        import shmrpc
        core = importlib.import_module("shmrpc._core")  # the compiled module, untyped
    except ImportError as error:
        raise _Failure(f"shmrpc codegen: --server needs the shmrpc Python package, and "
                       f"{sys.executable} cannot import it ({error}); install it "
                       f"(python_client/README.md), or read the schema from a file: --schema "
                       f"FILE (shmrpc schema NAME -o FILE, or the server binary's --schema)"
                       ) from None
    try:
        text: str = core.segment_schema_json(server)
    except shmrpc.NoServerError as error:
        raise _Failure(str(error), EXIT_NO_SERVER) from None
    except (shmrpc.Error, ValueError) as error:
        raise _Failure(f"shmrpc codegen: cannot read the schema of server {server!r}: "
                       f"{error}") from None
    return text


def _write(path: str, text: str) -> None:
    """Writes `text` unless the file already holds it, so that builds do not redo their work."""
    target = Path(path)
    try:
        if target.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    try:
        if target.parent != Path():
            target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)  # readers never see half a file
    except OSError as error:
        raise _Failure(f"shmrpc codegen: cannot write {path}: {error.strerror}") from None


def _parser(prog: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Generates typed client stubs (a Python module with its .pyi, a C++ header) "
                    "for one shmrpc server from its JSON schema.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.epilog = ("examples:\n"
                     f"  {parser.prog} --server demo --python demo_client.py\n"
                     "  server_example --schema demo.json\n"
                     f"  {parser.prog} --schema demo.json --cpp demo_client.hpp "
                     "--class DemoClient\n"
                     "--server needs the shmrpc Python package; --schema needs only Python 3.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--server", metavar="NAME", help="read the schema of running server NAME")
    source.add_argument("--schema", metavar="FILE",
                        help="read the schema from FILE (shmrpc schema NAME -o FILE, or "
                             "server_example --schema FILE)")
    parser.add_argument("--python", metavar="OUT.py",
                        help="write the Python stub to OUT.py and its type stub to OUT.pyi")
    parser.add_argument("--cpp", metavar="OUT.hpp", help="write the C++ stub header to OUT.hpp")
    parser.add_argument("--class", dest="class_name", metavar="NAME",
                        help="name of the client class (default: from the server name, "
                             "demo -> DemoClient)")
    parser.add_argument("--cpp-include", metavar="HEADER", action="append", default=[],
                        help="C++: include HEADER for the structs and enums instead of defining "
                             "them (repeatable); static_asserts check them against the schema")
    parser.add_argument("--cpp-namespace", metavar="NS", default="",
                        help="C++: put the client class into namespace NS")
    return parser


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Runs the generator on `argv` (default: the command line); `prog` names the command in
    usage messages (default: the script's name)."""
    parser = _parser(prog)
    args = parser.parse_args(argv)
    if args.python is None and args.cpp is None:
        parser.error("nothing to generate: give --python OUT.py and/or --cpp OUT.hpp")
    if args.class_name is not None and not (args.class_name.isidentifier()
                                            and args.class_name.isascii()):
        parser.error(f"--class {args.class_name!r} is not an identifier")
    if args.python is not None and not args.python.endswith(".py"):
        parser.error(f"--python {args.python!r} must end in .py (the .pyi goes next to it)")
    try:
        schema = _read_schema(args)
        outputs: list[tuple[str, str]] = []
        if args.python is not None:
            outputs.append((args.python, generate_python(schema, args.class_name)))
            outputs.append((args.python + "i", generate_pyi(schema, args.class_name)))
        if args.cpp is not None:
            outputs.append((args.cpp, generate_cpp(schema, args.class_name,
                                                   tuple(args.cpp_include), args.cpp_namespace)))
        for path, text in outputs:  # all generated before any is written
            _write(path, text)
    except SchemaError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    except _Failure as error:
        print(error, file=sys.stderr)
        return error.status
    return EXIT_OK
