"""The install record: its state (installing, installed, failed with a reason) and a damaged record named
as such, never an "unexpected" decoding error."""

from __future__ import annotations

from typing import Any

import pytest

from kurator.core.errors import KuratorError
from kurator.fleet import plan, record
from kurator.fleet.desired import Ref

REF = Ref("apps/v1", "Deployment", "standin", "standin")


def _load(data: dict[str, str]) -> record.Record:
    return record.parse("standin", data)


def test_state_and_reason_round_trip() -> None:
    rec = record.Record("standin", "0.1.0", [REF], ["member1"], state=record.FAILED, reason="Karmada refused")
    assert _load(rec.data()) == rec
    installing = record.Record("standin", "0.1.0", [REF], ["member1"], state=record.INSTALLING)
    assert "reason" not in installing.data() and _load(installing.data()) == installing


def test_a_record_of_an_earlier_version_reads_as_installed() -> None:
    data = record.Record("standin", "0.1.0", [REF], ["member1"]).data()
    del data["state"]
    loaded = _load(data)
    assert loaded is not None and loaded.state == record.INSTALLED and loaded.reason == ""


@pytest.mark.parametrize(
    "objects", ["{damaged", '[{"kind": "Deployment"}]', "[" * 200 + "]" * 200, '"a string"']
)
def test_a_damaged_record_is_named(objects: str) -> None:
    data = record.Record("standin", "0.1.0", [REF], ["member1"]).data() | {"objects": objects}
    with pytest.raises(KuratorError) as err:
        _load(data)
    assert "the record of standin (kube-system/kurator-component-standin)" in err.value.message
    assert "edited or damaged" in err.value.message


def test_a_plan_with_a_refusal_stops_before_anything_is_written() -> None:
    refused = plan.Change("create", REF, refused='spec.replicas: Invalid value: "banana"')
    noted = plan.Change("create", Ref("standin.kurator.dev/v1", "Widget", "standin", "default"), note="later")
    the_plan = plan.Plan("standin", "0.1.0", plan.TargetPlan("karmada", [refused, noted]), [])
    with pytest.raises(KuratorError) as err:
        the_plan.check()
    assert err.value.message == (
        'karmada would refuse Deployment standin/standin of standin: spec.replicas: Invalid value: "banana"'
    )
    assert "nothing was written" in (err.value.hint or "")
    changes = the_plan.to_json()["targets"][0]["changes"]
    assert changes[0]["refused"].startswith("spec.replicas") and changes[1]["note"] == "later"
    plan.Plan("standin", "0.1.0", plan.TargetPlan("karmada", [noted]), []).check()  # a note is no refusal


def test_a_value_of_the_wrong_type_is_refused_by_the_dry_run_before_anything_is_sent() -> None:
    """``--set replicas=banana`` renders a Deployment no Kubernetes schema takes: the plan says so (it
    used to end the real install half-way with "unexpected ValidationError")."""
    import asyncio

    from kurator.kube.errors import NotFound

    class NothingThere:
        async def get(self, *args: Any, **kwargs: Any) -> Any:
            raise NotFound("not found")

        async def apply(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("nothing is sent")

    doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "standin", "namespace": "standin"},
        "spec": {"replicas": "banana", "selector": {}, "template": {}},
    }
    api: Any = NothingThere()
    change = asyncio.run(plan._on_karmada_one(api, doc, {"standin"}))
    assert change.action == "create"
    assert (
        change.refused.startswith("it does not fit the Deployment schema")
        and "spec.replicas" in change.refused
    )
