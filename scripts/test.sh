#!/usr/bin/env bash
# The test command of shmrpc (CI runs it through .ci/run). Stages, failing fast:
#   1. scripts/setup.sh                       install missing Debian packages
#   2. build build/release (tests, Python module and examples on) and run its ctest
#   3. build build/asan (Debug, address+undefined sanitizers, no Python, no bench), run its ctest;
#      build build/tsan (ThreadSanitizer), run its ctest
#   4. scripts/fuzz.sh 20 (each libFuzzer target for 20 s, clang; a timeout or out-of-memory that
#      the saved input does not reproduce alone is a warning, not a failure)
#   5. scripts/format.sh --check
#   6. scripts/lint.sh build/release (clang-tidy)
# Environment:
#   SHMRPC_SKIP_SANITIZERS=1   skip stage 3 (quick local runs; CI always runs it)
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$SHMRPC_ROOT"

start=$SECONDS
stage_start=$SECONDS
stages=()
tests_passed=0

# Records a stage as passed, with the seconds it took, and starts the clock of the next one.
stage_passed() {
  stages+=("$1 $((SECONDS - stage_start))s")
  stage_start=$SECONDS
}

# Runs ctest in a build directory and adds its test count to tests_passed. The tests fork
# processes and wait on timeouts, so more than 2 in parallel makes them flaky on 2 cores.
# --timeout bounds any test that sets no TIMEOUT of its own; --no-tests=error turns an empty
# test list (a broken CMake option) into a failure rather than a green run.
run_ctest() {
  local build_dir="$1" log total failed
  shift
  log="$build_dir/ctest.log"
  ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 300 --no-tests=error "$@" 2>&1 |
    tee "$log"
  # ctest closes with: "100% tests passed, 0 tests failed out of N".
  total="$(sed -nE 's/.*tests failed out of ([0-9]+).*/\1/p' "$log" | tail -n 1)"
  failed="$(sed -nE 's/.* ([0-9]+) tests failed out of.*/\1/p' "$log" | tail -n 1)"
  tests_passed=$((tests_passed + ${total:-0} - ${failed:-0}))
}

shmrpc_banner "setup: Debian packages"
scripts/setup.sh
stage_passed setup

shmrpc_banner "build: build/release"
# Every target on, also in a cache configured otherwise before: stage 6 lints every C++ source,
# and a source needs its compile command from this build.
scripts/build.sh build/release -DSHMRPC_BUILD_TESTS=ON -DSHMRPC_BUILD_PYTHON=ON \
  -DSHMRPC_BUILD_EXAMPLES=ON
stage_passed release-build

shmrpc_banner "test: build/release"
run_ctest build/release
stage_passed release-tests

if [[ "${SHMRPC_SKIP_SANITIZERS:-0}" == 1 ]]; then
  shmrpc_banner "sanitizers: skipped (SHMRPC_SKIP_SANITIZERS=1)"
else
  shmrpc_banner "build: build/asan (address,undefined)"
  scripts/build.sh build/asan \
    -DCMAKE_BUILD_TYPE=Debug \
    -DSHMRPC_BUILD_TESTS=ON \
    -DSHMRPC_SANITIZE=address,undefined \
    -DSHMRPC_BUILD_PYTHON=OFF \
    -DSHMRPC_BUILD_BENCH=OFF
  stage_passed asan-build

  shmrpc_banner "test: build/asan (address,undefined)"
  # The load test runs a tenth of its calls here: the same code, at sanitizer speed. The
  # compile-fail tests compile nothing of the build, so they run in the release stage only.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    SHMRPC_LOAD_CALLS=20000 \
    run_ctest build/asan -LE compile_fail
  stage_passed asan-tests

  shmrpc_banner "build: build/tsan (thread)"
  scripts/build.sh build/tsan \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSHMRPC_BUILD_TESTS=ON \
    -DSHMRPC_SANITIZE=thread \
    -DSHMRPC_BUILD_PYTHON=OFF \
    -DSHMRPC_BUILD_BENCH=OFF
  stage_passed tsan-build

  shmrpc_banner "test: build/tsan (thread)"
  # Test processes fork servers and clients; die_after_fork=0 lets a forked child start threads.
  TSAN_OPTIONS="halt_on_error=1 die_after_fork=0 second_deadlock_stack=1" \
    SHMRPC_LOAD_CALLS=20000 \
    run_ctest build/tsan -LE compile_fail
  stage_passed tsan-tests
fi

shmrpc_banner "fuzz: libFuzzer, 20 s per target"
scripts/fuzz.sh 20
stage_passed fuzz

shmrpc_banner "format: clang-format --check"
scripts/format.sh --check
stage_passed format

shmrpc_banner "lint: clang-tidy"
scripts/lint.sh build/release
stage_passed lint

shmrpc_banner "summary"
echo "stages passed ($((SECONDS - start)) s in all):"
printf '  %s\n' "${stages[@]}"
echo "test.sh: ${tests_passed} passed, 0 failed"
