#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) in build/fuzz with clang and runs each of them.
#   scripts/fuzz.sh [SECONDS]          runs each target SECONDS (default 30); fails if any finds
#                                      a crash, a leak, undefined behaviour, or a timeout or an
#                                      out-of-memory that reproduces
#   scripts/fuzz.sh --merge [SECONDS]  the same, then merges the inputs that reached new coverage
#                                      into the checked-in corpus fuzz/corpus/TARGET/
# Each target starts from a temporary copy of fuzz/corpus/TARGET/ (so that a plain run leaves the
# checked-in corpus alone) plus seeds written afresh by make_seeds (so that they match the
# library as it is now). Logs go to build/fuzz/logs/, inputs that failed to
# build/fuzz/artifacts/TARGET/. fuzz/README.md says how to reproduce one.
#
# A timeout or out-of-memory is checked by running the saved input again, alone: if it passes,
# the machine was too loaded or too short of memory at that moment, which is not a bug of the
# library. That is a warning naming the input, and fuzzing goes on for the time left. If it
# fails again, it is a finding. A crash, a leak or a sanitizer report always is.
# Environment:
#   SHMRPC_FUZZ_TIMEOUT=S         seconds one input may run (libFuzzer -timeout; default 10)
#   SHMRPC_FUZZ_RSS_LIMIT_MB=MB   memory limit (libFuzzer -rss_limit_mb; default 2048)
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage="usage: $0 [SECONDS] | $0 --merge [SECONDS]"
merge=0
if [[ "${1:-}" == "--merge" ]]; then
  merge=1
  shift
fi
seconds="${1:-30}"
[[ $# -le 1 && "$seconds" =~ ^[1-9][0-9]*$ ]] || shmrpc_die "$usage"
timeout="${SHMRPC_FUZZ_TIMEOUT:-10}"
rss_limit_mb="${SHMRPC_FUZZ_RSS_LIMIT_MB:-2048}"
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] ||
  shmrpc_die "SHMRPC_FUZZ_TIMEOUT must be a whole number of seconds, not '$timeout'"
[[ "$rss_limit_mb" =~ ^[1-9][0-9]*$ ]] ||
  shmrpc_die "SHMRPC_FUZZ_RSS_LIMIT_MB must be a whole number of MB, not '$rss_limit_mb'"
limits=(-timeout="$timeout" -rss_limit_mb="$rss_limit_mb")
# A non-reproducing finding stops libFuzzer early; it is restarted for the time left, this often.
max_restarts=5

targets=(dispatch schema)
build_dir="$SHMRPC_ROOT/build/fuzz"
corpus_root="$SHMRPC_ROOT/fuzz/corpus"

clang="$(shmrpc_find_tool clang++-14 clang++)" ||
  shmrpc_die "clang++ not found; run scripts/setup.sh (libFuzzer needs clang)"

shmrpc_banner "configure and build $build_dir with $("$clang" --version | head -n 1)"
# The fuzz targets build their own instrumented copy of the library (fuzz/CMakeLists.txt). -O1
# with assertions (Debug, not NDEBUG) is the usual trade-off between speed and checks.
# No SHMRPC_WERROR: the library is kept warning-free under gcc, not necessarily under clang.
# A cache made with another compiler is started afresh: CMake would drop the options below.
fresh=()
cached_compiler="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null)" || true
[[ -n "$cached_compiler" && "$cached_compiler" != "$clang" ]] && fresh=(--fresh)
cmake "${fresh[@]}" -S "$SHMRPC_ROOT" -B "$build_dir" \
  -DCMAKE_CXX_COMPILER="$clang" \
  -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DSHMRPC_BUILD_TESTS=OFF \
  -DSHMRPC_BUILD_PYTHON=OFF \
  -DSHMRPC_BUILD_EXAMPLES=OFF \
  -DSHMRPC_BUILD_BENCH=OFF \
  -DSHMRPC_BUILD_FUZZ=ON \
  -DSHMRPC_WERROR=OFF >/dev/null
cmake --build "$build_dir" -j"$SHMRPC_JOBS" --target fuzz_dispatch fuzz_schema make_seeds

work="$(mktemp -d "${TMPDIR:-/tmp}/shmrpc-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$build_dir/fuzz/make_seeds" "$work/seeds" >/dev/null
mkdir -p "$build_dir/logs"

# Prints the value of libFuzzer's "stat::NAME:" line in log $1.
final_stat() {
  sed -n "s/^stat::$2: *//p" "$1" | tail -n 1
}

# Prints the value after "$2: " in the last status line ("#N DONE cov: 715 ft: 3018 ...") of log $1.
status_field() {
  local value
  value="$(grep -E '^#[0-9]+' "$1" | tail -n 1 | sed -n "s/.* $2: \([^ ]*\).*/\1/p")" || true
  echo "${value:-?}"
}

# Prints the path of the input libFuzzer saved last in log $1 ("Test unit written to PATH"), or
# nothing if it saved none.
saved_input() {
  sed -n 's/.*Test unit written to //p' "$1" | tail -n 1
}

# Prints libFuzzer's report in log $1: from the first sanitizer or libFuzzer error line to the
# saved input.
print_report() {
  awk '/^==[0-9]+==|runtime error|^fuzz_[a-z]+: |^ERROR: libFuzzer/ { p = 1 }
       p { print } /Test unit written to/ { exit }' "$1" | head -n 80 >&2
}

failed=()
warnings=()
summaries=()
for target in "${targets[@]}"; do
  binary="$build_dir/fuzz/fuzz_$target"
  corpus="$work/corpus/$target"
  artifacts="$build_dir/artifacts/$target"
  log="$build_dir/logs/fuzz_$target.log"
  mkdir -p "$corpus" "$artifacts"
  cp -R "$corpus_root/$target/." "$corpus/"
  shmrpc_banner "fuzz_$target for $seconds s (log: ${log#"$SHMRPC_ROOT/"})"

  : >"$log"
  attempt_log="$work/fuzz_$target.attempt.log"
  verdict=""      # empty unless the target found a bug
  total_runs=0
  restarts=0      # timeouts and out-of-memory that did not reproduce
  start=$SECONDS
  left=$seconds
  while :; do
    status=0
    # New inputs go to the first directory only: the temporary copy.
    (cd "$work" && UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" "$binary" \
      -max_total_time="$left" "${limits[@]}" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" "$work/seeds/$target") >"$attempt_log" 2>&1 ||
      status=$?
    cat "$attempt_log" >>"$log"
    runs="$(final_stat "$attempt_log" number_of_executed_units)"
    total_runs=$((total_runs + ${runs:-0}))
    [[ $status -ne 0 ]] || break

    input="$(saved_input "$attempt_log")"
    kind="$(basename "${input:-none}")"
    kind="${kind%%-*}"  # libFuzzer names it crash-*, leak-*, timeout-* or oom-*
    if [[ -z "$input" || ! -f "$input" ]]; then
      verdict="FAILED (exit $status, no input saved)"
    elif [[ "$kind" != timeout && "$kind" != oom ]]; then
      verdict="FAILED (exit $status, $kind)"
    else
      # The same limits, one execution of the saved input, nothing else running in the process.
      rerun_log="$input.rerun.log"
      rerun=0
      (cd "$work" && UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" "$binary" \
        "${limits[@]}" -artifact_prefix="$work/rerun-" "$input") >"$rerun_log" 2>&1 || rerun=$?
      if [[ $rerun -ne 0 ]]; then
        verdict="FAILED (exit $status, $kind; reproduces when run alone)"
        print_report "$rerun_log"
        break
      fi
      what="a timeout"
      [[ "$kind" == timeout ]] || what="an out-of-memory"
      warning="fuzz_$target: $what on ${input#"$SHMRPC_ROOT/"} did not reproduce when that"
      warning+=" input ran alone (${rerun_log#"$SHMRPC_ROOT/"}); not counted as a finding"
      warnings+=("$warning")
      echo "warning: $warning" >&2
      left=$((seconds - (SECONDS - start)))
      restarts=$((restarts + 1))
      if [[ $left -ge 1 && $restarts -le $max_restarts ]]; then
        echo "fuzz_$target: going on for the $left s left"
        continue
      fi
      break
    fi
    print_report "$attempt_log"
    break
  done

  speed="$(final_stat "$attempt_log" average_exec_per_sec)"
  summary="$(printf 'fuzz_%s: %s runs (%s/s), cov %s, ft %s, corpus %s' "$target" \
    "$total_runs" "${speed:-?}" "$(status_field "$log" cov)" "$(status_field "$log" ft)" \
    "$(status_field "$log" corp)")"
  [[ $restarts -eq 0 ]] || summary+=", $restarts timeout/out-of-memory not reproduced (warning)"
  if [[ -n "$verdict" ]]; then
    summary+=", $verdict"
    failed+=("fuzz_$target")
  fi
  summaries+=("$summary")
  echo "$summary"

  if [[ $merge -eq 1 && -z "$verdict" ]]; then
    before="$(find "$corpus_root/$target" -type f | wc -l)"
    # Only inputs that reach new edges (-use_counters=0: hit counts do not count), to keep it small.
    (cd "$work" && "$binary" -merge=1 -use_counters=0 "${limits[@]}" \
      "$corpus_root/$target" "$corpus" "$work/seeds/$target") >"$log.merge" 2>&1 ||
      shmrpc_die "merging into fuzz/corpus/$target failed; see ${log#"$SHMRPC_ROOT/"}.merge"
    after="$(find "$corpus_root/$target" -type f | wc -l)"
    bytes="$(find "$corpus_root/$target" -type f -exec cat {} + | wc -c)"
    echo "fuzz_$target: merged $((after - before)) new input(s) into fuzz/corpus/$target" \
      "($after files, $bytes bytes)"
  fi
done

shmrpc_banner "summary"
printf '%s\n' "${summaries[@]}"
[[ ${#warnings[@]} -eq 0 ]] || printf 'warning: %s\n' "${warnings[@]}" | sort -u >&2
if [[ $merge -eq 1 ]]; then
  total="$(find "$corpus_root" -type f -exec cat {} + | wc -c)"
  echo "fuzz/corpus: $total bytes; review the new files (git status fuzz/corpus) before committing"
  [[ $total -le 1048576 ]] || echo "warning: fuzz/corpus is over 1 MiB; keep the inputs that matter" >&2
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  shmrpc_die "${failed[*]} found a bug: the input is in build/fuzz/artifacts/ (fuzz/README.md)"
fi
