"""The ``shmrpc`` command line: look at the servers on this machine and call them from a shell.

    shmrpc ls                       every server: pid, alive or dead, functions, channels, size
    shmrpc info NAME                functions with signatures and docs, channels, uptime
    shmrpc call NAME FUNC ARGS...   call a function; the result on stdout
    shmrpc stats NAME [--watch]     calls, errors and latency per function
    shmrpc schema NAME              the JSON schema (codegen reads it)
    shmrpc clean [--dry-run]        remove the segments of dead servers

Run as ``shmrpc`` (the console script) or ``python -m shmrpc``. Its modules: ``parser`` (the
commands, options and help), ``commands`` (what each command does, and the exit codes, see
``EXIT_CODES``), ``formatting`` (tables and units for people) and ``shell_values`` (shell words
to arguments, results to JSON).
"""

from __future__ import annotations

import os
import sys
from typing import Sequence

from .commands import EXIT_FAILED, EXIT_OK, CommandError
from .parser import build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except CommandError as error:
        print(str(error), file=sys.stderr)
        return error.code
    except BrokenPipeError:
        # The reader went away (shmrpc ls | head): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as error:
        # A segment that cannot be opened (PermissionError for another user's, ...): the client's
        # message names the segment and the reason.
        message = error.strerror if error.filename is None and error.strerror else str(error)
        print(f"shmrpc: {message}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
