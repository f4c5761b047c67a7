"""``python -m shmrpc.codegen`` (from the shmrpc package) or ``python -m shmrpc_codegen`` (with
codegen/ on the path): see :mod:`._command`."""

import sys

from ._command import main

sys.exit(main(prog=f"python -m {__package__}"))
