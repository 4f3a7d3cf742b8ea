"""Status folded from the Jobs: phases, CAPI-style conditions with the wrapper's failure summary, transition
times kept while nothing changes; reading Jobs and termination messages; the wrapper's summary of ansible's
output."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from kurator.lifecycle.actions import Action, Kind
from kurator.lifecycle.hosts import desired
from kurator.lifecycle.observed import Summary, Target, observe, parse_summary
from kurator.lifecycle.status import with_decision
from tests import lifecycle_cases as lc

NOW = lc.T0 + timedelta(hours=1)


def _conds(status: object) -> dict[str, tuple[str, str | None]]:
    return {c.type: (c.status, c.reason) for c in status.conditions or ()}  # type: ignore[attr-defined]


def test_pending_then_provisioning_then_provisioned() -> None:
    c, m = lc.cluster(), lc.machine()
    assert lc.fold(c, m, None, (), NOW).phase == "Pending"
    running = lc.fold(c, m, None, (lc.job("create", "active"),), NOW)
    assert running.phase == "Provisioning"
    assert _conds(running)["Provisioned"] == ("False", "Provisioning")
    done = (lc.job("create", "succeeded", target=Target(desired(m), lc.VERSION)),)
    st = lc.fold(c, m, running, done, NOW)
    assert st.phase == "Provisioned" and st.kubernetes_version == lc.VERSION
    assert (st.masters, st.nodes, st.api_endpoint) == (1, 2, "https://192.0.2.11:6443")
    assert [h.host_name for h in st.provisioned_hosts or ()] == ["master1", "node1", "node2"]
    conds = _conds(st)
    assert conds["Ready"] == ("True", "Provisioned") and conds["Provisioned"] == ("True", "Provisioned")
    assert conds["KubeconfigReady"] == ("False", "NotFetched")
    fetched = lc.fold(c, m, st.model_copy(update={"kubeconfig_secret_ref": "cc-kubeconfig"}), done, NOW)
    assert _conds(fetched)["KubeconfigReady"] == ("True", "Fetched")


def test_failed_create_carries_the_summary() -> None:
    failed = (
        lc.job(
            "create",
            "failed",
            summary=Summary("node1", "kubeadm | Initialize first control plane", "timeout"),
        ),
    )
    st = lc.fold(lc.cluster(), lc.machine(), None, failed, NOW)
    assert st.phase == "ProvisionFailed"
    (cond,) = [x for x in st.conditions or () if x.type == "Provisioned"]
    assert (cond.status, cond.reason, cond.severity) == ("False", "ProvisionFailed", "Error")
    assert (
        cond.message is not None
        and "on node1 in task 'kubeadm | Initialize first control plane': timeout" in cond.message
    )


@pytest.mark.parametrize(
    ("action", "phase", "condition", "reason"),
    [
        ("scale-up", "ScalingUp", "ScaledUp", "ScalingUp"),
        ("scale-down", "ScalingDown", "ScaledDown", "ScalingDown"),
        ("upgrade", "Upgrading", "Upgraded", "Upgrading"),
    ],
)
def test_running_day_two_actions(action: str, phase: str, condition: str, reason: str) -> None:
    st = lc.fold(
        lc.cluster(), lc.machine(), lc.installed(), (lc.job(action, "active", generation="1-2"),), NOW
    )
    assert st.phase == phase and _conds(st)[condition] == ("False", reason)
    assert _conds(st)["Ready"] == ("True", "Provisioned")  # the cluster serves while it is changed


def test_failed_scale_up_makes_ready_false_and_keeps_provisioned() -> None:
    st = lc.fold(
        lc.cluster(), lc.machine(), lc.installed(), (lc.job("scale-up", "failed", generation="1-2"),), NOW
    )
    assert st.phase == "Provisioned"
    assert _conds(st)["Ready"] == ("False", "ScaleUpFailed") and _conds(st)["Provisioned"] == (
        "True",
        "Provisioned",
    )


def test_deleting_phases() -> None:
    c = lc.cluster(deleting=True)
    st = lc.fold(c, lc.machine(), lc.installed(), (lc.job("delete", "active"),), NOW)
    assert st.phase == "Deleting" and _conds(st)["Deleting"] == ("True", "ResettingHosts")
    assert _conds(st)["Ready"] == ("False", "Deleting") and "KubeconfigReady" not in _conds(st)
    st = lc.fold(c, lc.machine(), lc.installed(), (lc.job("delete", "failed"),), NOW)
    assert st.phase == "DeletingFailed" and _conds(st)["Deleting"] == ("False", "ResetFailed")
    st = lc.fold(
        c, lc.machine(), lc.installed(), (lc.job("delete", "succeeded", target=Target((), None)),), NOW
    )
    assert st.provisioned_hosts is None and _conds(st)["Deleting"] == ("True", "HostsReset")


def test_transition_time_kept_while_status_unchanged() -> None:
    c, m = lc.cluster(), lc.machine()
    done = (lc.job("create", "succeeded", target=Target(desired(m), lc.VERSION)),)
    first = lc.fold(c, m, None, done, NOW)
    again = lc.fold(c, m, first, done, NOW + timedelta(hours=5))
    assert [x.last_transition_time for x in again.conditions or ()] == [
        x.last_transition_time for x in first.conditions or ()
    ]
    broke = lc.fold(
        c,
        m,
        again,
        (*done, lc.job("scale-up", "failed", generation="1-2", created=NOW)),
        NOW + timedelta(hours=6),
    )
    (ready,) = [x for x in broke.conditions or () if x.type == "Ready"]
    assert ready.last_transition_time == NOW + timedelta(hours=6)


def test_blocking_decisions_show_in_ready() -> None:
    st = lc.fold(lc.cluster(), lc.machine(), lc.installed(), (), NOW)
    stopped = with_decision(st, Action(Kind.NONE, "RetryLimitReached", "gave up"), NOW)
    (ready,) = [x for x in stopped.conditions or () if x.type == "Ready"]
    assert (ready.status, ready.reason, ready.message, ready.severity) == (
        "False",
        "RetryLimitReached",
        "gave up",
        "Error",
    )
    assert with_decision(st, Action(Kind.NONE, "UpToDate"), NOW) == st


def test_observe_a_failed_job_and_its_pod() -> None:
    job = {
        "metadata": {
            "name": "cc-create-1-1-2",
            "creationTimestamp": "2026-11-25T12:00:00Z",
            "labels": {
                "kurator.dev/action": "create",
                "kurator.dev/generation": "1-1",
                "kurator.dev/attempt": "2",
            },
        },
        "status": {
            "conditions": [{"type": "Failed", "status": "True", "lastTransitionTime": "2026-11-25T12:10:00Z"}]
        },
    }
    pod = {
        "status": {
            "containerStatuses": [
                {
                    "state": {
                        "terminated": {
                            "exitCode": 2,
                            "message": json.dumps(
                                {"failed_host": "node1", "task": "download", "message": "no route"}
                            ),
                        }
                    }
                }
            ]
        }
    }
    seen = observe(job, pod)
    assert (seen.state, seen.attempt, seen.finished) == ("failed", 2, lc.T0 + timedelta(minutes=10))
    assert seen.summary == Summary("node1", "download", "no route")
    assert observe({**job, "status": {"active": 1}}).state == "active"


def test_termination_message_that_is_not_json() -> None:
    assert parse_summary("OOMKilled\n") == Summary(message="OOMKilled")
    assert parse_summary("") is None
    assert parse_summary('["x"]') == Summary(message='["x"]')


ANSIBLE_OUTPUT = """\
PLAY [Prepare] *****************************************************************
TASK [bootstrap_os : Check presence of fastestmirror.conf] *********************
fatal: [node2]: FAILED! => {"changed": false, "msg": "not ignored? no, ignored"}
...ignoring
TASK [kubernetes/control-plane : kubeadm | Initialize first control plane node] *
fatal: [master1]: FAILED! => {"changed": true, "msg": "non-zero return code", "rc": 1}
TASK [never reached] ***
fatal: [node1]: UNREACHABLE! => {"msg": "later"}
PLAY RECAP *********************************************************************
"""


def test_conditions_fold_does_not_compute_are_kept() -> None:
    from kurator.api.common import Condition

    hosts_ready = Condition(type="HostsReady", status="False", reason="Unreachable", lastTransitionTime=lc.T0)
    old = lc.status().model_copy(update={"conditions": [hosts_ready]})
    st = lc.fold(lc.cluster(), lc.machine(), old, (), NOW)
    assert _conds(st)["HostsReady"] == ("False", "Unreachable") and _conds(st)["Ready"][0] == "False"
