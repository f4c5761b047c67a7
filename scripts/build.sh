#!/usr/bin/env bash
# Configures and builds shmrpc in BUILD_DIR.
#   scripts/build.sh BUILD_DIR [extra cmake args...]
# Defaults: RelWithDebInfo, warnings as errors, compile_commands.json (for scripts/lint.sh), and
# the Python interpreter that can import numpy. Extra args come last, so they override these
# (e.g. -DCMAKE_BUILD_TYPE=Debug). A relative BUILD_DIR is taken from the current directory.
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -ge 1 ]] || shmrpc_die "usage: $0 BUILD_DIR [extra cmake args...]"
build_dir="$1"
shift

shmrpc_pick_python

cmake -S "$SHMRPC_ROOT" -B "$build_dir" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DPython_EXECUTABLE="$SHMRPC_PYTHON" \
  -DSHMRPC_WERROR=ON \
  "$@"
cmake --build "$build_dir" -j"$SHMRPC_JOBS"
