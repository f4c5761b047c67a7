"""Calls server_example from Python with the shmrpc package and checks each answer, as
client_example.cpp does from C++. Run it as `python3 client_example.py [NAME]` while
`server_example [NAME]` runs (scripts/example.sh runs both). Exits with 0 when every check passes.
"""

from __future__ import annotations

import sys

import numpy as np

import shmrpc

failures = 0


def check(ok: bool, what: str) -> None:
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    failures += 0 if ok else 1


def main() -> int:
    name = sys.argv[1] if len(sys.argv) > 1 else "demo"
    with shmrpc.connect(name) as client:  # signatures, docs and types come from the server
        print(f"connected to {name!r} on channel {client.channel}")
        check(client.add(2, 3) == 5, "add(2, 3) = 5")
        check(client.add(a=40, b=2) == 42, "add(a=40, b=2) = 42, by keyword")

        x = client.zeros(1_000)  # a numpy array in shared memory: crosses without a copy
        x += 1.0
        client.scale(x, 2.0)  # std::span<double>: written in place
        check(bool((x == 2.0).all()), "scale(shared ones, 2.0) -> twos, in place")
        check(client.dot(x, np.ones(1_000)) == 2_000.0, "dot(x, ones) = 2000, a copied ndarray")
        check(client.range(0, 10, 3).tolist() == [0, 3, 6, 9], "range(0, 10, 3) = [0, 3, 6, 9]")

        particles = client.zeros(2, client.types.Particle)  # a structured array in shared memory
        particles["mass"] = [1.0, 2.0]
        particles["pos"][:, 2] = 1.0
        client.step(particles, 0.1, client.types.Floor.kBounce)
        check(np.allclose(particles["vel"][:, 2], -0.981), "step(particles, 0.1) in place")
        energy = client.energy(particles)
        check(energy.potential > 0, f"energy(particles) = {energy}")

        image = np.ones((480, 640), dtype=np.float32)  # any 2-D array: C, Fortran or a view
        image[100:200, 300:400] = 9.0
        kept, mask = client.segment(image, 5.0)  # two images out of one call, no copy
        check(mask.shape == (480, 640) and int(mask.sum()) == 100 * 100,
              "segment(image, 5) masks the bright square")
        check(client.word_counts("to be or not to be".split()) == {"to": 2, "be": 2, "or": 1,
                                                                   "not": 1},
              "word_counts(a list of str) is a dict")

        try:
            client.fail("boom")
            check(False, "fail('boom') raises")
        except shmrpc.RemoteError as error:
            check("boom" in str(error), f"fail('boom') raises RemoteError: {error}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
