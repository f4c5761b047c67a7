"""``python -m shmrpc.codegen``: see :mod:`shmrpc.codegen._command`."""

import sys

from ._command import main

sys.exit(main())
