"""When Karmada last wrote a member's status, read from the Cluster object."""

from __future__ import annotations

import datetime as dt

from kurator.fleet.heartbeat import Heard, status_updated


def test_the_newest_status_write_or_transition_is_the_status_age() -> None:
    cluster = {
        "metadata": {
            "managedFields": [
                {"manager": "karmadactl", "operation": "Update", "time": "2026-12-04T18:00:00Z"},
                {
                    "manager": "karmada-controller-manager",
                    "subresource": "status",
                    "time": "2026-12-04T18:05:00Z",
                },
            ]
        },
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-04T18:03:00Z"}]
        },
    }
    assert status_updated(cluster) == dt.datetime(2026, 12, 4, 18, 5, tzinfo=dt.UTC)
    cluster["status"]["conditions"][0]["lastTransitionTime"] = "2026-12-04T18:07:30Z"
    assert status_updated(cluster) == dt.datetime(2026, 12, 4, 18, 7, 30, tzinfo=dt.UTC)


def test_a_cluster_karmada_never_wrote_a_status_for_has_none() -> None:
    assert status_updated({"metadata": {"managedFields": [{"manager": "x", "time": "bad"}]}}) is None
    assert (
        status_updated({"metadata": {}, "status": {"conditions": [{"lastTransitionTime": "not a time"}]}})
        is None
    )


def test_heard() -> None:
    assert Heard().answered and not Heard("unreachable").answered
