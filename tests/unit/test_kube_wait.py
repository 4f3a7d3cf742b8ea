"""The one wait helper: a condition, a deadline, growing pauses, and an error that says what was waited
for. A controllable clock: no test sleeps."""

from __future__ import annotations

import asyncio

import pytest

from kurator.kube import errors, wait


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def test_returns_what_the_condition_gives_once_it_holds() -> None:
    clock = Clock()
    answers = iter([None, 0, "", "ready"])
    got = wait.until(lambda: next(answers), timeout=10, what="x", clock=clock, sleep=clock.sleep)
    assert got == "ready"
    assert clock.pauses == [0.25, 0.375, 0.5625]  # growing by half each time


def test_pauses_are_capped_and_never_run_past_the_deadline() -> None:
    clock = Clock()
    with pytest.raises(wait.WaitTimeout) as caught:
        wait.until(lambda: False, timeout=10, what="the API server of m1", clock=clock, sleep=clock.sleep)
    assert max(clock.pauses) == 2.0
    assert clock.now == pytest.approx(110.0)  # the last pause was cut to the deadline
    assert caught.value.message == "timed out after 10s waiting for the API server of m1"
    assert caught.value.what == "the API server of m1" and caught.value.seconds == 10


def test_transient_failures_are_not_yet_and_the_last_one_is_named() -> None:
    clock = Clock()
    down = errors.Unreachable("cannot connect to https://127.0.0.1:1 while reading x: refused")

    def condition() -> bool:
        raise down

    with pytest.raises(wait.WaitTimeout) as caught:
        wait.until(
            condition,
            timeout=1,
            what="etcd",
            describe=lambda: "2 of 3 nodes Ready",
            hint="look at etcd.log",
            clock=clock,
            sleep=clock.sleep,
        )
    assert caught.value.message == (
        "timed out after 1s waiting for etcd (2 of 3 nodes Ready; last error: "
        "cannot connect to https://127.0.0.1:1 while reading x: refused)"
    )
    assert caught.value.hint == "look at etcd.log"


def test_other_failures_are_raised_at_once() -> None:
    clock = Clock()

    def condition() -> bool:
        raise errors.Forbidden("forbidden")

    with pytest.raises(errors.Forbidden):
        wait.until(condition, timeout=30, what="x", clock=clock, sleep=clock.sleep)
    assert clock.pauses == []
    with pytest.raises(OSError):
        wait.until(lambda: (_ for _ in ()).throw(OSError("x")), timeout=1, what="x", clock=clock)

    seen = []

    def flaky() -> bool:
        seen.append(1)
        if len(seen) < 3:
            raise OSError("not yet listening")
        return True

    assert wait.until(flaky, timeout=30, what="x", retry_on=(OSError,), clock=clock, sleep=clock.sleep)


def test_a_steady_backoff_keeps_its_pause() -> None:
    clock = Clock()
    answers = iter([False, False, False, True])
    wait.until(
        lambda: next(answers), timeout=10, what="x", backoff=wait.STEADY, clock=clock, sleep=clock.sleep
    )
    assert clock.pauses == [0.25, 0.25, 0.25]


def test_the_async_form_waits_the_same_way() -> None:
    answers = iter([None, None, 7])

    async def condition() -> int | None:
        return next(answers)

    tiny = wait.Backoff(first=0.001, factor=1.0, most=0.001)
    assert asyncio.run(wait.until_async(condition, timeout=10, what="x", backoff=tiny)) == 7

    async def never() -> bool:
        raise errors.ServerError("503")

    with pytest.raises(wait.WaitTimeout, match=r"waiting for the members .*last error: 503"):
        asyncio.run(wait.until_async(never, timeout=0.01, what="the members", backoff=tiny))


def test_without_retries_a_server_that_stops_answering_ends_the_wait_at_once() -> None:
    clock = Clock()

    def condition() -> bool:
        raise errors.Disconnected("https://127.0.0.1:5443 broke off reading x")

    with pytest.raises(errors.Disconnected):
        wait.until(condition, timeout=240, what="the members", retry_on=(), clock=clock, sleep=clock.sleep)
    assert clock.pauses == []
