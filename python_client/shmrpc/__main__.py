"""``python -m shmrpc``: the shmrpc command line (see shmrpc._cli)."""

from ._cli import main

raise SystemExit(main())
