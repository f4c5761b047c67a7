"""Calls server_example through the typed stub that the generator wrote for it, as a user of
the stub would. scripts/example.sh generates the stub from the running server:

    python3 codegen/shmrpc-codegen --server NAME --python DIR/demo_client.py

and runs `python3 stub_example.py DIR`. The stub connects to the server it was generated from.
Exits with 0 when every check passes."""

from __future__ import annotations

import sys

import numpy as np

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else ".")
import demo_client  # noqa: E402 (the generated stub, in the directory given)

failures = 0


def check(ok: bool, what: str) -> None:
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    failures += 0 if ok else 1


def main() -> int:
    with demo_client.connect() as demo:  # a DemoClient; checks every function once
        print(f"stub of server {demo_client.SERVER!r}: {type(demo).__name__}")
        check(demo.add(2, 3) == 5, "demo.add(2, 3) = 5   (def add(self, a: int, b: int) -> int)")
        check(demo.greet("stub") == "Hello, stub!", "demo.greet('stub')")
        particles = demo.client.zeros(3, demo_client.Particle.dtype)  # the stub's numpy dtype
        particles["mass"] = [1.0, 2.0, 3.0]
        demo.step(particles, 0.01, demo_client.Floor.kBounce)
        energy = demo.energy(particles)
        check(isinstance(energy, demo_client.Energy), f"demo.energy(...) -> {energy}")
        heaviest = demo.heaviest(particles)
        check(heaviest is not None and heaviest.mass == 3.0, f"demo.heaviest(...) -> {heaviest}")
        check(demo.heaviest(np.zeros(0, demo_client.Particle.dtype)) is None,
              "demo.heaviest([]) -> None")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
