"""Waiting for a condition, with a deadline, a growing pause between checks, and an error that says what
was waited for, how long, and what was seen last.

    ready = wait.until(lambda: api_ready(), timeout=30, what="the API server of member1")
    node = wait.until(lambda: read_node() or None, timeout=60, what="node n1 Ready",
                      describe=lambda: f"last condition: {last}")

``condition`` returns something truthy when done (returned to the caller) or falsy to go on. Failures of
the kinds in ``retry_on`` (by default ``kurator.kube.errors.Transient``: the server may be starting) count as
"not yet"; the last one is named in the timeout error. Anything else is raised at once: pass
``retry_on=()`` where a server that stops answering must end the wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from kurator.core.errors import KuratorError
from kurator.kube.errors import Transient

T = TypeVar("T")


class WaitTimeout(KuratorError):
    """The condition did not hold within the deadline."""

    def __init__(
        self, message: str, hint: str | None, *, what: str, seconds: float, last: BaseException | None = None
    ) -> None:
        super().__init__(message, hint)
        self.what = what
        self.seconds = seconds
        self.last = last  # the transient failure of the last check, if it failed


@dataclass(frozen=True)
class Backoff:
    """Pauses between checks: ``first``, growing by ``factor`` up to ``most`` seconds."""

    first: float = 0.25
    factor: float = 1.5
    most: float = 2.0

    def pauses(self) -> Callable[[], float]:
        current = [self.first]

        def next_pause() -> float:
            pause = current[0]
            current[0] = min(self.most, pause * self.factor)
            return pause

        return next_pause


STEADY = Backoff(factor=1.0)  # the same pause every time


def _timeout(
    what: str,
    seconds: float,
    last: BaseException | None,
    describe: Callable[[], str] | None,
    hint: str | None,
) -> WaitTimeout:
    message = f"timed out after {seconds:g}s waiting for {what}"
    details = []
    if describe is not None:
        details.append(describe())
    if last is not None:
        details.append(f"last error: {last}")
    text = "; ".join(d for d in details if d)
    return WaitTimeout(message + (f" ({text})" if text else ""), hint, what=what, seconds=seconds, last=last)


def until(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    backoff: Backoff = Backoff(),
    retry_on: tuple[type[BaseException], ...] = (Transient,),
    describe: Callable[[], str] | None = None,
    hint: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Check ``condition`` until it returns something truthy (returned), or raise :class:`WaitTimeout`
    after ``timeout`` seconds. The condition is always checked at least once, and once more at the
    deadline; a pause never runs past the deadline."""
    deadline = clock() + timeout
    pause = backoff.pauses()
    transient = retry_on
    last: BaseException | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
            last = None
        except transient as exc:
            last = exc
        left = deadline - clock()
        if left <= 0:
            raise _timeout(what, timeout, last, describe, hint)
        sleep(min(pause(), left))


async def until_async(
    condition: Callable[[], Awaitable[T | None]],
    *,
    timeout: float,
    what: str,
    backoff: Backoff = Backoff(),
    retry_on: tuple[type[BaseException], ...] = (Transient,),
    describe: Callable[[], str] | None = None,
    hint: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """As :func:`until`, for an asynchronous condition (pauses with ``asyncio.sleep``)."""
    deadline = clock() + timeout
    pause = backoff.pauses()
    transient = retry_on
    last: BaseException | None = None
    while True:
        try:
            result = await condition()
            if result:
                return result
            last = None
        except transient as exc:
            last = exc
        left = deadline - clock()
        if left <= 0:
            raise _timeout(what, timeout, last, describe, hint)
        await asyncio.sleep(min(pause(), left))
