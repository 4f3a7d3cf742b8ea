"""The operator's work queue: a key is queued once, never worked on twice at a time, queued again when it
changed while being worked on, and a later ``add_after`` never postpones an earlier one; reports wait for a
quiet first lane, but never longer than MAX_DEFER. Time is a clock these tests move by hand: nothing
sleeps."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from kurator.operator.workqueue import MAX_DEFER, QUIET, WorkQueue, run_workers


@dataclass(order=True)
class _Timer:
    due: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock that moves only when told; its timers fire, in order, as it passes them."""

    def __init__(self) -> None:
        self.t = 1000.0
        self._timers: list[_Timer] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self.t

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Timer:
        timer = _Timer(self.t + delay, next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def advance(self, seconds: float) -> None:
        target = self.t + seconds
        while self._timers and self._timers[0].due <= target:
            timer = heapq.heappop(self._timers)
            self.t = max(self.t, timer.due)
            if not timer.cancelled:
                timer.callback()
        self.t = target


async def _settle() -> None:
    """Let every task that can run, run (no time passes)."""
    for _ in range(20):
        await asyncio.sleep(0)


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
    async def main() -> None:
        clock = FakeClock()
        q: WorkQueue[str] = WorkQueue(clock)
        q.add_after("a", 5.0)
        q.add_after("a", 10.0)  # later: ignored
        clock.advance(4.9)
        assert len(q) == 0
        clock.advance(0.1)
        assert len(q) == 1 and await q.get() == "a"
        q.add_after("b", 10.0)
        q.add_after("b", 2.0)  # sooner: replaces the later one
        clock.advance(2.0)
        assert len(q) == 1 and await q.get() == "b"
        clock.advance(10.0)
        assert len(q) == 0, "the replaced timer fired too"

    asyncio.run(main())


def test_workers_never_work_on_one_key_at_once_and_requeue_what_work_returns() -> None:
    async def main() -> tuple[int, list[str]]:
        clock = FakeClock()
        q: WorkQueue[str] = WorkQueue(clock)
        running: set[str] = set()
        overlap = 0
        calls: list[str] = []

        async def work(key: str) -> float | None:
            nonlocal overlap
            calls.append(key)
            if key in running:
                overlap += 1
            running.add(key)
            q.add(key)  # an event for the key while it is worked on: it runs again afterwards, not now
            await asyncio.sleep(0)
            running.discard(key)
            return 1.0 if len(calls) < 6 else None

        q.add("a")
        task = asyncio.create_task(run_workers(q, work, workers=4))
        for _ in range(8):
            await _settle()
            clock.advance(1.0)
        task.cancel()
        return overlap, calls

    overlap, calls = asyncio.run(main())
    assert calls and set(calls) == {"a"}
    assert overlap == 0 and len(calls) >= 6


def test_reports_wait_for_a_quiet_first_lane() -> None:
    """A deferred key (a status to write) is handed out only once no new work came for QUIET seconds."""

    async def main() -> None:
        clock = FakeClock()
        q: WorkQueue[str] = WorkQueue(clock)
        q.defer("report")
        q.add("new")
        assert q.busy()
        first = await q.get()  # the first lane first
        assert first == "new"
        q.done(first)
        waiting = asyncio.create_task(q.get())
        await _settle()
        clock.advance(QUIET - 0.01)
        await _settle()
        assert not waiting.done(), "the report went out before the first lane was quiet"
        clock.advance(0.01)
        await _settle()
        assert waiting.done() and waiting.result() == "report"
        assert not q.busy()

    asyncio.run(main())


def test_a_report_waits_no_longer_than_max_defer_however_busy_the_first_lane() -> None:
    async def main() -> None:
        clock = FakeClock()
        q: WorkQueue[str] = WorkQueue(clock)
        q.defer("report")
        waiting = asyncio.create_task(q.get())
        steps = 0
        while not waiting.done():
            q.add(f"k{steps}")  # new work every 0.4 s: the first lane is never quiet
            assert await q.get() == f"k{steps}"
            q.done(f"k{steps}")
            clock.advance(0.4)
            await _settle()
            steps += 1
            assert steps * 0.4 <= MAX_DEFER + 0.4, "the report waited past MAX_DEFER"
        assert waiting.result() == "report"
        assert steps * 0.4 >= MAX_DEFER - 0.4, "the report went out while the first lane was busy"

    asyncio.run(main())


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
        q: WorkQueue[str] = WorkQueue(FakeClock())
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
        await _settle()  # every worker is waiting
        before = wakeups
        for i in range(10):
            q.add(f"k{i}")
            await asyncio.sleep(0)
        await _settle()
        task.cancel()
        return sorted(done), wakeups - before

    done, wakeups = asyncio.run(main())
    assert done == sorted(f"k{i}" for i in range(10))
    assert wakeups <= 30  # a look per key by the worker woken, and one more as each goes back to wait


def test_a_report_is_handed_out_when_its_turn_comes_without_any_other_event() -> None:
    """Workers all idle, a deferred key and nothing else happening: the second lane's timer wakes one."""

    async def main() -> list[str]:
        clock = FakeClock()
        q: WorkQueue[str] = WorkQueue(clock)
        done: list[str] = []

        async def work(key: str) -> float | None:
            done.append(key)
            return None

        task = asyncio.create_task(run_workers(q, work, workers=8))
        q.add("new")
        await _settle()
        q.defer("report")
        await _settle()
        assert done == ["new"]
        clock.advance(QUIET)
        await _settle()
        task.cancel()
        return done

    assert asyncio.run(main()) == ["new", "report"]
