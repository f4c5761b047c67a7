#!/usr/bin/env bash
# Runs clang-tidy 14 (checks: .clang-tidy) over every C++ source of the project: src/*.cpp,
# python_client/src/*.cpp, server_example/*.cpp and tools/*.cpp, with the flags from
# BUILD_DIR/compile_commands.json (scripts/build.sh writes it), and over the project headers they
# include. Fails on any finding, since .clang-tidy makes every warning an error.
#   scripts/lint.sh BUILD_DIR
# A source the build did not compile (a target switched off, e.g. -DSHMRPC_BUILD_PYTHON=OFF) has
# no compile command: it is skipped with a message naming it, and the lint still passes.
# scripts/test.sh lints build/release, which builds every target.
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 ]] || shmrpc_die "usage: $0 BUILD_DIR"
build_dir="$(cd "$1" && pwd)" || shmrpc_die "no such build directory: $1"
database="$build_dir/compile_commands.json"
[[ -f "$database" ]] ||
  shmrpc_die "$database missing; configure with scripts/build.sh $1"

clang_tidy="$(shmrpc_find_tool clang-tidy-14 clang-tidy)" ||
  shmrpc_die "clang-tidy not found; run scripts/setup.sh"

cd "$SHMRPC_ROOT"
root="$(pwd -P)"  # CMake writes resolved paths into the compile commands
shopt -s nullglob
sources=(src/*.cpp python_client/src/*.cpp server_example/*.cpp tools/*.cpp)
[[ ${#sources[@]} -gt 0 ]] || { echo "lint: no files"; exit 0; }

files=()
skipped=()
for file in "${sources[@]}"; do
  # CMake writes one entry per source: "file": "/absolute/path".
  if grep -qF "\"file\": \"$root/$file\"" "$database"; then
    files+=("$file")
  else
    skipped+=("$file")
  fi
done

# The library is always built: if its sources are missing, the database is of another checkout.
[[ ${#files[@]} -gt 0 && ! " ${skipped[*]} " =~ " src/" ]] ||
  shmrpc_die "$database has no compile command for ${skipped[0]}; is it a build of $root?"

# The compile commands come from GCC: a GCC-only warning flag must not become a clang finding.
# One clang-tidy per file, SHMRPC_JOBS at a time; each writes its own log, printed whole once it
# ends, so that findings of files linted side by side do not interleave.
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
lint_one() {
  local file="$1" log
  log="$logs/$(printf '%s' "$file" | tr '/' '_').log"
  if "$clang_tidy" --quiet -p "$build_dir" --extra-arg=-Wno-unknown-warning-option "$file" \
    >"$log" 2>&1; then
    echo "lint: $file"
  else
    echo "lint: $file: findings"
    cat "$log"
    touch "$log.failed"
  fi
}
export -f lint_one
export clang_tidy build_dir logs
# shellcheck disable=SC2016 # $1 is lint_one's argument, expanded by the inner bash
printf '%s\0' "${files[@]}" | xargs -0 -n 1 -P "$SHMRPC_JOBS" bash -c 'lint_one "$1"' lint_one
failed=()
for file in "${files[@]}"; do
  if [[ -e "$logs/$(printf '%s' "$file" | tr '/' '_').log.failed" ]]; then
    failed+=("$file")
  fi
done
if [[ ${#skipped[@]} -gt 0 ]]; then
  echo "lint: skipped ${#skipped[@]} file(s) that $1 does not compile (its CMake options leave" \
    "their target out):"
  printf '  %s\n' "${skipped[@]}"
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "lint: findings in ${#failed[@]} of ${#files[@]} file(s):" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "lint: ${#files[@]} file(s) clean"
