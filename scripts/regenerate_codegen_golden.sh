#!/usr/bin/env bash
# Regenerates the golden files of the stub generator (tests/codegen/golden/): builds the servers
# the schemas come from in BUILD_DIR (default build/release, configured with tests and Python on,
# e.g. by scripts/build.sh), rewrites each schema with the server's --schema, then the expected
# stubs with tests/codegen/golden_test.py --update. Review the result with `git diff`.
#   scripts/regenerate_codegen_golden.sh [BUILD_DIR]
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

build_dir="$(realpath "${1:-build/release}")"
cd "$SHMRPC_ROOT"
[[ -f "$build_dir/CMakeCache.txt" ]] ||
  shmrpc_die "$build_dir is not a configured build (scripts/build.sh $build_dir -DSHMRPC_BUILD_TESTS=ON)"
golden="tests/codegen/golden"

# schema file, CMake target, path of the binary in the build
servers=(
  "demo.json server_example server_example/server_example"
  "shapes_v1.json shmrpc_codegen_server_v1 tests/shmrpc_codegen_server_v1"
  "shapes_v2.json shmrpc_codegen_server_v2 tests/shmrpc_codegen_server_v2"
  "types.json shmrpc_py_type_server tests/python/shmrpc_py_type_server"
)

shmrpc_banner "build: the servers of the schemas"
targets=()
for entry in "${servers[@]}"; do
  read -r _ target _ <<<"$entry"
  targets+=("$target")
done
cmake --build "$build_dir" -j"$SHMRPC_JOBS" --target "${targets[@]}"

shmrpc_banner "schemas: $golden/*.json"
for entry in "${servers[@]}"; do
  read -r schema _ binary <<<"$entry"
  echo "$binary --schema $golden/$schema"
  "$build_dir/$binary" --schema "$golden/$schema"
done

shmrpc_banner "stubs: tests/codegen/golden_test.py --update"
python3 tests/codegen/golden_test.py --update
git status --short -- "$golden"
