"""The commands of the ``shmrpc`` command line, one function each, and their exit codes. The
segment work (listing, read-only inspection, statistics, schema JSON, removal) is C++ in
shmrpc._core; ``call`` goes through the ordinary Python client, with its arguments parsed by
shell_values."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, NoReturn, Sequence

from .. import _core
from .._client import FunctionInfo, connect
from .._errors import Error, NoServerError, RemoteError
from .formatting import format_bytes, format_duration, format_ns, print_json, table
from .shell_values import ArgumentError, human, jsonable, parse_argument

__all__ = [
    "EXIT_CODES",
    "EXIT_FAILED",
    "EXIT_NO_SERVER",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandError",
    "cmd_call",
    "cmd_clean",
    "cmd_info",
    "cmd_ls",
    "cmd_schema",
    "cmd_stats",
]

EXIT_OK = 0
EXIT_FAILED = 1  # the call or operation failed: remote exception, server gone, timeout
EXIT_USAGE = 2  # bad command line, unknown function, wrong argument for the function
EXIT_NO_SERVER = 3  # no server of that name

EXIT_CODES = """\
exit codes:
  0  success
  1  the call or operation failed (remote exception, server gone or dead, timeout)
  2  usage error (bad command line, unknown function, wrong argument for the function)
  3  no such server"""

# A segment without a header younger than this may belong to a server that is starting.
STARTING_GRACE_S = 5.0

# Where segments and buffer segments live (C++ segment_path()), and the start of their names.
SHM_DIRECTORY = "/dev/shm"
SEGMENT_PREFIX = "shmrpc."


class CommandError(Exception):
    """Ends the command: `message` goes to stderr, `code` is the exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _fail(code: int, message: str) -> NoReturn:
    raise CommandError(code, message)


# --- segments -------------------------------------------------------------------------------


_NAME_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _valid_name(name: str) -> bool:
    """The rule of C++ validate_name: a name that cannot leave /dev/shm and has no '@'."""
    return bool(name) and len(name) <= 200 and not name.startswith(".") \
        and set(name) <= _NAME_CHARACTERS


def _validate_name(name: str) -> None:
    if not _valid_name(name):
        _fail(
            EXIT_USAGE,
            f"shmrpc: {name!r} cannot be a server name: 1 to 200 letters, digits, '.', '_' or "
            "'-', not starting with '.'",
        )


def _inspect(name: str) -> dict[str, Any]:
    """The segment of server `name`; exit 3 when there is none."""
    _validate_name(name)
    seen: dict[str, Any] = _core.inspect_segment(name)
    if seen["liveness"] == "none" and not seen["problem"]:
        _fail(EXIT_NO_SERVER, f"shmrpc: no server named {name!r} (no /dev/shm/shmrpc.{name})")
    return seen


def _status(seen: dict[str, Any]) -> str:
    """alive / dead / starting / stopping / unknown, for a person."""
    if not seen["known_format"] and seen["liveness"] in ("none", "starting") and seen["problem"]:
        return "starting" if seen["liveness"] == "starting" else "unknown"
    if seen["liveness"] == "alive" and seen["state"] == "stopping":
        return "stopping"
    return str(seen["liveness"])


def _uptime(seen: dict[str, Any]) -> float | None:
    if not seen["known_format"] or not seen["created_unix_ms"]:
        return None
    created_unix_ms: int = seen["created_unix_ms"]
    return max(0.0, time.time() - created_unix_ms / 1000)


def _segment_json(seen: dict[str, Any]) -> dict[str, Any]:
    data = dict(seen)
    data["status"] = _status(seen)
    data["uptime_s"] = _uptime(seen)
    return data


def _read_schema(name: str) -> dict[str, Any]:
    try:
        return json.loads(_core.segment_schema_json(name))  # type: ignore[no-any-return]
    except NoServerError as error:
        _fail(EXIT_NO_SERVER, str(error))
    except Error as error:
        _fail(EXIT_FAILED, f"shmrpc: cannot read the functions of {name!r}: {error}")


# --- ls ---------------------------------------------------------------------------------------


def cmd_ls(args: argparse.Namespace) -> int:
    segments = [_core.inspect_segment(name) for name in _core.list_segments()]
    segments = [seen for seen in segments if seen["liveness"] != "none" or seen["problem"]]
    if args.json:
        print_json([_segment_json(seen) for seen in segments])
        return EXIT_OK
    if not segments:
        print("no shmrpc servers (no /dev/shm/shmrpc.* segments)")
        return EXIT_OK
    rows = []
    for seen in segments:
        known = seen["known_format"]
        uptime = _uptime(seen)
        note = seen["problem"]
        rows.append([
            seen["name"],
            str(seen["server_pid"]) if known else "-",
            _status(seen),
            str(seen["function_count"]) if known else "-",
            f"{seen['channels_in_use']}/{seen['channel_count']}" if known else "-",
            format_bytes(seen["file_size"]),
            format_duration(uptime) if uptime is not None else "-",
            note,
        ])
    print(table(["NAME", "PID", "STATUS", "FUNCS", "CHANNELS", "SIZE", "AGE", ""], rows,
                 right={1, 3, 4, 5, 6}))
    return EXIT_OK


# --- info -------------------------------------------------------------------------------------


def cmd_info(args: argparse.Namespace) -> int:
    seen = _inspect(args.name)
    schema = _read_schema(args.name) if seen["known_format"] and seen["state"] != "starting" \
        else None
    functions = schema["functions"] if schema else []
    if args.json:
        print_json({
            "segment": _segment_json(seen),
            "layout_hash": schema["layout_hash"] if schema else None,
            "functions": functions,
        })
        return EXIT_OK
    print(f"server {seen['name']}: {_status(seen)}")
    if not seen["known_format"]:
        print(f"  {seen['problem']}")
        print(f"  file /dev/shm/shmrpc.{seen['name']}, {format_bytes(seen['file_size'])}")
        return EXIT_OK
    uptime = _uptime(seen)
    created = time.strftime("%Y-%m-%d %H:%M:%S",
                            time.localtime(seen["created_unix_ms"] / 1000))
    print(f"  pid {seen['server_pid']}, state {seen['state']}, "
          f"format version {seen['format_version']}")
    if uptime is not None:
        print(f"  up {format_duration(uptime)} (since {created})")
    print(f"  segment {format_bytes(seen['segment_size'])}, {seen['channel_count']} channels "
          f"({seen['channels_in_use']} in use), {seen['function_count']} functions"
          + (f", layout hash {schema['layout_hash']}" if schema else ""))
    print()
    print("functions:")
    for function in functions:
        print(f"  {function['signature']}")
        for line in function["doc"].strip().splitlines():
            print(f"      {line}")
    if not functions:
        print("  (none)")
    print()
    print("channels:")
    names = [function["name"] for function in functions]
    rows = []
    for channel in seen["channels"]:
        owner = channel["owner_pid"]
        if owner == 0:
            owner_text = "free"
        else:
            owner_text = str(owner) + ("" if channel["owner_alive"] else " (dead)")
        index = channel["function_index"]
        last = names[index] if owner != 0 and channel["state"] != "idle" and index < len(names) \
            else ""
        rows.append([str(channel["index"]), owner_text, channel["state"], last])
    print(table(["  #", "OWNER", "CALL", "FUNCTION"], [["  " + r[0], *r[1:]] for r in rows],
                 right={0}))
    return EXIT_OK


# --- call -------------------------------------------------------------------------------------

def _remote_failure(info: FunctionInfo, error: RemoteError) -> NoReturn:
    _fail(EXIT_FAILED, f"shmrpc: {info.name} failed on the server: "
                       f"{error.remote_type or 'exception'}: {error.remote_message}")


def _print_stream(stream: Any, info: FunctionInfo, as_json: bool) -> None:
    """Prints each element of a stream on its own line as it comes, until the stream ends. On
    Ctrl-C (KeyboardInterrupt, exit 130 in main) or a failure the ``with`` closes the stream,
    which cancels the function on the server."""
    with stream:
        try:
            for element in stream:
                print(json.dumps(jsonable(element)) if as_json else human(element), flush=True)
        except RemoteError as error:
            _remote_failure(info, error)
        except Error as error:  # ServerGoneError, TimeoutError, ...
            _fail(EXIT_FAILED, f"shmrpc: {info.name}: {error}")


def _call_function(client: Any, info: FunctionInfo, words: list[str]) -> tuple[Any, list[Any]]:
    if len(words) != len(info.arguments):
        _fail(EXIT_USAGE,
              f"shmrpc: {info.name} takes {len(info.arguments)} argument"
              f"{'' if len(info.arguments) == 1 else 's'}, got {len(words)}: {info.signature}")
    annotations = [parameter.annotation
                   for parameter in info.python_signature.parameters.values()]
    try:
        values = [
            parse_argument(word, argument, annotation,
                           f"argument {argument.name!r} of {info.signature}")
            for word, argument, annotation in zip(words, info.arguments, annotations)
        ]
    except ArgumentError as error:
        _fail(EXIT_USAGE, str(error))
    try:
        result = client.function(info.name)(*values)
    except RemoteError as error:
        _remote_failure(info, error)
    except (TypeError, ValueError, OverflowError) as error:
        message = str(error).removeprefix("shmrpc: ")
        _fail(EXIT_USAGE, f"shmrpc: {message} ({info.signature})")
    except MemoryError as error:
        _fail(EXIT_FAILED, f"shmrpc: {info.name}: {error}")
    return result, values


def cmd_call(args: argparse.Namespace) -> int:
    _validate_name(args.name)
    try:
        client = connect(args.name, timeout=args.timeout, connect_timeout=args.connect_timeout)
    except NoServerError as error:
        _fail(EXIT_NO_SERVER, str(error))
    except ValueError as error:
        _fail(EXIT_USAGE, str(error))
    except Error as error:
        _fail(EXIT_FAILED, str(error))
    with client:
        infos = {info.name: info for info in client.functions()}
        info = infos.get(args.function)
        if info is None:
            _fail(EXIT_USAGE, f"shmrpc: server {args.name!r} has no function {args.function!r}; "
                              f"it has: {', '.join(infos) or '(none)'}")
        try:
            result, values = _call_function(client, info, list(args.arguments))
        except Error as error:  # ServerGoneError, TimeoutError, ProtocolError, ...
            _fail(EXIT_FAILED, f"shmrpc: {info.name}: {error}")
        if info.streams:
            _print_stream(result, info, args.json)
        written = {
            argument.name: jsonable(value)
            for argument, value in zip(info.arguments, values) if argument.mutable
        }
        if info.streams:
            if written:  # after the elements, once the function has returned
                print(json.dumps({"written": written}) if args.json else
                      "\n".join(f"{name} = {json.dumps(value)}" for name, value in written.items()))
            return EXIT_OK
        if args.json:
            data: Any = jsonable(result)
            if written:
                data = {"result": data, "written": written}
            print(json.dumps(data))
            return EXIT_OK
        if info.return_type != "void":
            print(human(result))
        for name, value in written.items():
            print(f"{name} = {json.dumps(value)}")
    return EXIT_OK


# --- stats ------------------------------------------------------------------------------------


def _percentile(buckets: Sequence[int], fraction: float, max_ns: int) -> float | None:
    """Latency below which `fraction` of the timed calls fall, from the log2 histogram: bucket i
    holds [2^i, 2^(i+1)) ns; interpolated linearly within the bucket, at most max_ns."""
    total = sum(buckets)
    if total == 0:
        return None
    target = fraction * total
    seen = 0
    for index, count in enumerate(buckets):
        if count and seen + count >= target:
            low = 0 if index == 0 else 2**index
            high = 2 ** (index + 1)
            estimate = low + (high - low) * (target - seen) / count
            return float(min(estimate, max_ns)) if max_ns else float(estimate)
        seen += count
    return float(max_ns)


def _summarise(entry: dict[str, Any]) -> dict[str, Any]:
    timed = entry["timed"]
    return {
        "name": entry["name"],
        "calls": entry["calls"],
        "errors": entry["errors"],
        "timed": timed,
        "mean_ns": entry["total_ns"] / timed if timed else None,
        "p50_ns": _percentile(entry["buckets"], 0.50, entry["max_ns"]),
        "p99_ns": _percentile(entry["buckets"], 0.99, entry["max_ns"]),
        "max_ns": entry["max_ns"] if timed else None,
        "buckets": entry["buckets"],
        "streams": entry["streams"],
        "elements": entry["elements"],
        "element_bytes": entry["element_bytes"],
    }


def _read_stats(name: str) -> list[dict[str, Any]]:
    try:
        return [_summarise(entry) for entry in _core.segment_stats(name)]
    except NoServerError as error:
        _fail(EXIT_NO_SERVER, str(error))
    except Error as error:
        _fail(EXIT_FAILED, f"shmrpc: cannot read the statistics of {name!r}: {error}")


def _stats_table(stats: list[dict[str, Any]], rates: dict[str, float] | None) -> str:
    headers = ["FUNCTION", "CALLS", "ERRORS", "MEAN", "P50", "P99", "MAX"]
    if rates is not None:
        headers.insert(2, "CALLS/S")
    # A server with functions that stream: what they wrote, "-" for the others.
    streams = any(entry["streams"] for entry in stats)
    if streams:
        headers += ["ELEMENTS", "BYTES"]
    rows = []
    for entry in stats:
        row = [entry["name"], str(entry["calls"]), str(entry["errors"]),
               format_ns(entry["mean_ns"]), format_ns(entry["p50_ns"]),
               format_ns(entry["p99_ns"]), format_ns(entry["max_ns"])]
        if rates is not None:
            row.insert(2, f"{rates.get(entry['name'], 0.0):.1f}")
        if streams:
            row += ([str(entry["elements"]), format_bytes(entry["element_bytes"])]
                    if entry["streams"] else ["-", "-"])
        rows.append(row)
    return table(headers, rows, right=set(range(1, len(headers))))


def cmd_stats(args: argparse.Namespace) -> int:
    seen = _inspect(args.name)
    if not args.watch:
        stats = _read_stats(args.name)
        if args.json:
            print_json({"server": args.name, "status": _status(seen), "functions": stats})
        else:
            print(_stats_table(stats, None))
        return EXIT_OK
    if args.interval <= 0:
        _fail(EXIT_USAGE, f"shmrpc: --interval must be a positive number of seconds; got "
                          f"{args.interval}")
    previous: dict[str, int] = {}
    previous_time = time.monotonic()
    try:
        while True:
            stats = _read_stats(args.name)
            seen = _core.inspect_segment(args.name)
            now = time.monotonic()
            elapsed = max(now - previous_time, 1e-9)
            rates = {entry["name"]: (entry["calls"] - previous.get(entry["name"], entry["calls"]))
                     / elapsed for entry in stats}
            previous = {entry["name"]: entry["calls"] for entry in stats}
            previous_time = now
            if args.json:
                print(json.dumps({"server": args.name, "status": _status(seen),
                                  "time": time.time(), "functions": stats,
                                  "calls_per_s": rates}), flush=True)
            else:
                # Home the cursor and clear the screen, as top does.
                sys.stdout.write("\x1b[H\x1b[2J")
                sys.stdout.write(
                    f"shmrpc stats {args.name}: {_status(seen)}, pid {seen['server_pid']}, "
                    f"every {args.interval:g} s  {time.strftime('%H:%M:%S')}  (Ctrl-C quits)\n\n")
                sys.stdout.write(_stats_table(stats, rates) + "\n")
                sys.stdout.flush()
            if args.count is not None:
                args.count -= 1
                if args.count <= 0:
                    return EXIT_OK
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return EXIT_OK


# --- schema -----------------------------------------------------------------------------------


def cmd_schema(args: argparse.Namespace) -> int:
    _inspect(args.name)
    try:
        text = _core.segment_schema_json(args.name)
    except NoServerError as error:
        _fail(EXIT_NO_SERVER, str(error))
    except Error as error:
        _fail(EXIT_FAILED, f"shmrpc: cannot read the schema of {args.name!r}: {error}")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


# --- clean ------------------------------------------------------------------------------------


def _removable(seen: dict[str, Any]) -> bool:
    if seen["liveness"] == "dead":
        return True
    modified_unix_ms: int = seen["modified_unix_ms"]
    age = time.time() - modified_unix_ms / 1000
    return seen["liveness"] == "starting" and age >= STARTING_GRACE_S


def _describe_dead(seen: dict[str, Any]) -> str:
    if seen["liveness"] == "starting":
        return "never finished starting"
    return f"server pid {seen['server_pid']} is dead"


def _buffer_files(name: str) -> list[tuple[str, int]]:
    """The buffer files of server `name` (SPEC 6.6: shmrpc.NAME@ID, ID decimal digits) with their
    sizes in bytes, sorted; the rule of C++ BufferTable::remove_leftovers."""
    prefix = f"{SEGMENT_PREFIX}{name}@"
    files: list[tuple[str, int]] = []
    with os.scandir(SHM_DIRECTORY) as entries:
        for entry in entries:
            rest = entry.name[len(prefix):]
            if entry.name.startswith(prefix) and rest.isascii() and rest.isdigit():
                try:
                    files.append((entry.name, entry.stat(follow_symlinks=False).st_size))
                except FileNotFoundError:
                    pass  # released meanwhile
    return sorted(files)


def _buffer_servers() -> list[str]:
    """Names of the servers that have buffer files in /dev/shm, whether or not their segment
    exists."""
    names: set[str] = set()
    for file in os.listdir(SHM_DIRECTORY):
        name, at, rest = file.removeprefix(SEGMENT_PREFIX).partition("@")
        if file.startswith(SEGMENT_PREFIX) and at and rest.isascii() and rest.isdigit() \
                and _valid_name(name):
            names.add(name)
    return sorted(names)


def _count_files(count: int) -> str:
    return f"{count} buffer file{'' if count == 1 else 's'}"


def _remove_buffers(name: str, dry_run: bool, segment: str | None) -> bool:
    """Removes the buffer files of server `name` (with `dry_run` only lists them) and prints one
    line: "removed NAME (why) and its N buffer files, SIZE" when `segment` ("NAME (why)") was
    removed just before, else "removed N buffer files of NAME, SIZE (no server segment)". Call it
    only once the name's segment is gone; it looks once more before removing. False when some
    file could not be removed."""
    files = _buffer_files(name)
    verb = "would remove" if dry_run else "removed"
    if not files:
        if segment is not None:
            print(f"{verb} {segment}")
        return True
    stuck = 0
    if dry_run:
        removed, size = len(files), sum(size for _, size in files)
    else:
        # A server publishes its segment before it makes any buffer (SPEC 6.6), and the next
        # server of this name removes these files itself once it holds the name: look again, so
        # that a server started meanwhile keeps its buffers.
        again = _core.inspect_segment(name)
        if again["liveness"] != "none" or again["problem"]:
            if segment is not None:
                print(f"{verb} {segment}")
            print(f"shmrpc: left the buffer files of {name!r} alone: a server of that name is "
                  f"{_status(again)} now", file=sys.stderr)
            return True
        removed = _core.remove_buffer_leftovers(name)
        remaining = {file for file, _ in _buffer_files(name)}
        size = sum(size for file, size in files if file not in remaining)
        stuck = sum(1 for file, _ in files if file in remaining)  # another user's, say
    files_text = f"{_count_files(removed)}, {format_bytes(size)}"
    if segment is not None:
        print(f"{verb} {segment} and its {files_text}")
    else:
        print(f"{verb} {_count_files(removed)} of {name}, {format_bytes(size)} (no server segment)")
    if stuck:
        print(f"shmrpc: could not remove {_count_files(stuck)} of {name!r}", file=sys.stderr)
    return stuck == 0


def cmd_clean(args: argparse.Namespace) -> int:
    for name in args.names:
        _validate_name(name)
    names = args.names or sorted(set(_core.list_segments()) | set(_buffer_servers()))
    code = EXIT_OK
    removed: list[str] = []
    for name in names:
        seen = _core.inspect_segment(name)
        if seen["liveness"] == "none" and not seen["problem"]:
            if _buffer_files(name):  # orphans: their server's segment is gone
                if not _remove_buffers(name, args.dry_run, None):
                    code = max(code, EXIT_FAILED)
                removed.append(name)
            elif args.names:
                print(f"shmrpc: no server named {name!r}", file=sys.stderr)
                code = max(code, EXIT_NO_SERVER)
            continue
        if not _removable(seen):
            if args.names:
                print(f"shmrpc: left {name!r} alone: {_status(seen)}"
                      + (f" (pid {seen['server_pid']})" if seen["known_format"] else "")
                      + (f": {seen['problem']}" if seen["problem"] else ""), file=sys.stderr)
                code = max(code, EXIT_FAILED)
            continue
        segment = f"{name} ({_describe_dead(seen)})"
        if args.dry_run:
            _remove_buffers(name, True, segment)
            removed.append(name)
            continue
        outcome = _core.remove_dead_segment(name, int(STARTING_GRACE_S * 1000))
        if outcome == "removed":
            if not _remove_buffers(name, False, segment):
                code = max(code, EXIT_FAILED)
            removed.append(name)
        elif outcome == "gone" and _buffer_files(name):  # removed by someone else meanwhile
            if not _remove_buffers(name, False, None):
                code = max(code, EXIT_FAILED)
            removed.append(name)
        elif outcome != "gone":
            print(f"shmrpc: left {name!r} alone: it is {outcome} now", file=sys.stderr)
    if not removed and not args.names:
        print("no segments or buffer files of dead servers")
    return code
