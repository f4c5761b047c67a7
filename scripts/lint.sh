#!/usr/bin/env bash
# Runs clang-tidy 14 (checks: .clang-tidy) over src/*.cpp and tools/*.cpp, with the flags from
# BUILD_DIR/compile_commands.json (scripts/build.sh writes it). Fails on any finding, since
# .clang-tidy makes every warning an error.
#   scripts/lint.sh BUILD_DIR
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 ]] || shmrpc_die "usage: $0 BUILD_DIR"
build_dir="$(cd "$1" && pwd)" || shmrpc_die "no such build directory: $1"
[[ -f "$build_dir/compile_commands.json" ]] ||
  shmrpc_die "$build_dir/compile_commands.json missing; configure with scripts/build.sh $1"

clang_tidy="$(shmrpc_find_tool clang-tidy-14 clang-tidy)" ||
  shmrpc_die "clang-tidy not found; run scripts/setup.sh"

cd "$SHMRPC_ROOT"
shopt -s nullglob
files=(src/*.cpp tools/*.cpp)
[[ ${#files[@]} -gt 0 ]] || { echo "lint: no files"; exit 0; }

# The compile commands come from GCC: a GCC-only warning flag must not become a clang finding.
failed=()
for file in "${files[@]}"; do
  echo "lint: $file"
  "$clang_tidy" --quiet -p "$build_dir" --extra-arg=-Wno-unknown-warning-option "$file" ||
    failed+=("$file")
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "lint: findings in ${#failed[@]} of ${#files[@]} file(s):" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "lint: ${#files[@]} file(s) clean"
