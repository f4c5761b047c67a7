#!/usr/bin/env bash
# Builds shmrpc, starts the example server under a unique name, runs the example client against
# it, and stops the server with SIGTERM. Exits with the client's exit code. Whatever happens,
# the server is killed and its segment /dev/shm/shmrpc.NAME removed on exit.
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$SHMRPC_ROOT"

name="example-$$"
segment="/dev/shm/shmrpc.$name"
bin_dir="build/release/server_example"
server_pid=""
client_pid=""

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
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

shmrpc_banner "setup: Debian packages"
scripts/setup.sh

shmrpc_banner "build: build/release"
scripts/build.sh build/release -DSHMRPC_BUILD_TESTS=OFF

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

shmrpc_banner "client: $bin_dir/client_example $name"
# In the background so that a signal to this script runs its trap at once, not after the client.
"$bin_dir/client_example" "$name" &
client_pid=$!
client_rc=0
wait "$client_pid" || client_rc=$?
client_pid=""

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

echo "example: client exited with status $client_rc"
exit "$client_rc"
