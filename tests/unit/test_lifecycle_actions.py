"""next_action: every branch of the one decision, and that it is safe to repeat (same inputs, same Job)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kurator.lifecycle.actions import NAME_MAX, Kind, Policy, job_name, next_action
from kurator.lifecycle.hosts import desired
from kurator.lifecycle.observed import Summary, Target
from kurator.lifecycle.state import current
from tests import lifecycle_cases as lc

NOW = lc.T0 + timedelta(hours=1)


def test_new_cluster_is_checked_then_created() -> None:
    m = lc.machine()
    first = next_action(lc.cluster(), m, None, (), NOW)
    assert (first.kind, first.reason) == (Kind.PREFLIGHT, "HostsUnchecked")
    assert first.hosts == ("master1", "node1", "node2")
    checked = lc.status(checked=1)
    create = next_action(lc.cluster(), m, checked, (), NOW)
    assert (create.kind, create.reason, create.version) == (Kind.CREATE, "NotProvisioned", lc.VERSION)
    assert create.job == "cc-create-1-1-0" and create.attempt == 0 and create.generation == "1-1"


def test_preflight_is_redone_when_the_machine_changes() -> None:
    a = next_action(lc.cluster(), lc.machine(generation=2), lc.status(checked=1), (), NOW)
    assert a.kind == Kind.PREFLIGHT


def test_restart_safety_same_inputs_same_job() -> None:
    args = (lc.cluster(), lc.machine(), lc.status(), (), NOW)
    assert next_action(*args) == next_action(*args)
    running = (lc.job("create", "active"),)
    wait = next_action(lc.cluster(), lc.machine(), lc.status(), running, NOW)
    assert (wait.kind, wait.job) == (Kind.WAIT, "cc-create-1-1-0")


def test_any_running_job_is_waited_for() -> None:
    running = (lc.job("scale-up", "active", generation="1-2"),)
    a = next_action(lc.cluster(generation=2, version="v1.35.0"), lc.machine(), lc.installed(), running, NOW)
    assert (a.kind, a.reason, a.job) == (Kind.WAIT, "JobRunning", "cc-scale-up-1-2-0")


def test_failed_job_is_retried_after_backoff() -> None:
    failed = (lc.job("create", "failed", summary=Summary("node1", "kubeadm init", "boom")),)
    finished = failed[0].finished
    assert finished is not None
    early = next_action(lc.cluster(), lc.machine(), lc.status(), failed, finished + timedelta(seconds=30))
    assert (early.kind, early.reason) == (Kind.WAIT, "BackingOff")
    assert early.retry_at == finished + timedelta(minutes=1)
    later = next_action(lc.cluster(), lc.machine(), lc.status(), failed, finished + timedelta(minutes=1))
    assert (later.kind, later.job, later.attempt) == (Kind.CREATE, "cc-create-1-1-1", 1)


def test_backoff_grows_exponentially_and_is_capped() -> None:
    p = Policy(retries=10, base_delay=timedelta(minutes=1), max_delay=timedelta(minutes=10))
    assert [p.delay(n) for n in (1, 2, 3, 4, 5)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 10)]
    failed = tuple(
        lc.job("create", "failed", attempt=i, created=lc.T0 + timedelta(minutes=20 * i)) for i in range(3)
    )
    last = failed[-1].finished
    assert last is not None
    a = next_action(lc.cluster(), lc.machine(), lc.status(), failed, last + timedelta(minutes=3), p)
    assert (a.kind, a.retry_at) == (Kind.WAIT, last + timedelta(minutes=4))


def test_retry_limit_stops_and_says_so_without_oscillating() -> None:
    p = Policy(retries=2)
    failed = tuple(
        lc.job(
            "create",
            "failed",
            attempt=i,
            created=lc.T0 + timedelta(minutes=20 * i),
            summary=Summary(message="x"),
        )
        for i in range(3)
    )
    for later in (NOW, NOW + timedelta(days=3)):
        a = next_action(lc.cluster(), lc.machine(), lc.status(), failed, later, p)
        assert (a.kind, a.reason) == (Kind.NONE, "RetryLimitReached")
        assert "failed 3 times" in a.message and "cc-create-1-1-2" in a.message
    # A new generation of the spec starts counting again.
    fresh = next_action(lc.cluster(generation=2), lc.machine(), lc.status(), failed, NOW, p)
    assert (fresh.kind, fresh.job) == (Kind.CREATE, "cc-create-2-1-0")


def test_succeeded_create_counts_before_the_status_says_so() -> None:
    m = lc.machine()
    done = (lc.job("create", "succeeded", target=Target(desired(m), lc.VERSION)),)
    assert current(lc.status(), done) == (desired(m), lc.VERSION)
    a = next_action(lc.cluster(), m, lc.status(), done, NOW)
    assert (a.kind, a.reason) == (Kind.NONE, "UpToDate")


def test_scale_up_from_host_diff_after_preflight() -> None:
    before, after = lc.machine(nodes=(1,)), lc.machine(nodes=(1, 2, 3), generation=2)
    st = lc.installed(before)
    assert next_action(lc.cluster(), after, st, (), NOW).kind == Kind.PREFLIGHT
    st = st.model_copy(update={"hosts_checked_generation": 2})
    a = next_action(lc.cluster(), after, st, (), NOW)
    assert (a.kind, a.reason, a.hosts, a.job) == (
        Kind.SCALE_UP,
        "NodesAdded",
        ("node2", "node3"),
        "cc-scale-up-1-2-0",
    )


def test_scale_down_from_host_diff() -> None:
    before, after = lc.machine(nodes=(1, 2, 3)), lc.machine(nodes=(2,), generation=2)
    a = next_action(lc.cluster(), after, lc.installed(before), (), NOW)
    assert (a.kind, a.reason, a.hosts) == (Kind.SCALE_DOWN, "NodesRemoved", ("node1", "node3"))


def test_replacing_a_node_adds_before_removing() -> None:
    before, after = lc.machine(nodes=(1, 2)), lc.machine(nodes=(1, 3), generation=2)
    st = lc.installed(before).model_copy(update={"hosts_checked_generation": 2})
    assert next_action(lc.cluster(), after, st, (), NOW).kind == Kind.SCALE_UP
    done = (
        lc.job(
            "scale-up",
            "succeeded",
            generation="1-2",
            target=Target(desired(lc.machine(nodes=(1, 2, 3))), lc.VERSION),
        ),
    )
    a = next_action(lc.cluster(), after, st, done, NOW)
    assert (a.kind, a.hosts) == (Kind.SCALE_DOWN, ("node2",))


def test_control_plane_and_address_changes_are_refused() -> None:
    st = lc.installed(lc.machine(masters=1))
    a = next_action(lc.cluster(), lc.machine(masters=3, generation=2), st, (), NOW)
    assert (a.kind, a.reason) == (Kind.NONE, "ControlPlaneChangeUnsupported")
    moved = lc.machine_doc()
    moved["spec"]["node"][0]["privateIP"] = "10.0.0.99"
    from kurator.api.machine import CustomMachine

    a = next_action(lc.cluster(), CustomMachine.model_validate(moved), lc.installed(), (), NOW)
    assert (a.kind, a.reason) == (Kind.NONE, "HostAddressChanged")


def test_upgrade_only_after_ready() -> None:
    c = lc.cluster(version="v1.35.4", generation=2)
    not_ready = next_action(c, lc.machine(), lc.installed(ready=False), (), NOW)
    assert (not_ready.kind, not_ready.reason) == (Kind.NONE, "WaitingForReady")
    a = next_action(c, lc.machine(), lc.installed(), (), NOW)
    assert (a.kind, a.reason, a.version, a.job) == (
        Kind.UPGRADE,
        "VersionChanged",
        "v1.35.4",
        "cc-upgrade-v1-35-4-2-1-0",
    )


def test_a_failed_upgrade_is_retried_although_not_ready() -> None:
    c = lc.cluster(version="v1.35.4", generation=2)
    failed = (lc.job("upgrade", "failed", generation="2-1", target=Target(desired(lc.machine()), "v1.35.4")),)
    a = next_action(c, lc.machine(), lc.installed(ready=False), failed, NOW)
    assert (a.kind, a.attempt) == (Kind.UPGRADE, 1)


def test_upgrade_moves_one_minor_at_a_time() -> None:
    c, m = lc.cluster(version="v1.35.4", generation=3), lc.machine()
    st = lc.installed(version="v1.33.2")
    a = next_action(c, m, st, (), NOW)
    assert (a.version, a.job) == ("v1.34.7", "cc-upgrade-v1-34-7-3-1-0")
    step = (lc.job("upgrade", "succeeded", generation="3-1", target=Target(desired(m), "v1.34.7")),)
    a = next_action(c, m, st, step, NOW)
    assert (a.kind, a.version, a.job) == (Kind.UPGRADE, "v1.35.4", "cc-upgrade-v1-35-4-3-1-0")
    done = (
        *step,
        lc.job("upgrade", "succeeded", generation="3-1", created=NOW, target=Target(desired(m), "v1.35.4")),
    )
    assert next_action(c, m, st, done, NOW).reason == "UpToDate"


def test_up_to_date_and_unknown_version() -> None:
    assert next_action(lc.cluster(), lc.machine(), lc.installed(), (), NOW).reason == "UpToDate"
    a = next_action(lc.cluster(version=None), lc.machine(), lc.status(), (), NOW)
    assert (a.kind, a.reason) == (Kind.NONE, "VersionUnknown")


def test_delete_resets_the_installed_hosts() -> None:
    a = next_action(lc.cluster(deleting=True), lc.machine(), lc.installed(), (), NOW)
    assert (a.kind, a.reason, a.reset, a.job) == (Kind.DELETE, "ClusterDeleted", True, "cc-delete-1-1-0")
    assert a.hosts == ("master1", "node1", "node2")


def test_delete_stops_a_running_install_first() -> None:
    running = (lc.job("create", "active"),)
    a = next_action(lc.cluster(deleting=True), lc.machine(), lc.status(), running, NOW)
    assert (a.kind, a.reason, a.stop, a.job) == (Kind.DELETE, "StoppingRuns", ("cc-create-1-1-0",), None)
    # Once stopped, the hosts the interrupted install touched are reset.
    stopped = (lc.job("create", "failed"),)
    a = next_action(lc.cluster(deleting=True), lc.machine(), lc.status(), stopped, NOW)
    assert (a.kind, a.reset, a.hosts) == (Kind.DELETE, True, ("master1", "node1", "node2"))


def test_delete_waits_for_reset_then_releases() -> None:
    c = lc.cluster(deleting=True)
    resetting = (lc.job("delete", "active"),)
    assert next_action(c, lc.machine(), lc.installed(), resetting, NOW).kind == Kind.WAIT
    done = (lc.job("delete", "succeeded", target=Target((), None)),)
    a = next_action(c, lc.machine(), lc.installed(), done, NOW)
    assert (a.kind, a.reason, a.reset) == (Kind.DELETE, "ResetSucceeded", False)


def test_delete_of_a_never_installed_cluster_resets_nothing() -> None:
    a = next_action(lc.cluster(deleting=True), lc.machine(), lc.status(), (), NOW)
    assert (a.kind, a.reason, a.reset) == (Kind.DELETE, "NothingToReset", False)


def test_force_delete_skips_reset_and_stops_runs() -> None:
    running = (lc.job("delete", "active"),)
    a = next_action(lc.cluster(deleting=True, force=True), lc.machine(), lc.installed(), running, NOW)
    assert (a.kind, a.reason, a.reset, a.stop) == (Kind.DELETE, "ForceDelete", False, ("cc-delete-1-1-0",))


def test_failed_reset_is_retried_then_points_at_force() -> None:
    p = Policy(retries=1)
    c = lc.cluster(deleting=True)
    one = (lc.job("delete", "failed"),)
    assert next_action(c, lc.machine(), lc.installed(), one, NOW, p).attempt == 1
    two = (*one, lc.job("delete", "failed", attempt=1, created=lc.T0 + timedelta(minutes=30)))
    a = next_action(c, lc.machine(), lc.installed(), two, NOW, p)
    assert (a.kind, a.reason) == (Kind.NONE, "RetryLimitReached")
    assert "kurator.dev/force-delete=true" in a.message


@pytest.mark.parametrize("cluster", ["cc", "a" * 63, "b" * 253, "x." * 40 + "y"])
def test_job_names_fit_and_stay_unique(cluster: str) -> None:
    names = {job_name(cluster, k, "12345-67890", n) for k in ("create", "scale-down") for n in (0, 1, 10)}
    assert len(names) == 6
    for name in names:
        assert len(name) <= NAME_MAX and name[0].isalnum()
        assert job_name(cluster, "create", "12345-67890", 0) == job_name(cluster, "create", "12345-67890", 0)
    assert job_name("a" * 63, "create", "1-1", 0) != job_name("a" * 62 + "b", "create", "1-1", 0)
