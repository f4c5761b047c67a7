"""The argument parser of the ``shmrpc`` command line: its commands, their options and help."""

from __future__ import annotations

import argparse
from typing import Callable

from .. import __version__
from .commands import EXIT_CODES, cmd_call, cmd_clean, cmd_info, cmd_ls, cmd_schema, cmd_stats

__all__ = ["build_parser"]


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="shmrpc",
        description="Look at the shmrpc servers on this machine and call their functions.",
        epilog=EXIT_CODES + "\n\nRun 'shmrpc COMMAND --help' for the options of a command.",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"shmrpc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, summary: str, description: str, example: str,
                handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=summary, description=description, formatter_class=formatter,
            epilog="example:\n" + example + "\n\n" + EXIT_CODES,
        )
        sub.set_defaults(handler=handler)
        return sub

    ls = command("ls", "list every shmrpc server on this machine",
                 "Lists every shmrpc segment in /dev/shm: server name and pid, whether the server "
                 "is alive, dead (its segment left behind) or starting, its number of functions, "
                 "channels in use / total, segment size and age.",
                 "  shmrpc ls", cmd_ls)
    ls.add_argument("--json", action="store_true", help="print JSON")

    info = command("info", "functions, channels and uptime of one server",
                   "Shows a server's functions with full signatures and docs, its channels with "
                   "their owner pid and call state, its pid, uptime and format version. Works on "
                   "a dead server's segment too.",
                   "  shmrpc info demo", cmd_info)
    info.add_argument("name", metavar="NAME", help="server name")
    info.add_argument("--json", action="store_true", help="print JSON")

    call = command(
        "call", "call a function from the shell",
        "Calls function FUNC of server NAME with one shell word per argument, parsed by the "
        "argument's type: integers (decimal or 0x hex), floats, true/false, strings as they are, "
        "arrays and spans as JSON lists (nested for arrays of arrays). Prints the result (for a "
        "span the function writes into, also its new contents). A function that streams "
        "(-> stream<T>) prints one element per line as it comes (with --json, one JSON document "
        "per line) until it ends; Ctrl-C stops it on the server. Put '--' before arguments that "
        "start with '-' but are not plain negative integers.",
        "  shmrpc call demo add 2 3\n  shmrpc call demo dot '[1, 2]' '[3, 4]'\n"
        "  shmrpc call demo greet World --json\n  shmrpc call demo simulate 4 3 --json",
        cmd_call,
    )
    call.add_argument("name", metavar="NAME", help="server name")
    call.add_argument("function", metavar="FUNC", help="function name")
    call.add_argument("arguments", metavar="ARG", nargs="*", help="the function's arguments")
    call.add_argument("--json", action="store_true",
                      help="print the result as JSON (a stream: JSON lines)")
    call.add_argument("--timeout", type=float, default=None, metavar="S",
                      help="fail (exit 1) when the call takes longer than S seconds")
    call.add_argument("--connect-timeout", type=float, default=1.0, metavar="S",
                      help="how long to wait for a server that is starting (default 1)")

    stats = command(
        "stats", "calls, errors and latency per function",
        "Shows per function the calls, errors, mean, p50, p99 and max latency, from counters "
        "and a log2 latency histogram that the server keeps in shared memory. Latencies are "
        "measured in the server, from taking a call to finishing it; percentiles are estimates "
        "within their power-of-two bucket, and fast functions are timed one call in 64. For "
        "functions that stream, also the elements written and their bytes.",
        "  shmrpc stats demo\n  shmrpc stats demo --watch --interval 0.5",
        cmd_stats,
    )
    stats.add_argument("name", metavar="NAME", help="server name")
    stats.add_argument("--watch", action="store_true",
                       help="refresh like top, with calls/s since the last refresh; Ctrl-C quits")
    stats.add_argument("--interval", type=float, default=1.0, metavar="S",
                       help="seconds between refreshes with --watch (default 1)")
    stats.add_argument("--count", type=int, default=None, metavar="N",
                       help="with --watch, stop after N refreshes")
    stats.add_argument("--json", action="store_true",
                       help="print JSON (with --watch, one JSON document per line)")

    schema = command("schema", "the server's JSON schema (read by codegen)",
                     "Prints the JSON schema of a server's functions and types: names, docs, "
                     "signatures and their hashes, argument and result types.",
                     "  shmrpc schema demo > demo.json", cmd_schema)
    schema.add_argument("name", metavar="NAME", help="server name")
    schema.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    clean = command(
        "clean", "remove the segments and buffer files of dead servers",
        "Removes the segments left in /dev/shm by servers that died (and segments that never "
        "got a header, older than 5 s), with their buffer files (shmrpc.NAME@ID), and the "
        "buffer files of names that have no segment any more. Liveness is checked again right "
        "before each removal; a live server's segment and buffers are never removed.",
        "  shmrpc clean --dry-run\n  shmrpc clean", cmd_clean,
    )
    clean.add_argument("names", metavar="NAME", nargs="*",
                       help="only these servers (default: every segment)")
    clean.add_argument("--dry-run", action="store_true",
                       help="only list what would be removed")
    return parser
