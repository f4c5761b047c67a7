"""``python -m shmrpc``: the shmrpc command line (see shmrpc.cli)."""

from .cli import main

raise SystemExit(main())
