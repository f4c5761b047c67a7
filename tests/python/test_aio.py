"""client.aio: the server's functions as coroutines that never block the event loop, run many
at once, and are abandoned when their task is cancelled; a server function that takes a
CallContext sees the cancel."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

import shmrpc
from conftest import ServerProcess


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def test_an_awaited_call_returns_its_result(client: shmrpc.Client) -> None:
    async def main() -> tuple[int, str]:
        return await client.aio.add(2, 3), await client.aio.greet(name="Ada")

    assert run(main()) == (5, "Hello, Ada!")


def test_errors_are_raised_at_the_await(client: shmrpc.Client) -> None:
    async def main() -> None:
        await client.aio.add("1", 2)

    with pytest.raises(TypeError, match="is int64, but a string"):
        run(main())


def test_the_event_loop_runs_on_while_a_call_waits(client: shmrpc.Client) -> None:
    async def main() -> int:
        ticks = 0

        async def heartbeat() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        beating = asyncio.create_task(heartbeat())
        await client.aio.sleep_ms(300)
        beating.cancel()
        return ticks

    # A loop blocked by the call would not have ticked at all while it ran.
    assert run(main()) >= 5


def test_thousands_of_concurrent_awaits_complete(client: shmrpc.Client) -> None:
    async def main() -> list[int]:
        return list(await asyncio.gather(*(client.aio.add(i, 1) for i in range(3000))))

    assert run(main()) == [i + 1 for i in range(3000)]


def test_task_groups_and_to_thread_work(client: shmrpc.Client) -> None:
    async def main() -> tuple[list[int], int]:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(client.aio.add(i, i)) for i in range(20)]
        threaded = await asyncio.to_thread(client.add, 20, 22)
        return [task.result() for task in tasks], threaded

    assert run(main()) == ([2 * i for i in range(20)], 42)


def test_a_cancelled_call_is_abandoned_and_frees_its_thread(demo: ServerProcess) -> None:
    with shmrpc.connect(demo.name, max_slots=2) as client:
        async def main() -> int:
            for _ in range(2):  # one per thread of the client's pool of two
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(client.aio.sleep_ms(3000), 0.1)
            # Both calls were abandoned: the pool's threads are free long before the server
            # ends the sleeps; a thread still in a call would make this wait 3 s.
            loop = asyncio.get_running_loop()
            free = loop.run_in_executor(client._channels.executor(), lambda: 42)
            return await asyncio.wait_for(free, 1.5)

        assert run(main()) == 42
        assert client.add(2, 3) == 5  # waits for a set-aside slot's sleep, then works


def wait_for_cancel_outcome(client: shmrpc.Client) -> int:
    """How the server's last wait_for_cancel ended, once it has: 1 cancelled, 2 ran out."""
    give_up = time.monotonic() + 20
    outcome = 0
    while outcome == 0 and time.monotonic() < give_up:
        time.sleep(0.005)
        outcome = client.last_cancel_outcome()
    return int(outcome)


def test_cancelling_the_task_cancels_the_call_on_the_server(types: shmrpc.Client) -> None:
    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(types.aio.wait_for_cancel(20_000), 0.2)

    run(main())
    assert wait_for_cancel_outcome(types) == 1, "the server function did not see the cancel"


def test_a_timeout_cancels_the_call_on_the_server(type_server: ServerProcess) -> None:
    with shmrpc.connect(type_server.name, timeout=0.1) as client:
        with pytest.raises(shmrpc.TimeoutError):
            client.wait_for_cancel(20_000)
        client.timeout = None
        assert wait_for_cancel_outcome(client) == 1
        # The server function sees its caller and the call's deadline.
        pid, no_deadline = client.call_info()
        assert (pid, no_deadline) == (os.getpid(), -1)
        client.timeout = 30.0
        assert 0 < client.call_info()[1] <= 30_000
