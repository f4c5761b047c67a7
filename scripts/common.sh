# shellcheck shell=bash
# Helpers shared by the scripts in scripts/. Source it, do not run it:
#   source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# Defines SHMRPC_ROOT (the repository root) and SHMRPC_JOBS (parallel build jobs: the caller's
# SHMRPC_JOBS if set, else one per core), and the functions below. Callers set their own
# `set -euo pipefail`.

SHMRPC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHMRPC_JOBS="${SHMRPC_JOBS:-$(nproc 2>/dev/null || echo 2)}"
export SHMRPC_ROOT SHMRPC_JOBS

# Prints a message to stderr and exits non-zero.
shmrpc_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Prints one banner line naming a stage, so a log reads as a list of stages.
shmrpc_banner() {
  printf '\n==== %s ====\n' "$*"
}

# Prints the path of the first command found among the arguments; fails if none is found.
# Used to prefer the versioned LLVM 14 tools (clang-format-14) over unversioned ones.
shmrpc_find_tool() {
  local tool
  for tool in "$@"; do
    if command -v "$tool" >/dev/null 2>&1; then
      command -v "$tool"
      return 0
    fi
  done
  return 1
}

# Succeeds if the given interpreter runs and can import numpy.
shmrpc_python_has_numpy() {
  "$1" -c 'import numpy' >/dev/null 2>&1
}

# Picks a Python interpreter that can import numpy and exports its path as SHMRPC_PYTHON.
# The pyenv python3 first on PATH has no numpy, so Debian's /usr/bin/python3 comes first.
# A SHMRPC_PYTHON set by the caller wins if it can import numpy.
shmrpc_pick_python() {
  local candidate resolved
  local -a candidates=()
  [[ -n "${SHMRPC_PYTHON:-}" ]] && candidates+=("$SHMRPC_PYTHON")
  candidates+=(/usr/bin/python3 python3)
  # Any python3.X on PATH, newest first.
  while IFS= read -r candidate; do
    candidates+=("$candidate")
  done < <(compgen -c python3. | grep -E '^python3\.[0-9]+$' | sort -t. -k2,2nr -u)

  for candidate in "${candidates[@]}"; do
    resolved="$(command -v "$candidate" 2>/dev/null)" || continue
    if shmrpc_python_has_numpy "$resolved"; then
      SHMRPC_PYTHON="$resolved"
      export SHMRPC_PYTHON
      return 0
    fi
  done
  shmrpc_die "no Python interpreter can import numpy (tried: ${candidates[*]}); run scripts/setup.sh"
}
