"""The rules a reconcile pass follows, as pure functions: the deletion deadline, HostsUnreachable, which
conditions become Events, when the kubeconfig is fetched again, fleet join and leave, the preflight's
backoff, what of the status is written, and what is installed derived once per pass."""

from __future__ import annotations

from datetime import timedelta

from kurator.api.common import Condition
from kurator.lifecycle import events, fleet, preflight, report
from kurator.lifecycle import kubeconfig as kc
from kurator.lifecycle.actions import Action, Kind
from kurator.lifecycle.hosts import desired
from kurator.lifecycle.observed import Target
from kurator.lifecycle.state import Snapshot
from kurator.lifecycle.status import condition, with_condition
from tests import lifecycle_cases as lc

NOW = lc.T0 + timedelta(hours=1)
TIMEOUT = timedelta(minutes=30)


def _snap(**kw: object) -> Snapshot:
    args = {"c": lc.cluster(), "m": lc.machine(), "st": None, "observed": (), "now": NOW} | kw
    return Snapshot.of(args["c"], args["m"], args["st"], args["observed"], args["now"])  # type: ignore[arg-type]


# -- the deletion deadline ------------------------------------------------------------------------------


def test_before_the_deadline_nothing_is_said_and_the_pass_looks_again_when_it_comes() -> None:
    snap = _snap(c=lc.cluster(deleting=True), st=lc.installed(), now=lc.T0 + timedelta(minutes=10))
    status, due = report.deletion_deadline(lc.installed(), snap, TIMEOUT)
    assert status == lc.installed() and due == 20 * 60


def test_past_the_deadline_deleting_names_the_running_job_and_the_way_out() -> None:
    running = (lc.job("delete", "active"),)
    snap = _snap(c=lc.cluster(deleting=True), st=lc.installed(), observed=running)
    status, due = report.deletion_deadline(lc.installed(), snap, TIMEOUT)
    deleting = condition(status, "Deleting")
    assert due is None and deleting is not None
    assert (deleting.status, deleting.reason, deleting.severity) == (
        "False",
        "DeletionDeadlineExceeded",
        "Error",
    )
    assert deleting.message is not None
    assert deleting.message.startswith("deleting for 60 minutes: Job cc-delete-1-1-0 is still running")
    assert "kurator.dev/force-delete=true" in deleting.message


def test_past_the_deadline_what_blocks_is_kept_from_the_deleting_condition() -> None:
    blocked = with_condition(
        lc.installed(), "Deleting", False, "SSHKeyMissing", "Secret k with their SSH key is gone", NOW
    )
    snap = _snap(c=lc.cluster(deleting=True), st=blocked)
    status, _ = report.deletion_deadline(blocked, snap, TIMEOUT)
    message = condition(status, "Deleting").message  # type: ignore[union-attr]
    assert message is not None and "Secret k with their SSH key is gone" in message
    idle = _snap(c=lc.cluster(deleting=True), st=lc.installed())
    status, _ = report.deletion_deadline(lc.installed(), idle, TIMEOUT)
    assert "the hosts are not reset yet" in (condition(status, "Deleting").message or "")  # type: ignore[union-attr]


def test_a_cluster_not_being_deleted_has_no_deadline() -> None:
    assert report.deletion_deadline(lc.installed(), _snap(), TIMEOUT) == (lc.installed(), None)


# -- HostsUnreachable -----------------------------------------------------------------------------------


def _unreachable(st: object) -> object:
    return with_condition(st, preflight.HOSTS_READY, False, "HostsUnreachable", "node1: refused", NOW)  # type: ignore[arg-type]


def test_a_failed_preflight_before_any_install_is_why_the_cluster_is_not_ready() -> None:
    status = _unreachable(lc.status())
    checking = Action(Kind.PREFLIGHT, "HostsUnchecked", hosts=("node1",))
    out = report.hosts_unreachable(status, _snap(st=status), checking)  # type: ignore[arg-type]
    ready = condition(out, "Ready")
    assert ready is not None and (ready.status, ready.reason, ready.message) == (
        "False",
        "HostsUnreachable",
        "node1: refused",
    )


def test_hosts_unreachable_is_not_said_once_installed_or_for_another_decision() -> None:
    installed = _unreachable(lc.installed())
    checking = Action(Kind.PREFLIGHT, "HostsUnchecked", hosts=("node3",))
    assert report.hosts_unreachable(installed, _snap(st=installed), checking) is installed  # type: ignore[arg-type]
    fresh = _unreachable(lc.status())
    waiting = Action(Kind.WAIT, "JobRunning")
    assert report.hosts_unreachable(fresh, _snap(st=fresh), waiting) is fresh  # type: ignore[arg-type]
    passed = lc.status()
    assert report.hosts_unreachable(passed, _snap(st=passed), checking) is passed


def test_the_reported_status_says_ready_and_provisioned_as_cluster_api_reads_them() -> None:
    snap = _snap(st=lc.installed())
    status, due = report.reported(snap, Action(Kind.NONE, "UpToDate"), TIMEOUT)
    assert status.ready is True and status.initialization is not None and status.initialization.provisioned
    assert due is None
    going = _snap(c=lc.cluster(deleting=True), st=lc.installed(), now=lc.T0 + timedelta(minutes=1))
    status, due = report.reported(going, Action(Kind.WAIT, "JobRunning"), TIMEOUT)
    assert status.ready is False and due == 29 * 60


# -- what is written --------------------------------------------------------------------------------


def test_the_status_patch_is_none_when_nothing_changed_and_nulls_what_went() -> None:
    old = lc.installed().model_copy(update={"fleet": "prod"})
    assert report.status_patch(old, old) is None
    patch = report.status_patch(old, old.model_copy(update={"fleet": None}))
    assert patch is not None and patch["fleet"] is None and patch["kubernetesVersion"] == lc.VERSION


def test_the_machine_status_and_the_endpoint_are_written_only_when_they_differ() -> None:
    m = lc.machine()
    status = lc.installed()
    want = report.machine_status(m, None, status)
    assert want is not None and want["nodes"] == 2 and want["masters"] == 1
    assert report.machine_status(m, want, status) is None
    assert report.machine_status(m, {**want, "extra": 1}, status) is not None
    with_endpoint = status.model_copy(update={"api_endpoint": "https://192.0.2.11:6443"})
    patch = report.control_plane_endpoint(lc.cluster(), with_endpoint)
    assert patch == {"controlPlaneEndpoint": {"host": "192.0.2.11", "port": 6443}}
    there = lc.cluster(controlPlaneEndpoint={"host": "192.0.2.11", "port": 6443})
    assert report.control_plane_endpoint(there, with_endpoint) is None
    assert report.control_plane_endpoint(lc.cluster(deleting=True), with_endpoint) is None
    assert report.control_plane_endpoint(lc.cluster(), status) is None


# -- Events ---------------------------------------------------------------------------------------------


def _with(*conditions: tuple[str, str, str, str | None]) -> object:
    conds = [
        Condition(type=t, status=s, reason=r, message=f"{t} said", severity=sev, lastTransitionTime=NOW)  # type: ignore[arg-type]
        for t, s, r, sev in conditions
    ]
    return lc.status().model_copy(update={"conditions": conds})


def test_conditions_that_reach_an_outcome_become_events_failures_as_warnings() -> None:
    old = _with(("Provisioned", "False", "Provisioning", "Info"))
    new = _with(
        ("Provisioned", "False", "ProvisionFailed", "Error"),
        ("Ready", "False", "ProvisionFailed", "Warning"),
        ("KubeconfigReady", "True", "Fetched", None),
    )
    found = events.of_conditions(old, new)  # type: ignore[arg-type]
    assert found, "no Event for a failed run"
    assert [(e.type, e.reason) for e in found] == [("Warning", "ProvisionFailed"), ("Normal", "Fetched")]
    assert found[0].message == "Provisioned: Provisioned said"


def test_no_event_for_ready_runs_under_way_routine_steps_or_what_did_not_change() -> None:
    same = _with(("Provisioned", "True", "Provisioned", None))
    assert events.of_conditions(same, same) == []  # type: ignore[arg-type]
    new = _with(
        ("Ready", "True", "Provisioned", None),
        ("Provisioned", "False", "Provisioning", "Info"),
        ("HostsReady", "True", "HostsAnswered", None),
        ("KubeconfigReady", "False", "NotFetched", "Info"),
    )
    assert events.of_conditions(None, new) == []  # type: ignore[arg-type]


# -- the kubeconfig ------------------------------------------------------------------------------------


def test_the_kubeconfig_is_fetched_after_the_create_and_again_after_each_upgrade() -> None:
    assert kc.renewed_by(()) == ""
    created = lc.job("create", "succeeded")
    upgraded = lc.job("upgrade", "succeeded", generation="2-1", created=NOW)
    scaled = lc.job("scale-up", "succeeded", generation="3-1", created=NOW + timedelta(hours=1))
    assert kc.renewed_by((created,)) == created.name
    assert kc.renewed_by((created, upgraded, scaled)) == upgraded.name
    assert kc.fetch_due(None, created.name)  # no Secret yet
    assert not kc.fetch_due(created.name, created.name)
    assert kc.fetch_due(created.name, upgraded.name)
    assert not kc.fetch_due("", "")  # fetched, and no run since to say after which
    masters = desired(lc.machine(masters=3))
    first = kc.source(masters)
    assert first is not None and first.name == "master1"
    assert kc.source(()) is None


# -- fleets ---------------------------------------------------------------------------------------------


def test_fleet_join_move_and_leave() -> None:
    assert fleet.steps("prod", None) == fleet.Steps(join="prod")
    assert fleet.steps("prod", "prod") == fleet.Steps()
    assert fleet.steps("dev", "prod") == fleet.Steps(leave="prod", join="dev")
    assert fleet.steps(None, "prod") == fleet.Steps(leave="prod")
    assert fleet.steps("prod", "prod", deleting=True) == fleet.Steps(leave="prod")
    assert fleet.steps(None, None, deleting=True) == fleet.Steps()
    joined = fleet.joined(lc.installed(), "prod", "cc", NOW)
    assert joined.fleet == "prod" and condition(joined, fleet.FLEET_JOINED) is not None
    left = fleet.left(joined)
    assert left.fleet is None and condition(left, fleet.FLEET_JOINED) is None
    failed = fleet.join_failed(lc.installed(), "Karmada refused", NOW)
    assert condition(failed, fleet.FLEET_JOINED).reason == "JoinFailed"  # type: ignore[union-attr]


def test_failed_preflights_are_checked_again_with_doubling_waits() -> None:
    assert [preflight.retry_in(n) for n in (1, 2, 3, 6, 20)] == [10.0, 20.0, 40.0, 300.0, 300.0]


# -- derived once per pass -----------------------------------------------------------------------------


def test_what_is_installed_is_derived_again_only_when_what_it_depends_on_changed() -> None:
    snap = _snap(st=lc.installed())
    assert snap.installed == desired(lc.machine()) and snap.version == lc.VERSION
    checked = snap.with_status(snap.status.model_copy(update={"hosts_checked_generation": 2}))  # type: ignore[union-attr]
    assert checked.installed is snap.installed  # carried, not derived again
    started = checked.with_jobs((lc.job("upgrade", "active"),))
    assert started.installed is snap.installed
    target = Target(desired(lc.machine(nodes=(1,))), "v1.35.0")
    done = started.with_jobs((lc.job("upgrade", "succeeded", target=target),))
    assert done.installed == target.hosts and done.version == "v1.35.0"
    wiped = snap.with_status(lc.status())
    assert wiped.installed == () and wiped.version is None
