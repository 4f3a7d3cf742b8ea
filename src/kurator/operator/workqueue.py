"""A work queue of cluster keys, as client-go's: a key is queued at most once, is never handed to two workers
at once (one queued while being worked on runs again afterwards), and can be queued for later; a later
request for a key already due sooner changes nothing.

Two lanes: work that may start something (a new or changed object) comes before work that only reports
(a status to write), which is taken once the first lane has been quiet for QUIET seconds, or after
MAX_DEFER at the latest. In a burst of new clusters every cluster gets its run started before any status
is written, instead of each one's writes slowing all.

Written here because kopf queues per object and per event, while a cluster must be reconciled for events
of other objects (its Jobs, its machine, Cluster API's objects); asyncio's own Queue knows no dedup.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar

K = TypeVar("K", bound=Hashable)
QUIET = 0.5  # seconds without new first-lane work before reports are written
MAX_DEFER = 30.0  # a report waits no longer than this, however busy the first lane stays


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """What the queue reads the time from and sets timers with (tests give it one they move by hand)."""

    def now(self) -> float: ...
    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer: ...


class LoopClock:
    """The monotonic clock and the running event loop's timers."""

    def now(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(delay, callback)


class WorkQueue(Generic[K]):
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or LoopClock()
        self._queue: deque[K] = deque()
        self._later: deque[K] = deque()
        self._queued: set[K] = set()
        self._deferred: set[K] = set()
        self._active: set[K] = set()
        self._again: set[K] = set()
        self._later_after: set[K] = set()
        self._timers: dict[K, tuple[float, Timer]] = {}
        # Idle workers wait each on its own future and are woken one per item: with an Event shared by
        # a hundred workers, every add woke them all (most of the operator's CPU in a burst).
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._report_timer: Timer | None = None
        self._last_add = float("-inf")
        self._deferred_at: dict[K, float] = {}
        self.added: dict[K, float] = {}
        """When each queued key was first queued (monotonic), for the latency of its work."""

    def __len__(self) -> int:
        return len(self._queue) + len(self._later)

    def busy(self) -> bool:
        """Whether work of the first lane waits, or came in less than QUIET seconds ago."""
        return bool(self._queue) or self.clock.now() - self._last_add < QUIET

    def add(self, key: K) -> None:
        if key in self._active:
            self._again.add(key)
            return
        if key in self._queued:
            return
        if key in self._deferred:  # promoted: it may have something to start now
            self._deferred.discard(key)
            self._deferred_at.pop(key, None)
            self._later.remove(key)
        self._queued.add(key)
        self._last_add = self.clock.now()
        self.added.setdefault(key, self._last_add)
        self._queue.append(key)
        self._wake_one()

    def defer(self, key: K) -> None:
        """Queue ``key`` in the second lane (only a report is left to do), unless it is queued anyway."""
        if key in self._active:  # asked from its own work: queued once that is done
            self._later_after.add(key)
            return
        if key in self._queued or key in self._deferred:
            return
        self._deferred.add(key)
        self._deferred_at[key] = self.clock.now()
        self._later.append(key)
        self._wake_one()

    def add_after(self, key: K, delay: float) -> None:
        """Queue ``key`` in ``delay`` seconds, unless it is already due sooner."""
        if delay <= 0:
            self.add(key)
            return
        due = self.clock.now() + delay
        current = self._timers.get(key)
        if current is not None:
            if current[0] <= due:
                return
            current[1].cancel()
        self._timers[key] = (due, self.clock.call_later(delay, lambda: self._fire(key)))

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def _report_due(self) -> float | None:
        """Seconds until the second lane may be served (0: now); None when it is empty."""
        if not self._later:
            return None
        now = self.clock.now()
        quiet = self._last_add + QUIET - now
        overdue = self._deferred_at.get(self._later[0], now) + MAX_DEFER - now
        return max(min(quiet, overdue), 0.0)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _arm_report(self, due: float) -> None:
        """Wake a worker when the second lane's turn may have come (it looks again, and re-arms when new
        first-lane work moved the turn on)."""
        if self._report_timer is not None:
            return

        def fire() -> None:
            self._report_timer = None
            self._wake_one()

        self._report_timer = self.clock.call_later(due, fire)

    def _take(self) -> K | None:
        if self._queue:
            key = self._queue.popleft()
            self._queued.discard(key)
        elif self._report_due() == 0.0:
            key = self._later.popleft()
            self._deferred.discard(key)
            self._deferred_at.pop(key, None)
        else:
            return None
        self._active.add(key)
        return key

    async def get(self) -> K:
        while True:
            key = self._take()
            if key is not None:
                if self._queue or self._report_due() == 0.0:
                    self._wake_one()  # more is ready: pass the word on
                return key
            due = self._report_due()
            if due is not None:
                self._arm_report(due)
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # woken, then cancelled: the item goes to another worker
                raise

    def done(self, key: K) -> None:
        self._active.discard(key)
        self.added.pop(key, None)
        if key in self._again:
            self._again.discard(key)
            self._later_after.discard(key)
            self.add(key)
        elif key in self._later_after:
            self._later_after.discard(key)
            self.defer(key)

    def close(self) -> None:
        for _, handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self._report_timer is not None:
            self._report_timer.cancel()
            self._report_timer = None


async def run_workers(
    queue: WorkQueue[K], work: Callable[[K], Awaitable[float | None]], workers: int
) -> None:
    """``workers`` tasks taking keys from ``queue``; ``work`` returns when to look at a key again (seconds),
    or None. ``work`` handles its own errors; an exception escaping it is a bug and stops the workers."""

    async def worker() -> None:
        while True:
            key = await queue.get()
            try:
                again = await work(key)
            finally:
                queue.done(key)
            if again is not None:
                queue.add_after(key, again)

    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())
