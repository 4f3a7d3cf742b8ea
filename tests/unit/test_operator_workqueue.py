"""The operator's work queue: a key is queued once, never worked on twice at a time, queued again when it
changed while being worked on, and a later ``add_after`` never postpones an earlier one."""

from __future__ import annotations

import asyncio

from kurator.operator.workqueue import QUIET, WorkQueue, run_workers


def test_a_key_is_queued_once() -> None:
    async def main() -> list[str]:
        q: WorkQueue[str] = WorkQueue()
        for k in ("a", "b", "a", "a"):
            q.add(k)
        return [await q.get(), await q.get()] + ([] if len(q) == 0 else ["more"])

    assert asyncio.run(main()) == ["a", "b"]


def test_a_key_added_while_active_runs_again_after() -> None:
    async def main() -> list[str]:
        q: WorkQueue[str] = WorkQueue()
        q.add("a")
        first = await q.get()
        q.add("a")  # changed while being worked on: not handed to a second worker
        assert len(q) == 0
        q.done(first)
        return [first, await q.get()]

    assert asyncio.run(main()) == ["a", "a"]


def test_add_after_keeps_the_earliest_due_time() -> None:
    async def main() -> float:
        q: WorkQueue[str] = WorkQueue()
        loop = asyncio.get_running_loop()
        start = loop.time()
        q.add_after("a", 0.05)
        q.add_after("a", 5.0)  # later: ignored
        await asyncio.wait_for(q.get(), 1.0)
        return loop.time() - start

    assert asyncio.run(main()) < 1.0


def test_workers_never_work_on_one_key_at_once_and_requeue_what_work_returns() -> None:
    async def main() -> tuple[int, int]:
        q: WorkQueue[str] = WorkQueue()
        running: set[str] = set()
        overlap = calls = 0

        async def work(key: str) -> float | None:
            nonlocal overlap, calls
            calls += 1
            if key in running:
                overlap += 1
            running.add(key)
            await asyncio.sleep(0.01)
            q.add(key)  # an event for the key while it is worked on
            running.discard(key)
            return 0.01 if calls < 6 else None

        q.add("a")
        task = asyncio.create_task(run_workers(q, work, workers=4))
        await asyncio.sleep(0.3)
        task.cancel()
        return overlap, calls

    overlap, calls = asyncio.run(main())
    assert overlap == 0 and calls >= 6


def test_reports_wait_for_a_quiet_first_lane() -> None:
    """A deferred key (a status to write) is handed out only once no new work came for QUIET seconds."""

    async def main() -> tuple[list[str], float]:
        q: WorkQueue[str] = WorkQueue()
        loop = asyncio.get_running_loop()
        q.defer("report")
        q.add("new")
        assert q.busy()
        order = [await q.get()]  # the first lane first
        q.done(order[0])
        start = loop.time()
        order.append(await asyncio.wait_for(q.get(), 5))  # then the report, after the quiet period
        return order, loop.time() - start

    order, waited = asyncio.run(main())
    assert order == ["new", "report"]
    assert QUIET * 0.5 <= waited < QUIET + 1.0


def test_a_key_with_new_work_leaves_the_second_lane() -> None:
    async def main() -> list[str]:
        q: WorkQueue[str] = WorkQueue()
        q.defer("a")
        q.add("a")  # something changed: it may start a run now
        return [await asyncio.wait_for(q.get(), 1)] + (["still deferred"] if len(q) else [])

    assert asyncio.run(main()) == ["a"]


def test_one_waiting_worker_is_woken_per_key() -> None:
    """A hundred idle workers and ten keys: each key is worked on once, and the workers that got nothing
    were never woken (with an Event shared by all, every add woke every worker)."""

    async def main() -> tuple[list[str], int]:
        q: WorkQueue[str] = WorkQueue()
        done: list[str] = []
        wakeups = 0
        original = q._take

        def counting_take() -> str | None:
            nonlocal wakeups
            wakeups += 1
            return original()

        q._take = counting_take  # type: ignore[method-assign]

        async def work(key: str) -> float | None:
            done.append(key)
            return None

        task = asyncio.create_task(run_workers(q, work, workers=100))
        await asyncio.sleep(0.05)  # every worker is waiting
        before = wakeups
        for i in range(10):
            q.add(f"k{i}")
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        task.cancel()
        return sorted(done), wakeups - before

    done, wakeups = asyncio.run(main())
    assert done == sorted(f"k{i}" for i in range(10))
    assert wakeups <= 30  # a look per key by the worker woken, and one more as each goes back to wait


def test_a_report_is_handed_out_when_its_turn_comes_without_any_other_event() -> None:
    """Workers all idle, a deferred key and nothing else happening: the second lane's timer wakes one."""

    async def main() -> list[str]:
        q: WorkQueue[str] = WorkQueue()
        done: list[str] = []

        async def work(key: str) -> float | None:
            done.append(key)
            return None

        task = asyncio.create_task(run_workers(q, work, workers=8))
        q.add("new")
        await asyncio.sleep(0.01)
        q.defer("report")
        await asyncio.sleep(QUIET + 0.5)
        task.cancel()
        return done

    assert asyncio.run(main()) == ["new", "report"]
