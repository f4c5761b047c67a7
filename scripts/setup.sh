#!/usr/bin/env bash
# Installs what shmrpc needs to build and test on Debian 12, from Debian's archive only.
# Idempotent and non-interactive: it asks dpkg which packages are missing and installs only
# those (running `apt-get update` first); when nothing is missing it changes nothing.
set -euo pipefail

packages=(
  build-essential cmake git
  libboost1.81-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  pybind11-dev python3-dev python3-numpy python3-pytest python3-pybind11 python3-mypy
  python3-pip python3-venv python3-setuptools python3-wheel
  clang clang-format clang-tidy libclang-rt-14-dev
  pkg-config libzmq3-dev python3-zmq
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc python3-grpcio
  iceoryx libiceoryx-posh-dev libiceoryx-hoofs-dev
  python3-matplotlib
)

missing=()
for pkg in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || {
    echo "setup: missing packages (${missing[*]}) and not root, and sudo is not installed" >&2
    exit 1
  }
  as_root=(sudo)
fi

echo "setup: installing ${missing[*]}"
"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup: installed ${#missing[@]} package(s)"
