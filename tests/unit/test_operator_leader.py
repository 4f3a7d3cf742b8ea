"""Leader election never assumes it won: with no API server (connection refused) no candidate leads; once
it answers exactly one does, and only once the Lease it wrote reads back as its own; a Lease overwritten
between the write and the read-back is not a win; writes are refused unless the Lease is held; a holder
that cannot renew stops leading after renew_deadline. Against the in-process stand-in for the API server
(tests/unit/fakeapi.py)."""

from __future__ import annotations

import asyncio

import pytest

from kurator.api.resources import SECRET
from kurator.kube.asyncapi import AsyncAPI
from kurator.operator.leader import Elector, NotLeading
from kurator.operator.settings import LeaderElection
from tests.unit.fakeapi import FakeAPI


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _settings(identity: str) -> LeaderElection:
    return LeaderElection(namespace="ops", name="lease", identity=identity, retry=0.001)


def _lease(fake: FakeAPI) -> dict[str, object]:
    doc = fake.get("leases", "ops", "lease")
    assert doc is not None
    return doc


def test_no_candidate_leads_while_the_api_server_is_unreachable_and_one_does_once_it_answers() -> None:
    fake = FakeAPI(down=True)

    async def main() -> list[bool]:
        client = fake.client()
        try:
            a, b = (Elector(AsyncAPI(client), _settings(n)) for n in ("a", "b"))
            tries = [asyncio.create_task(e.acquire()) for e in (a, b)]
            await asyncio.sleep(0.05)  # many attempts, every one refused
            assert not any(t.done() for t in tries), "an operator took itself for the leader"
            assert not a.leading and not b.leading
            with pytest.raises(NotLeading):
                a.check()
            fake.down = False  # the API server appears
            done, pending = await asyncio.wait(tries, timeout=5, return_when=asyncio.FIRST_COMPLETED)
            assert len(done) == 1
            await asyncio.sleep(0.05)
            assert all(not t.done() for t in pending), "both took the Lease"
            for t in pending:
                t.cancel()
            return [a.leading, b.leading]
        finally:
            await client.close()

    assert sorted(asyncio.run(main())) == [False, True]
    assert fake.writes("GET", "/leases/lease"), "the Lease was never read"
    assert _lease(fake)["spec"]["holderIdentity"] in ("a", "b")  # type: ignore[index]


def test_a_lease_overwritten_before_it_is_read_back_is_not_won() -> None:
    fake = FakeAPI()

    def thief(method: str, path: str) -> None:
        # Right after the candidate's create, another writes the Lease: the read-back shows another holder.
        if method == "GET" and path.endswith("/leases/lease") and fake.get("leases", "ops", "lease"):
            lease = _lease(fake)
            fake.put(
                "apis/coordination.k8s.io/v1",
                "leases",
                {**lease, "spec": {**lease["spec"], "holderIdentity": "thief"}},  # type: ignore[dict-item]
            )

    fake.on_request = thief

    async def main() -> bool:
        client = fake.client()
        try:
            elector = Elector(AsyncAPI(client), _settings("a"))
            return await elector.try_once() or elector.leading
        finally:
            await client.close()

    assert asyncio.run(main()) is False
    assert fake.writes("POST", "/leases"), "the candidate never wrote the Lease"


def test_writes_are_refused_unless_the_lease_is_held_and_a_holder_that_cannot_renew_stops() -> None:
    fake = FakeAPI()
    clock = Clock()

    async def main() -> None:
        client = fake.client()
        try:
            elector = Elector(AsyncAPI(client), _settings("a"), clock=clock)
            guarded = AsyncAPI(client, guard=elector.check)
            secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ops"}}
            with pytest.raises(NotLeading):
                await guarded.create(secret)
            assert fake.writes("POST", "/secrets") == [], "a write went out without the Lease"
            await elector.acquire()
            assert elector.leading and await guarded.create(secret)
            fake.down = True  # renewals fail from now on
            holding = asyncio.create_task(elector.hold())
            await asyncio.sleep(0.02)
            assert not holding.done() and elector.leading  # within renew_deadline it still leads
            clock.t += elector.s.renew_deadline
            await asyncio.wait_for(holding, 5)
            assert not elector.leading
            with pytest.raises(NotLeading):
                await guarded.merge_patch(SECRET, "ops", "s", {"data": {}})
        finally:
            await client.close()

    asyncio.run(main())
    assert len(fake.writes("POST", "/secrets")) == 1


def test_a_holder_renews_its_own_lease_and_a_standby_waits_for_it_to_expire() -> None:
    fake = FakeAPI()
    clock = Clock()

    async def main() -> tuple[bool, bool, bool]:
        client = fake.client()
        try:
            a = Elector(AsyncAPI(client), _settings("a"), clock=clock)
            b = Elector(AsyncAPI(client), _settings("b"), clock=clock)
            assert await a.try_once() and await a.try_once()  # took, then renewed
            first = await b.try_once()
            clock.t += 16  # b has seen the same renewal for longer than the Lease's duration
            taken = await b.try_once()
            return first, taken, await a.try_once()
        finally:
            await client.close()

    assert asyncio.run(main()) == (False, True, False)
    assert _lease(fake)["spec"]["holderIdentity"] == "b"  # type: ignore[index]
    assert _lease(fake)["spec"]["leaseTransitions"] == 1  # type: ignore[index]
