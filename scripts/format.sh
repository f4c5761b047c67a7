#!/usr/bin/env bash
# Runs clang-format 14 (style: .clang-format) over the project's C++ files, tracked or untracked
# but not ignored.
#   scripts/format.sh           formats in place
#   scripts/format.sh --check   changes nothing; lists the files that need formatting and fails
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) shmrpc_die "usage: $0 [--check]" ;;
esac

clang_format="$(shmrpc_find_tool clang-format-14 clang-format)" ||
  shmrpc_die "clang-format not found; run scripts/setup.sh"
"$clang_format" --version | grep -q 'version 14\.' ||
  echo "warning: $("$clang_format" --version) is not clang-format 14; results may differ from CI" >&2

cd "$SHMRPC_ROOT"
dirs=()
for dir in include src tests server_example tools python_client bench codegen fuzz; do
  [[ -d "$dir" ]] && dirs+=("$dir")
done

files=()
if [[ ${#dirs[@]} -gt 0 ]]; then
  # -co lists tracked files that were deleted too; keep only files that exist.
  while IFS= read -r file; do
    [[ -f "$file" ]] && files+=("$file")
  done < <(git ls-files -co --exclude-standard -- "${dirs[@]}" | grep -E '\.(hpp|cpp)$' | sort -u)
fi

if [[ ${#files[@]} -eq 0 ]]; then
  echo "format: no C++ files"
  exit 0
fi

if [[ $check -eq 0 ]]; then
  "$clang_format" -i --style=file "${files[@]}"
  echo "format: formatted ${#files[@]} file(s)"
  exit 0
fi

offenders=()
for file in "${files[@]}"; do
  "$clang_format" --dry-run -Werror --style=file "$file" >/dev/null 2>&1 || offenders+=("$file")
done
if [[ ${#offenders[@]} -gt 0 ]]; then
  echo "format: ${#offenders[@]} of ${#files[@]} file(s) need formatting (run scripts/format.sh):" >&2
  printf '  %s\n' "${offenders[@]}" >&2
  exit 1
fi
echo "format: ${#files[@]} file(s) formatted correctly"
