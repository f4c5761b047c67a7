#!/usr/bin/env bash
# The benchmark comparison in one command: installs what it needs, builds build/release with the
# benchmarks, and runs bench/run.py, which runs every benchmark one after the other and prints
# the table (median, p99, ratio to shmrpc), the throughput, the micro suites and the DESIGN.md
# targets; it writes results.csv, results.md and rtt.png into the output directory.
#   scripts/bench.sh [--smoke] [--out DIR] [--iterations N] [--max-bytes N]
# Defaults: bench-results/, full iteration counts (a few minutes on 2 cores).
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$SHMRPC_ROOT"

scripts/setup.sh
scripts/build.sh build/release -DSHMRPC_BUILD_BENCH=ON
shmrpc_pick_python
"$SHMRPC_PYTHON" bench/run.py --build build/release "$@"
