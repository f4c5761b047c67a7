#!/usr/bin/env bash
# The whole job in one command: builds shmrpc, starts the example server (a C++ program that
# embeds shmrpc::Server) under a unique name, then calls it three ways: the C++ client
# (client_example), a Python client (server_example/client_example.py, numpy arrays in shared
# memory), and a typed stub that codegen/shmrpc-codegen generates from the running server
# (server_example/stub_example.py calls through it). Stops the server with SIGTERM. Exits 0 when
# every client succeeded, else with the status of the first that failed. Whatever happens, the
# server is killed, its segment /dev/shm/shmrpc.NAME and the generated stub removed on exit.
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$SHMRPC_ROOT"

name="example-$$"
segment="/dev/shm/shmrpc.$name"
bin_dir="build/release/server_example"
server_pid=""
client_pid=""
stub_dir=""
status=0

# Succeeds while the process runs. Not `kill -0`: that also succeeds for an exited child that
# has not been waited for yet (a zombie).
running() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat%% *}" != Z ]]
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local pid
  for pid in "$client_pid" "$server_pid"; do
    [[ -n "$pid" ]] || continue
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -f "$segment"
  [[ -z "$stub_dir" ]] || rm -rf "$stub_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

shmrpc_banner "setup: Debian packages"
scripts/setup.sh

shmrpc_banner "build: build/release"
scripts/build.sh build/release -DSHMRPC_BUILD_TESTS=OFF
shmrpc_pick_python  # the interpreter build.sh built the Python module for

shmrpc_banner "server: $bin_dir/server_example $name"
"$bin_dir/server_example" "$name" &
server_pid=$!

# The server creates its segment once it is ready; wait up to 10 s (100 x 0.1 s).
for _ in $(seq 100); do
  [[ -e "$segment" ]] && break
  running "$server_pid" || shmrpc_die "server exited before creating $segment"
  sleep 0.1
done
[[ -e "$segment" ]] || shmrpc_die "server did not create $segment within 10 s"

# Runs one client (a command) to its end and keeps the first non-zero status in `status`. In
# the background, so that a signal to this script runs its trap at once, not after the client.
run_client() {
  local rc=0
  "$@" &
  client_pid=$!
  wait "$client_pid" || rc=$?
  client_pid=""
  [[ $rc -eq 0 ]] || echo "example: $* exited with status $rc" >&2
  [[ $status -ne 0 ]] || status=$rc
}

shmrpc_banner "C++ client: $bin_dir/client_example $name"
run_client "$bin_dir/client_example" "$name"

# The Python package as the build made it (pip install ./python_client installs the same).
export PYTHONPATH="$SHMRPC_ROOT/build/release/python_client${PYTHONPATH:+:$PYTHONPATH}"
shmrpc_banner "Python client: python3 server_example/client_example.py $name"
run_client "$SHMRPC_PYTHON" server_example/client_example.py "$name"

stub_dir="$(mktemp -d "${TMPDIR:-/tmp}/shmrpc-example.XXXXXX")"
shmrpc_banner "codegen: codegen/shmrpc-codegen --server $name --python $stub_dir/demo_client.py"
run_client "$SHMRPC_PYTHON" codegen/shmrpc-codegen --server "$name" \
  --python "$stub_dir/demo_client.py" --cpp "$stub_dir/demo_client.hpp" --class DemoClient
if [[ -f "$stub_dir/demo_client.pyi" ]]; then
  echo "wrote $stub_dir/demo_client.py, .pyi and .hpp; the typed methods of its .pyi:"
  # Each method's signature, to the colon that ends it (some span two lines).
  awk '/^    def [a-z]/ {p = 1} p {print} p && /:( \.\.\.)?$/ {p = 0}' "$stub_dir/demo_client.pyi"
fi

shmrpc_banner "stub client: python3 server_example/stub_example.py $stub_dir"
run_client "$SHMRPC_PYTHON" server_example/stub_example.py "$stub_dir"

shmrpc_banner "stop: SIGTERM to server (pid $server_pid)"
kill -TERM "$server_pid"
for _ in $(seq 100); do
  running "$server_pid" || break
  sleep 0.1
done
if running "$server_pid"; then
  echo "warning: server still running 10 s after SIGTERM; killing it" >&2
  kill -KILL "$server_pid"
fi
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=""
[[ $server_rc -eq 0 ]] || echo "warning: server exited with status $server_rc after SIGTERM" >&2

echo "example: clients exited with status $status"
exit "$status"
