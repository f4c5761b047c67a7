"""The shmrpc command line (python -m shmrpc), run as a subprocess against real servers."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Callable, Iterator

import pytest

import shmrpc
from shmrpc.cli.formatting import format_bytes

from conftest import ServerProcess, channel_count, segment_path, unique_name

COMMANDS = ["ls", "info", "call", "stats", "schema", "clean"]

# server_example's functions, in the order it registers them.
FUNCTIONS = ["add", "dot", "scale", "stats", "greet", "range", "step", "energy", "heaviest",
             "sleep_ms", "fail", "blur", "total", "segment", "word_counts", "simulate"]

# One demo::Particle as JSON, 1 m up, moving at 1 m/s along x.
PARTICLE = '{"pos": [0, 0, 1], "vel": [1, 0, 0], "mass": 2}'

# "SHMRPC1\x01" read as a little-endian u64 (layout.hpp kMagic).
MAGIC = 0x0131_4350_524D_4853


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shmrpc", *args],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def run_json(*args: str) -> object:
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command line in this process (what the console script runs): exit code, stdout and
    stderr. Faster than a subprocess, for the many cases of parsing."""
    from shmrpc import cli

    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def interrupted(ready: Callable[[IO[str]], None], *args: str) -> tuple[int, str]:
    """The command line as a process, sent SIGINT once `ready` has read what it waits for from
    its stdout: its exit code and stderr."""
    process = subprocess.Popen([sys.executable, "-m", "shmrpc", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready(process.stdout)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    return process.returncode, stderr


def line_of(output: str, name: str) -> str:
    lines = [line for line in output.splitlines() if line.split() and line.split()[0] == name]
    assert len(lines) == 1, output
    return lines[0]


@pytest.fixture
def dead(server_example_binary: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server_example killed with SIGKILL: its segment stays behind."""
    server = ServerProcess(server_example_binary, tmp_path, "pydead")
    server.kill()
    yield server
    server.stop()


@pytest.fixture
def leftovers() -> Iterator[list[Path]]:
    """Files in /dev/shm that a test names or makes: each path, and for a segment path
    shmrpc.NAME also every shmrpc.NAME@..., are removed on teardown, also when the test fails.
    Ask for it before the server fixtures, so that it tears down after them."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        for buffer in path.parent.glob(f"{path.name}@*"):
            buffer.unlink(missing_ok=True)
        path.unlink(missing_ok=True)


def buffer_files(name: str) -> dict[str, int]:
    """The buffer files shmrpc.NAME@<digits> of server `name`, with their sizes."""
    prefix = f"shmrpc.{name}@"
    return {path.name: path.stat().st_size for path in Path("/dev/shm").iterdir()
            if path.name.startswith(prefix) and path.name[len(prefix):].isdigit()}


def files_text(files: dict[str, int]) -> str:
    """How clean counts `files`: "2 buffer files, 16.0 MiB"."""
    return (f"{len(files)} buffer file{'' if len(files) == 1 else 's'}, "
            f"{format_bytes(sum(files.values()))}")


@pytest.fixture
def fake_segment() -> Iterator[Path]:
    """A /dev/shm/shmrpc.* file that tests fill with headers of their own."""
    path = segment_path(unique_name("pyfake"))
    yield path
    path.unlink(missing_ok=True)


# --- help and usage --------------------------------------------------------------------------


def test_help_names_every_command_and_the_exit_codes() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout
    assert "exit codes" in result.stdout
    assert "3  no such server" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: shmrpc {command}")
    assert "example:" in result.stdout and "exit codes" in result.stdout


def test_a_bad_command_line_is_a_usage_error() -> None:
    assert run().returncode == 2
    assert run("frobnicate").returncode == 2
    result = run("info")
    assert result.returncode == 2
    assert "NAME" in result.stderr


def test_a_name_that_cannot_be_a_server_is_a_usage_error() -> None:
    result = run("info", "../etc")
    assert result.returncode == 2
    assert "cannot be a server name" in result.stderr


def test_main_returns_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    from shmrpc import cli  # what the console script runs

    assert cli.main(["info", unique_name("nobody")]) == 3
    assert "no server named" in capsys.readouterr().err
    assert cli.main(["ls", "--json"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), list)
    pyproject = (Path(__file__).parents[2] / "python_client" / "pyproject.toml").read_text()
    assert 'shmrpc = "shmrpc.cli:main"' in pyproject


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"shmrpc {shmrpc.__version__}"


# --- ls --------------------------------------------------------------------------------------


def test_ls_shows_a_live_server_with_its_pid(demo: ServerProcess) -> None:
    result = run("ls")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[:7] == [
        "NAME", "PID", "STATUS", "FUNCS", "CHANNELS", "SIZE", "AGE"]
    fields = line_of(result.stdout, demo.name).split()
    channels = channel_count(demo.name)
    assert fields[1:5] == [str(demo.pid), "alive", str(len(FUNCTIONS)), f"0/{channels}"]


def test_ls_json_counts_channels_in_use(demo: ServerProcess) -> None:
    with shmrpc.connect(demo.name) as client:
        client.add(1, 2)
        entries = run_json("ls", "--json")
    assert isinstance(entries, list)
    (entry,) = [e for e in entries if e["name"] == demo.name]
    assert entry["server_pid"] == demo.pid
    assert entry["status"] == "alive"
    assert entry["format_version"] == shmrpc._core.FORMAT_VERSION
    assert entry["function_count"] == len(FUNCTIONS)
    assert entry["channel_count"] == channel_count(demo.name)
    assert entry["channels_in_use"] == 1  # one call at a time: one call slot
    assert entry["file_size"] == entry["segment_size"] > 0
    assert entry["uptime_s"] >= 0


def test_ls_shows_a_dead_server_as_dead(demo: ServerProcess, dead: ServerProcess) -> None:
    result = run("ls")
    assert result.returncode == 0, result.stderr
    assert line_of(result.stdout, dead.name).split()[1:3] == [str(dead.pid), "dead"]
    assert line_of(result.stdout, demo.name).split()[1:3] == [str(demo.pid), "alive"]


def test_ls_lists_a_segment_of_another_format_version(fake_segment: Path) -> None:
    header = struct.pack("<QII", MAGIC, 99, 256) + bytes(256 - 16)
    fake_segment.write_bytes(header)
    result = run("ls")
    assert result.returncode == 0, result.stderr
    line = line_of(result.stdout, fake_segment.name.removeprefix("shmrpc."))
    assert "unknown" in line and "format version 99" in line
    info = run("info", fake_segment.name.removeprefix("shmrpc."))
    assert info.returncode == 0, info.stderr
    assert "format version 99" in info.stdout


def test_ls_lists_a_file_that_is_not_a_shmrpc_segment(fake_segment: Path) -> None:
    fake_segment.write_bytes(b"not a segment".ljust(300, b"!"))
    result = run("ls")
    assert result.returncode == 0, result.stderr
    assert "not a shmrpc segment" in line_of(result.stdout, fake_segment.name[len("shmrpc."):])


def test_ls_does_not_list_buffer_files_as_servers(leftovers: list[Path]) -> None:
    name = unique_name("pyorphan")
    leftovers.append(segment_path(name))
    for suffix in ("@1", "@abc"):
        Path(f"{segment_path(name)}{suffix}").write_bytes(bytes(4096))
    result = run("ls")
    assert result.returncode == 0, result.stderr
    assert name not in result.stdout
    entries = run_json("ls", "--json")
    assert isinstance(entries, list)
    assert all("@" not in entry["name"] for entry in entries)
    assert run("info", name).returncode == 3


# --- info ------------------------------------------------------------------------------------


def test_info_shows_signatures_docs_channels_and_uptime(demo: ServerProcess) -> None:
    with shmrpc.connect(demo.name) as client:
        client.add(1, 2)
        result = run("info", demo.name)
        channel = client.channel
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"server {demo.name}: alive" in out
    assert f"pid {demo.pid}, state ready, format version {shmrpc._core.FORMAT_VERSION}" in out
    assert "  up " in out
    assert "  add(a: int64, b: int64) -> int64\n      Sum of two integers.\n" in out
    assert "scale(values: span<float64>, factor: float64) -> void" in out
    assert "Throws std::runtime_error(message)." in out
    assert f"{channel_count(demo.name)} channels (1 in use)" in out
    channel_line = [line for line in out.splitlines() if line.split()[:1] == [str(channel)]][-1]
    assert str(os.getpid()) in channel_line


def test_info_json(demo: ServerProcess) -> None:
    info = run_json("info", demo.name, "--json")
    assert isinstance(info, dict)
    assert info["segment"]["server_pid"] == demo.pid
    assert info["segment"]["status"] == "alive"
    assert len(info["segment"]["channels"]) == channel_count(demo.name)
    assert [f["name"] for f in info["functions"]] == FUNCTIONS
    assert info["layout_hash"].startswith("0x")


def test_info_of_a_dead_server(dead: ServerProcess) -> None:
    result = run("info", dead.name)
    assert result.returncode == 0, result.stderr
    assert f"server {dead.name}: dead" in result.stdout
    assert "add(a: int64, b: int64) -> int64" in result.stdout


def test_info_of_no_server_exits_3() -> None:
    name = unique_name("nobody")
    result = run("info", name)
    assert result.returncode == 3
    assert result.stdout == ""
    assert f"no server named {name!r}" in result.stderr


# --- call ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "output"),
    [
        (["add", "2", "3"], "5"),
        (["add", "-5", "3"], "-2"),
        (["add", "0x10", "1"], "17"),
        (["add", "--", "-1", "-2"], "-3"),
        (["dot", "[1, 2]", "[3, 4.5]"], "12.0"),
        (["stats", "[1, 2, 3]"], "[1.0, 3.0, 2.0, 0.816496580927726]"),
        (["greet", "World"], "Hello, World!"),
        (["greet", ""], "Hello, !"),
        (["range", "0", "10", "3"], "[0, 3, 6, 9]"),
        (["range", "0", "0", "1"], "[]"),
        (["scale", "[1, 2]", "3"], "values = [3.0, 6.0]"),
        (["sleep_ms", "1"], ""),
        (["energy", f"[{PARTICLE}]"], '{"kinetic": 1.0, "potential": 19.62}'),
        (["heaviest", f"[{PARTICLE}]"], '{"pos": [0.0, 0.0, 1.0], "vel": [1.0, 0.0, 0.0], '
                                        '"mass": 2.0}'),
        (["heaviest", "[]"], "null"),
        (["step", f"[{PARTICLE}]", "0", "kBounce"],
         'particles = [{"pos": [0.0, 0.0, 1.0], "vel": [1.0, 0.0, 0.0], "mass": 2.0}]'),
    ],
)
def test_call_prints_the_result(demo: ServerProcess, arguments: list[str], output: str) -> None:
    result = run("call", demo.name, *arguments)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == (output + "\n" if output else "")


@pytest.mark.parametrize(
    ("arguments", "data"),
    [
        (["add", "2", "3"], 5),
        (["dot", "[1, 2]", "[3, 4]"], 11.0),
        (["stats", "[2, 2]"], [2.0, 2.0, 2.0, 0.0]),
        (["greet", 'a "quoted" name'], 'Hello, a "quoted" name!'),
        (["range", "3", "0", "-1"], [3, 2, 1]),
        (["sleep_ms", "0"], None),
        (["scale", "[1.5]", "2"], {"result": None, "written": {"values": [3.0]}}),
        (["energy", "[]"], {"kinetic": 0.0, "potential": 0.0}),
    ],
)
def test_call_json(demo: ServerProcess, arguments: list[str], data: object) -> None:
    assert run_json("call", demo.name, *arguments, "--json") == data


@pytest.mark.parametrize("floor", ["kBounce", "1", "0x1"])
def test_call_steps_records_in_place_and_prints_them(demo: ServerProcess, floor: str) -> None:
    # Falling below z = 0 in one step: kBounce reflects position and velocity.
    falling = '{"pos": [0, 0, 0.5], "vel": [1, 0, -10], "mass": 1}'
    data = run_json("call", demo.name, "step", f"[{PARTICLE}, {falling}]", "0.1", floor, "--json")
    assert isinstance(data, dict) and data["result"] is None
    first, second = data["written"]["particles"]
    assert first["pos"] == pytest.approx([0.1, 0.0, 1 - 0.0981])
    assert first["vel"] == pytest.approx([1.0, 0.0, -0.981])
    assert first["mass"] == 2.0
    assert second["pos"][2] == pytest.approx(0.5981)  # -(0.5 - 1.0981), reflected
    assert second["vel"][2] == pytest.approx(10.981)


@pytest.mark.parametrize(
    ("arguments", "data"),
    [
        (["or_zero", "null"], 0),
        (["or_zero", "5"], 5),
        (["divmod", "7", "2"], [3, 1]),
        (["triple", "[1, 2.5, 2]"], [1, 2.5, "kSell"]),
        (["rotate", "1+2j", "0+1j"], [-2.0, 1.0]),
        (["sum_complex", '[[1, 2], "3+4j", 5]'], [9.0, 6.0]),
        (["opposite", "kBuy"], "kSell"),
        (["count_side", "[1, 2, 1]", "kBuy"], 2),
        (["swap_anonymous", '{"f0": 1, "f1": 2.5}'], {"f0": 2, "f1": 1.0}),
        (["join", '["a", "b"]', "-"], "a-b"),
        (["split", "to be"], ["to", "be"]),
        (["echo_groups", '[["x"], []]'], [["x"], []]),
        (["totals", '{"a": [1, 2], "b": []}'], {"a": 3.0, "b": 0.0}),
        (["number_names", '[[2, "two"], [-1, "minus one"]]'], [[-1, "minus one"], [2, "two"]]),
        (["shout", '"hi"'], "HI"),
        (["shout", "null"], None),
        (["describe", "[1, 3]"], ["2 values", [3.0, 1.0], 3.0]),
        (["threshold", "[[0.5, 2]]", "1"], [[[0.0, 2.0]], [[0, 1]]]),
    ],
)
def test_call_parses_and_prints_every_kind_of_type(type_server: ServerProcess,
                                                   arguments: list[str], data: object) -> None:
    assert run_json("call", type_server.name, *arguments, "--json") == data


def test_call_names_the_part_of_a_nested_value_that_is_wrong(type_server: ServerProcess) -> None:
    result = run("call", type_server.name, "join", '["a", 1]', "-")
    assert result.returncode == 2
    assert "[1] (string) takes a JSON string; got 1" in result.stderr
    result = run("call", type_server.name, "number_names", '[1]')
    assert result.returncode == 2
    assert "is not a [key, value] pair" in result.stderr


def test_call_takes_a_nested_struct_as_an_object(type_server: ServerProcess) -> None:
    particle = '{"pos": [0, 0, 0], "vel": [0, 0, 0], "mass": 1}'
    box = f'{{"corner": {particle}, "pair": [{particle}, {particle}], "level": 7, "phase": 0}}'
    assert run_json("call", type_server.name, "level_of", box, "--json") == "kHigh"
    without_pair = f'{{"corner": {particle}, "level": 7, "phase": 0}}'
    result = run("call", type_server.name, "level_of", without_pair)
    assert result.returncode == 2
    assert "field 'pair' is missing" in result.stderr


def test_call_prints_a_nested_struct_as_an_object(type_server: ServerProcess) -> None:
    box = run_json("call", type_server.name, "make_box", "kHigh", "--json")
    assert isinstance(box, dict)
    assert box["corner"] == {"pos": [1.0, 2.0, 3.0], "vel": [4.0, 5.0, 6.0], "mass": 7.0}
    assert [particle["mass"] for particle in box["pair"]] == [1.0, 2.0]
    assert box["level"] == "kHigh"


def test_call_remote_exception_goes_to_stderr_with_exit_1(demo: ServerProcess) -> None:
    result = run("call", demo.name, "fail", "boom")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "fail failed on the server: std::runtime_error: boom" in result.stderr
    dot = run("call", demo.name, "dot", "[1]", "[1, 2]")
    assert dot.returncode == 1
    assert "std::invalid_argument" in dot.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nope"], "has no function 'nope'; it has: add, dot, scale"),
        (["add", "1"], "add takes 2 arguments, got 1: add(a: int64, b: int64) -> int64"),
        (["add", "1", "2", "3"], "add takes 2 arguments, got 3"),
        (["add", "one", "2"], "argument 'a' of add(a: int64, b: int64) -> int64 is an integer"),
        (["add", "1.5", "2"], "is an integer (int64); got '1.5'"),
        (["add", str(2**63), "2"], "is int64, from -9223372036854775808 to 9223372036854775807"),
        (["sleep_ms", str(2**31)], "is int32"),
        (["scale", "[1]", "x"], "is a number (float64); got 'x'"),
        (["dot", "1, 2", "[3]"], "takes a JSON list such as [1, 2, 3]"),
        (["dot", "7", "[3]"], "takes a JSON list such as [1, 2, 3]"),
        (["dot", '["a"]', "[3]"], "dot"),
        (["stats", "[[1, 2]]"], "stats"),
        (["step", "[]", "0.1", "kUp"], "is the enum demo::Floor: one of kNone (0), kBounce (1); "
                                      "got 'kUp'"),
        (["step", "[]", "0.1", "7"], "one of kNone (0), kBounce (1); got '7'"),
        (["step", '[{"pos": [0, 0, 0], "vel": [0, 0, 0]}]', "0.1", "kNone"],
         "field 'mass' is missing (its fields: pos, vel, mass)"),
        (["step", '[{"pos": [0, 0, 0], "vel": [0, 0, 0], "mass": 1, "charge": 1}]', "0.1",
          "kNone"], "there is no field 'charge' (its fields: pos, vel, mass)"),
        (["step", "[1]", "0.1", "kNone"], "takes JSON objects with the fields pos, vel, mass"),
        (["energy", '[{"pos": [0, 0, 0], "vel": [0, 0, 0]}]'], "field 'mass' is missing"),
        (["energy", '[{"pos": [0, 0, 0], "vel": [0, 0, 0], "mass": 1, "q": 0}]'],
         "has no field 'q'"),
        (["energy", '{"pos": [0, 0, 0], "vel": [0, 0, 0], "mass": 1}'],
         "takes a JSON list such as [1, 2, 3]"),
    ],
)
def test_call_usage_errors_exit_2(demo: ServerProcess, arguments: list[str],
                                  message: str) -> None:
    result = run("call", demo.name, *arguments)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        # Integers are ASCII digits with an optional sign (or 0x hex), nothing else.
        (["add", " 5", "2"], "argument 'a' of add(a: int64, b: int64) -> int64 is an integer "
                             "(int64); got ' 5' (it takes ASCII digits with an optional sign, "
                             "or 0x hex)"),
        (["add", "5 ", "2"], "is an integer (int64); got '5 ' (it takes ASCII digits"),
        (["add", "5_000", "2"], "is an integer (int64); got '5_000' (it takes ASCII digits"),
        (["add", "\u0665", "2"], "is an integer (int64); got '\u0665' (it takes ASCII digits"),
        (["add", "0x_10", "2"], "is an integer (int64); got '0x_10'"),
        (["add", "+-5", "2"], "is an integer (int64); got '+-5'"),
        (["step", "[]", "0.1", " 1"], "one of kNone (0), kBounce (1); got ' 1'"),
        (["step", "[]", "0.1", "1_0"], "one of kNone (0), kBounce (1); got '1_0'"),
        # Floats are decimal numbers (or inf, nan), in ASCII.
        (["scale", "[1]", " 2"], "argument 'factor' of scale(values: span<float64>, factor: "
                                 "float64) -> void is a number (float64); got ' 2' (it takes "
                                 "ASCII decimal digits with an optional sign, point and exponent, "
                                 "or inf or nan)"),
        (["scale", "[1]", "2_0"], "is a number (float64); got '2_0'"),
        (["scale", "[1]", "\u0662"], "is a number (float64); got '\u0662'"),
        (["scale", "[1]", "1e400"], "argument 'factor' of scale(values: span<float64>, factor: "
                                    "float64) -> void: 1e400 does not fit float64"),
        (["dot", "[1e400]", "[1]"], "argument 'a' of dot(a: span<const float64>, b: span<const "
                                    "float64>) -> float64: 1e400 does not fit float64"),
        (["stats", "[1e39]"], "does not fit float32"),
        # JSON strings and bools are no numbers, in spans the function writes to as anywhere.
        (["scale", '["2"]', "2"], "argument 'values' of scale(values: span<float64>, factor: "
                                  "float64) -> void: [0] is float64, which takes a JSON number; "
                                  "got \"2\""),
        (["scale", "[true]", "2"], "[0] is float64, which takes a JSON number; got true"),
        (["dot", '["2"]', "[3]"], "argument 1 ('a') of dot"),
        (["step", '[{"pos": [0, 0, 0], "vel": [0, 0, 0], "mass": "2"}]', "0.1", "kNone"],
         "argument 'particles' of step(particles: span<demo::Particle>, dt: float64, floor: "
         "demo::Floor) -> void: [0].mass is float32, which takes a JSON number; got \"2\""),
        (["step", '[{"pos": [0, "0", 0], "vel": [0, 0, 0], "mass": 1}]', "0.1", "kNone"],
         "[0].pos[1] is float64, which takes a JSON number; got \"0\""),
        (["energy", '[{"pos": [0, 0, 0], "vel": [0, 0, 0], "mass": "2"}]'], "energy"),
    ],
)
def test_call_refuses_numbers_that_are_not_plain(demo: ServerProcess,
                                                 capsys: pytest.CaptureFixture[str],
                                                 arguments: list[str], message: str) -> None:
    code, out, err = run_main(capsys, "call", demo.name, *arguments)
    assert code == 2, err
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("function", "arguments"),
    [
        ("dot", ["[" * 1000 + "]" * 1000, "[1]"]),
        ("dot", ["[" * 100_000, "[1]"]),
        ("energy", ["[" + '{"pos": ' * 1000 + "0" + "}" * 1000 + "]"]),
        ("step", ['[{"pos": [0, 0, 0], "vel": [0, 0, 0], "mass": ' + "[" * 5000 + "]" * 5000
                  + "}]", "0.1", "kNone"]),
    ],
)
def test_call_refuses_json_nested_too_deeply(demo: ServerProcess,
                                             capsys: pytest.CaptureFixture[str], function: str,
                                             arguments: list[str]) -> None:
    code, out, err = run_main(capsys, "call", demo.name, function, *arguments)
    assert code == 2, err[-2000:]
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    name = {"dot": "a", "energy": "particles", "step": "particles"}[function]
    assert f"argument {name!r} of {function}(" in err
    assert "nests JSON deeper than 64 levels" in err


def test_call_of_json_nested_too_deeply_exits_2_as_a_process(demo: ServerProcess) -> None:
    result = run("call", demo.name, "dot", "[" * 1000 + "]" * 1000, "[1]")
    assert result.returncode == 2
    assert result.stderr.startswith("shmrpc: argument 'a' of dot(")
    assert len(result.stderr.strip().splitlines()) == 1


def test_call_counts_only_brackets_outside_json_strings(type_server: ServerProcess,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    # Brackets inside a string are text, not nesting: this is a complex number that does not
    # parse, not a value nested too deeply.
    code, _out, err = run_main(capsys, "call", type_server.name, "sum_complex",
                               '["' + "[" * 1000 + '"]')
    assert code == 2
    assert "nests JSON" not in err
    assert "takes complex numbers" in err


@pytest.mark.parametrize(
    ("arguments", "output"),
    [
        (["add", "--", "+5", "-0x10"], "-11"),
        (["add", "007", "0X1f"], "38"),
        (["scale", "--", "[1]", "-2.5e0"], "values = [-2.5]"),
        (["scale", "[1]", ".5"], "values = [0.5]"),
        (["scale", "--", "[2]", "-inf"], "values = [-Infinity]"),
        (["scale", "[1, 2]", "1E1"], "values = [10.0, 20.0]"),
        (["stats", "[3.4028235e38]"], "[3.4028234663852886e+38, 3.4028234663852886e+38, "
                                      "3.4028234663852886e+38, 0.0]"),
    ],
)
def test_call_takes_plain_ascii_numbers(demo: ServerProcess, capsys: pytest.CaptureFixture[str],
                                        arguments: list[str], output: str) -> None:
    code, out, err = run_main(capsys, "call", demo.name, *arguments)
    assert code == 0, err
    assert out == output + "\n"


def test_call_of_an_overflowing_add_exits_1(demo: ServerProcess) -> None:
    result = run("call", demo.name, "add", str(2**63 - 1), "1")
    assert result.returncode == 1
    assert result.stderr.strip() == ("shmrpc: add failed on the server: std::overflow_error: "
                                     "add(9223372036854775807, 1) overflows int64")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the command line as another user")
def test_a_segment_of_another_user_is_reported_not_a_traceback(demo: ServerProcess) -> None:
    def as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shmrpc", *args], user=65534, group=65534, extra_groups=[],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )

    denied = f"shmrpc: cannot open shared memory segment '{demo.name}': Permission denied"
    for command in (["call", demo.name, "add", "1", "2"], ["schema", demo.name]):
        result = as_nobody(*command)
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip() == denied
    info = as_nobody("info", demo.name)  # info shows what it could not read, as for any segment
    assert info.returncode == 0, info.stderr
    assert f"server {demo.name}: unknown" in info.stdout and "Permission denied" in info.stdout


def test_call_of_no_server_exits_3() -> None:
    result = run("call", unique_name("nobody"), "add", "1", "2")
    assert result.returncode == 3
    assert "no server named" in result.stderr


def test_call_of_a_dead_server_exits_3(dead: ServerProcess) -> None:
    result = run("call", dead.name, "add", "1", "2")
    assert result.returncode == 3
    assert dead.name in result.stderr


def test_call_timeout_exits_1(demo: ServerProcess) -> None:
    result = run("call", demo.name, "sleep_ms", "1500", "--timeout", "0.1")
    assert result.returncode == 1
    assert "sleep_ms" in result.stderr and "time" in result.stderr.lower()


def test_call_of_a_stream_prints_one_element_per_line(demo: ServerProcess) -> None:
    result = run("call", demo.name, "simulate", "2", "3", "0.1")
    assert result.returncode == 0, result.stderr
    frames = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(frames) == 3
    # Particle i starts at x = 0.1 i moving at 1 m/s along x: after step k it is at 0.1 (i + k).
    assert [p["pos"][0] for frame in frames for p in frame] == pytest.approx(
        [0.1, 0.2, 0.2, 0.3, 0.3, 0.4])
    assert all(set(particle) == {"pos", "vel", "mass"} for particle in frames[0])


def test_call_of_a_stream_with_json_prints_json_lines(demo: ServerProcess) -> None:
    result = run("call", demo.name, "simulate", "1", "4", "0.1", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    heights = [json.loads(line)[0]["pos"][2] for line in lines]
    assert 1.0 > heights[0] > heights[1] > heights[2] > heights[3] > 0  # falling, step by step


def test_call_of_a_stream_that_fails_prints_its_elements_then_exits_1(
        demo: ServerProcess) -> None:
    result = run("call", demo.name, "simulate", "-2", "3", "0.1")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "simulate failed on the server" in result.stderr
    assert "count and steps must be >= 0, not -2 and 3" in result.stderr


def test_ctrl_c_stops_a_stream_on_the_server_with_exit_130(fresh_demo: ServerProcess) -> None:
    def three_elements(stdout: IO[str]) -> None:
        for _ in range(3):  # elements come as the simulation runs
            assert json.loads(stdout.readline())[0]["mass"] == 1.0

    code, stderr = interrupted(three_elements, "call", fresh_demo.name, "simulate", "1",
                               "2000000000", "0.001")
    assert code == 130, stderr
    assert "Traceback" not in stderr

    # The server function saw the stop and ended: its call is counted, and its channel is free.
    def simulate_stats() -> dict[str, object]:
        data = run_json("stats", fresh_demo.name, "--json")
        (entry,) = [e for e in data["functions"] if e["name"] == "simulate"]  # type: ignore[index]
        return entry  # type: ignore[no-any-return]

    deadline = time.monotonic() + 10
    while simulate_stats()["calls"] != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    entry = simulate_stats()
    assert entry["calls"] == 1 and entry["streams"] is True
    assert isinstance(entry["elements"], int) and entry["elements"] >= 3
    with shmrpc.connect(fresh_demo.name) as client:
        assert client.add(1, 2) == 3  # the server serves on


# --- stats -----------------------------------------------------------------------------------


def test_stats_counts_exactly_the_calls_made(fresh_demo: ServerProcess) -> None:
    with shmrpc.connect(fresh_demo.name) as client:
        for i in range(7):
            assert client.add(i, 1) == i + 1
        for _ in range(2):
            with pytest.raises(shmrpc.RemoteError):
                client.fail("counted")
        client.greet("x")
    data = run_json("stats", fresh_demo.name, "--json")
    assert isinstance(data, dict)
    assert data["server"] == fresh_demo.name and data["status"] == "alive"
    by_name = {entry["name"]: entry for entry in data["functions"]}
    assert list(by_name) == FUNCTIONS
    # The wait for readiness (conftest) connects without calling.
    assert (by_name["add"]["calls"], by_name["add"]["errors"]) == (7, 0)
    assert (by_name["fail"]["calls"], by_name["fail"]["errors"]) == (2, 2)
    assert (by_name["greet"]["calls"], by_name["greet"]["errors"]) == (1, 0)
    assert by_name["dot"]["calls"] == 0 and by_name["dot"]["mean_ns"] is None
    add = by_name["add"]
    assert add["timed"] == 7 and sum(add["buckets"]) == 7
    assert 0 < add["p50_ns"] <= add["p99_ns"] <= add["max_ns"]
    assert add["mean_ns"] <= add["max_ns"]

    table = run("stats", fresh_demo.name)
    assert table.returncode == 0, table.stderr
    # The server has a function that streams: its elements and their bytes have columns too.
    assert table.stdout.splitlines()[0].split() == [
        "FUNCTION", "CALLS", "ERRORS", "MEAN", "P50", "P99", "MAX", "ELEMENTS", "BYTES"]
    assert line_of(table.stdout, "add").split()[1:3] == ["7", "0"]
    assert line_of(table.stdout, "fail").split()[1:3] == ["2", "2"]
    assert line_of(table.stdout, "add").split()[-2:] == ["-", "-"]


def test_stats_count_the_elements_and_bytes_of_a_stream(fresh_demo: ServerProcess) -> None:
    with shmrpc.connect(fresh_demo.name) as client:
        frames = list(client.simulate(3, 5, 0.1))
    assert len(frames) == 5
    data = run_json("stats", fresh_demo.name, "--json")
    by_name = {entry["name"]: entry for entry in data["functions"]}  # type: ignore[index]
    simulate = by_name["simulate"]
    assert (simulate["calls"], simulate["streams"], simulate["elements"]) == (1, True, 5)
    # Each element: its slot (a vector's 24 bytes, rounded up to the entry's 16-byte alignment)
    # and its 3 records of 56 bytes, in a buffer.
    assert simulate["element_bytes"] == 5 * (32 + 3 * 56)
    assert (by_name["add"]["streams"], by_name["add"]["elements"]) == (False, 0)
    table = run("stats", fresh_demo.name)
    assert table.returncode == 0, table.stderr
    assert line_of(table.stdout, "simulate").split()[-3:] == ["5", "1000", "B"]


def test_stats_counts_calls_from_the_command_line(fresh_demo: ServerProcess) -> None:
    assert run("call", fresh_demo.name, "add", "1", "2").returncode == 0
    assert run("call", fresh_demo.name, "fail", "x").returncode == 1
    assert run("call", fresh_demo.name, "add", "x", "2").returncode == 2  # never sent
    data = run_json("stats", fresh_demo.name, "--json")
    by_name = {entry["name"]: entry for entry in data["functions"]}  # type: ignore[index]
    assert (by_name["add"]["calls"], by_name["fail"]["errors"]) == (1, 1)


def test_stats_of_sleeping_calls_measures_their_latency(fresh_demo: ServerProcess) -> None:
    with shmrpc.connect(fresh_demo.name) as client:
        for _ in range(3):
            client.sleep_ms(20)
    data = run_json("stats", fresh_demo.name, "--json")
    (entry,) = [e for e in data["functions"] if e["name"] == "sleep_ms"]  # type: ignore[index]
    assert 20e6 <= entry["mean_ns"] < 2e9
    assert 16e6 <= entry["p50_ns"] <= entry["max_ns"]


def test_stats_watch_redraws_and_shows_calls_per_second(demo: ServerProcess) -> None:
    result = run("stats", demo.name, "--watch", "--interval", "0.05", "--count", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\x1b[H\x1b[2J") == 3
    assert "CALLS/S" in result.stdout
    assert f"shmrpc stats {demo.name}: alive" in result.stdout


def test_stats_watch_stops_on_ctrl_c_with_exit_0(demo: ServerProcess) -> None:
    def table_shown(stdout: IO[str]) -> None:
        assert "FUNCTION" in "".join(stdout.readline() for _ in range(4))

    code, stderr = interrupted(table_shown, "stats", demo.name, "--watch", "--interval", "0.05")
    assert code == 0, stderr
    assert "Traceback" not in stderr


def test_stats_of_no_server_exits_3() -> None:
    assert run("stats", unique_name("nobody")).returncode == 3


# --- schema ----------------------------------------------------------------------------------


def test_schema_is_the_json_document_codegen_reads(demo: ServerProcess) -> None:
    result = run("schema", demo.name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("}\n")
    assert result.stdout.startswith('{\n  "format": "shmrpc-schema",\n')
    schema = json.loads(result.stdout)
    assert schema["format_version"] == 1
    assert schema["server"] == demo.name
    assert list(schema["types"]) == ["demo::Particle", "demo::Floor", "demo::Energy"]
    float64 = {"kind": "float64", "size": 8, "align": 8}
    assert schema["types"]["demo::Particle"] == {
        "kind": "struct", "size": 56, "align": 8, "fields": [
            {"name": "pos", "offset": 0,
             "type": {"kind": "array", "element": float64, "count": 3, "size": 24, "align": 8}},
            {"name": "vel", "offset": 24,
             "type": {"kind": "array", "element": float64, "count": 3, "size": 24, "align": 8}},
            {"name": "mass", "offset": 48, "type": {"kind": "float32", "size": 4, "align": 4}},
        ]}
    assert schema["types"]["demo::Floor"] == {
        "kind": "enum", "size": 1, "align": 1,
        "underlying": {"kind": "uint8", "size": 1, "align": 1},
        "members": [{"name": "kNone", "value": 0}, {"name": "kBounce", "value": 1}]}
    functions = {f["name"]: f for f in schema["functions"]}
    add = functions["add"]
    assert add["signature"] == "add(a: int64, b: int64) -> int64"
    assert add["doc"] == "Sum of two integers."
    assert add["arguments"] == [
        {"name": "a", "type": {"kind": "int64", "size": 8, "align": 8}},
        {"name": "b", "type": {"kind": "int64", "size": 8, "align": 8}},
    ]
    assert add["returns"] == {"kind": "int64", "size": 8, "align": 8}
    assert add["signature_hash"].startswith("0x") and len(add["signature_hash"]) == 18
    assert functions["scale"]["arguments"][0]["type"] == {
        "kind": "span", "element": float64, "mutable": True, "size": 24, "align": 8}
    assert functions["scale"]["returns"] == {"kind": "void", "size": 0, "align": 1}
    assert functions["stats"]["returns"] == {
        "kind": "array", "element": float64, "count": 4, "size": 32, "align": 8}
    assert functions["range"]["returns"]["kind"] == "vector"
    assert functions["greet"]["arguments"][0]["type"] == {"kind": "string", "size": 24, "align": 8}
    assert functions["heaviest"]["returns"] == {
        "kind": "optional",
        "element": {"kind": "struct", "name": "demo::Particle", "size": 56, "align": 8},
        "size": 64, "align": 8}
    assert run("schema", demo.name).stdout == result.stdout  # deterministic


def test_schema_to_a_file(demo: ServerProcess, tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    result = run("schema", demo.name, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["server"] == demo.name


def test_schema_of_no_server_exits_3() -> None:
    assert run("schema", unique_name("nobody")).returncode == 3


# --- clean -----------------------------------------------------------------------------------


def test_clean_dry_run_lists_a_dead_server_and_removes_nothing(
        demo: ServerProcess, dead: ServerProcess) -> None:
    result = run("clean", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"would remove {dead.name} (server pid {dead.pid} is dead)" in result.stdout
    assert demo.name not in result.stdout
    assert segment_path(dead.name).exists()
    assert segment_path(demo.name).exists()


def test_clean_removes_a_dead_server_and_never_a_live_one(
        demo: ServerProcess, dead: ServerProcess) -> None:
    result = run("clean", dead.name, demo.name)
    assert f"removed {dead.name}" in result.stdout
    assert not segment_path(dead.name).exists()
    assert segment_path(demo.name).exists()
    assert f"left {demo.name!r} alone: alive (pid {demo.pid})" in result.stderr
    assert result.returncode == 1  # one named segment could not be removed
    with shmrpc.connect(demo.name) as client:
        assert client.add(1, 1) == 2
    listing = run("ls").stdout
    assert dead.name not in listing and demo.name in listing


def test_clean_of_a_dead_server_by_name_exits_0(dead: ServerProcess) -> None:
    result = run("clean", dead.name)
    assert result.returncode == 0, result.stderr
    assert not segment_path(dead.name).exists()
    assert run("clean", dead.name).returncode == 3  # nothing left


def test_clean_removes_a_headerless_leftover_and_leaves_foreign_segments_alone(
        fake_segment: Path) -> None:
    name = fake_segment.name[len("shmrpc."):]
    # Servers publish their segments complete and hold them locked: a file without a header that
    # no process holds is nobody's.
    fake_segment.write_bytes(bytes(256))
    assert "would remove" in run("clean", "--dry-run", name).stdout
    assert run("clean", name).returncode == 0
    assert not fake_segment.exists()
    fake_segment.write_bytes(struct.pack("<QII", MAGIC, 99, 256) + bytes(240))
    result = run("clean", name)
    assert result.returncode == 1
    assert "format version 99" in result.stderr
    assert fake_segment.exists()


def test_clean_removes_a_killed_servers_buffer_files_and_says_how_many(
        leftovers: list[Path], fresh_demo: ServerProcess) -> None:
    leftovers.append(segment_path(fresh_demo.name))
    client = shmrpc.connect(fresh_demo.name)
    values = client.zeros(1 << 20)  # 8 MiB: more than the heap, so a buffer segment
    values[:] = 2.0
    assert Path(f"{segment_path(fresh_demo.name)}@1").exists()
    files = buffer_files(fresh_demo.name)
    fresh_demo.kill()
    client.close()
    result = run("clean", fresh_demo.name)
    assert result.returncode == 0, result.stderr
    assert (f"removed {fresh_demo.name} (server pid {fresh_demo.pid} is dead) and its "
            f"{files_text(files)}\n") in result.stdout
    assert not segment_path(fresh_demo.name).exists()
    assert buffer_files(fresh_demo.name) == {}
    assert values.sum() == 2.0 * (1 << 20), "an array over a removed buffer stays readable"
    assert run("clean", fresh_demo.name).returncode == 3  # nothing left


def test_clean_dry_run_lists_a_killed_servers_buffer_files_and_removes_nothing(
        leftovers: list[Path], fresh_demo: ServerProcess) -> None:
    leftovers.append(segment_path(fresh_demo.name))
    with shmrpc.connect(fresh_demo.name) as client:
        client.zeros(1 << 20)
        files = buffer_files(fresh_demo.name)
        fresh_demo.kill()
    assert files
    result = run("clean", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert (f"would remove {fresh_demo.name} (server pid {fresh_demo.pid} is dead) and its "
            f"{files_text(files)}\n") in result.stdout
    assert segment_path(fresh_demo.name).exists()
    assert buffer_files(fresh_demo.name) == files


def test_clean_leaves_a_live_servers_buffer_files_alone(
        leftovers: list[Path], fresh_demo: ServerProcess) -> None:
    leftovers.append(segment_path(fresh_demo.name))
    with shmrpc.connect(fresh_demo.name) as client:
        values = client.zeros(1 << 20)
        values[:] = 1.0
        files = buffer_files(fresh_demo.name)
        assert f"shmrpc.{fresh_demo.name}@1" in files
        assert fresh_demo.name not in run("clean", "--dry-run").stdout
        result = run("clean", fresh_demo.name)
        assert result.returncode == 1
        assert f"left {fresh_demo.name!r} alone: alive (pid {fresh_demo.pid})" in result.stderr
        assert result.stdout == ""
        assert buffer_files(fresh_demo.name) == files
        assert client.dot(values, values) == float(1 << 20), "the buffer still works"


def test_clean_removes_orphan_buffer_files_and_only_those(leftovers: list[Path]) -> None:
    name = unique_name("pyorphan")
    other = f"{name}x"  # a name that starts with `name`: its buffers are not `name`'s
    leftovers += [segment_path(name), segment_path(other)]
    orphan = Path(f"{segment_path(name)}@3")
    orphan.write_bytes(bytes(4096))
    not_buffers = [Path(f"{segment_path(name)}@abc"), Path(f"{segment_path(name)}@"),
                   Path(f"{segment_path(name)}@3x"), Path(f"{segment_path(other)}@1")]
    for path in not_buffers:
        path.write_bytes(bytes(16))
    line = f"1 buffer file of {name}, 4.0 KiB (no server segment)\n"
    result = run("clean", "--dry-run")  # found without naming it
    assert result.returncode == 0, result.stderr
    assert f"would remove {line}" in result.stdout
    assert orphan.exists()
    result = run("clean", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"removed {line}"
    assert not orphan.exists()
    assert all(path.exists() for path in not_buffers)
    result = run("clean", name)  # only files that are not buffers are left
    assert result.returncode == 3
    assert f"no server named {name!r}" in result.stderr
