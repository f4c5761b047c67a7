"""shmrpc codegen: typed client stubs for one server, from its JSON schema.

    python3 codegen/shmrpc-codegen --schema demo.json --python demo_client.py --class Demo
    python -m shmrpc.codegen --server demo --python demo_client.py --cpp demo_client.hpp

This package is codegen/shmrpc_codegen/ in the repository, run by codegen/shmrpc-codegen with
the standard library alone (and installed with the C++ package for shmrpc_generate_client); the
shmrpc Python package ships it as shmrpc.codegen.

The schema comes from a running server (``--server NAME``, as ``shmrpc schema NAME`` prints it)
or from a file (``--schema FILE``, e.g. written by ``server_example --schema FILE``). The Python
stub (and its .pyi next to it) and the C++ header each hold a typed client class; both check at
connect that the server still matches the schema. The output depends on the schema alone, so
the same schema always gives byte-identical files.
"""

from ._cpp_stub import generate_cpp
from ._python_stub import generate_pyi, generate_python
from ._schema import Schema, SchemaError, load

__all__ = ["Schema", "SchemaError", "generate_cpp", "generate_pyi", "generate_python", "load"]
