"""The install engine against the fleet's real Karmada and real member API servers, with ``standin``: a
chart written by this project that stands in for an upstream component (its image never runs; kwok's fake
kubelets make its Pods Running and its Job Complete)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.core.resource import NamespacedResource
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap, Namespace, Service, ServiceAccount
from lightkube.resources.rbac_authorization_v1 import ClusterRole, ClusterRoleBinding
from lightkube.types import PatchType

from kurator.kube import ops
from kurator.kube.errors import NotFound
from kurator.kube.karmada import ClusterPropagationPolicy, OverridePolicy, PropagationPolicy
from kurator.local import processes
from kurator.local.config import KARMADA
from kurator.local.control_plane import APISERVER, process_name
from kurator.local.fleet import UpResult, load_records
from tests.integration.helpers import (
    cluster_client,
    gone,
    interruptible,
    join,
    karmada_args,
    kurator,
    wait_for,
)

pytestmark = pytest.mark.e2e

MEMBERS = ("member1", "member2")
SELECTOR = {"kurator.dev/component": "standin"}
Widget = create_namespaced_resource("standin.kurator.dev", "v1", "Widget", "widgets")
TEMPLATE_KINDS: list[Any] = [
    Namespace, CustomResourceDefinition, ClusterRole, ClusterRoleBinding, ServiceAccount, ConfigMap,
    Deployment, Service, Job, Widget,
]  # fmt: skip
POLICY_KINDS: list[Any] = [ClusterPropagationPolicy, PropagationPolicy, OverridePolicy]


@pytest.fixture(scope="module")
def fleet(local_fleet: UpResult) -> Iterator[UpResult]:
    for member in MEMBERS:
        proc = join(local_fleet, member)
        assert proc.returncode == 0 or "already joined" in proc.stderr, proc.stderr
    yield local_fleet
    kurator(*karmada_args(local_fleet), "uninstall", "standin", "--wait-timeout", "60")
    for member in MEMBERS:
        kurator(*karmada_args(local_fleet), "unjoin", member, "--force")


def _install(fleet: UpResult, *extra: str) -> Any:
    return kurator(*karmada_args(fleet), "install", "standin", *extra)


@pytest.fixture
def installed(fleet: UpResult) -> UpResult:
    """standin installed with its default values (whatever an earlier test left, --set values it kept
    too): each test sets up what it needs, so tests pass alone and in any order."""
    proc = _install(fleet, "--reset-values", "--wait-timeout", "180")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return fleet


@pytest.fixture
def absent(fleet: UpResult) -> UpResult:
    """standin not installed."""
    proc = kurator(*karmada_args(fleet), "uninstall", "standin", "--wait-timeout", "120")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return fleet


def _greeting(fleet: UpResult) -> str | None:
    """The greeting on Karmada, ``None`` while standin's ConfigMap is not there."""
    settings = ops.get_or_none(cluster_client(fleet, "karmada"), ConfigMap, "standin-settings", "standin")
    return None if settings is None else (settings.data or {}).get("greeting")


def _labelled(api: Client, kinds: list[Any]) -> dict[str, str]:
    """Every object of the component on ``api``: "Kind ns/name" -> resourceVersion."""
    out = {}
    for kind in kinds:
        scope = {"namespace": "*"} if issubclass(kind, NamespacedResource) else {}
        try:
            found = list(api.list(kind, labels=SELECTOR, **scope))
        except NotFound:  # the kind itself is not served (its CRD is not there)
            continue
        for obj in found:
            out[f"{kind.__name__} {obj.metadata.namespace or ''}/{obj.metadata.name}"] = (
                obj.metadata.resourceVersion
            )
    return out


def _snapshot(fleet: UpResult) -> dict[str, dict[str, str]]:
    karmada = cluster_client(fleet, "karmada")
    snap = {"karmada": _labelled(karmada, TEMPLATE_KINDS + POLICY_KINDS)}
    record = karmada.get(ConfigMap, "kurator-component-standin", namespace="kube-system")
    snap["karmada"]["record"] = record.metadata.resourceVersion
    for member in MEMBERS:
        snap[member] = _labelled(cluster_client(fleet, member), TEMPLATE_KINDS)
    return snap


def test_dry_run_plans_every_target_and_writes_nothing(absent: UpResult) -> None:
    fleet = absent
    proc = _install(fleet, "--dry-run", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    targets = {t["target"]: t for t in plan["targets"]}
    assert set(targets) == {"karmada", *MEMBERS}
    karmada_actions = {(c["kind"], c["name"]): c["action"] for c in targets["karmada"]["changes"]}
    assert karmada_actions[("ClusterPropagationPolicy", "kurator-standin")] == "create"
    assert karmada_actions[("Deployment", "standin")] == "create"
    assert all(c["action"] == "create" for c in targets["member1"]["changes"])
    table = _install(fleet, "--dry-run")
    assert table.returncode == 0 and "+ create Deployment standin/standin" in table.stdout
    karmada = cluster_client(fleet, "karmada")
    assert _labelled(karmada, TEMPLATE_KINDS + POLICY_KINDS) == {}
    assert gone(karmada, ConfigMap, "kurator-component-standin", "kube-system")
    for member in MEMBERS:
        assert _labelled(cluster_client(fleet, member), TEMPLATE_KINDS) == {}


def test_install_reaches_both_members_with_their_own_settings(absent: UpResult) -> None:
    fleet = absent
    proc = _install(fleet, "--wait-timeout", "120")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "standin 0.1.0 installed on member1, member2" in proc.stdout
    for member in MEMBERS:
        api = cluster_client(fleet, member)
        settings = api.get(ConfigMap, "standin-settings", namespace="standin")
        assert settings.data == {
            "greeting": "hello from the fleet",
            "cluster": member,
        }  # per-cluster override
        dep = api.get(Deployment, "standin", namespace="standin")
        assert dep.status.readyReplicas == 2
        assert api.get(Widget, "default", namespace="standin").spec["size"] == 2  # CR after its CRD
        job = api.get(Job, "standin-setup", namespace="standin")
        assert any(c.type == "Complete" and c.status == "True" for c in job.status.conditions)
        assert (
            api.get(ClusterRole, "standin-reader").metadata.labels["app.kubernetes.io/managed-by"]
            == "kurator"
        )
    karmada = cluster_client(fleet, "karmada")
    assert karmada.get(ConfigMap, "standin-settings", namespace="standin").data["cluster"] == "unset"
    listed = json.loads(kurator(*karmada_args(fleet), "get", "components", "-o", "json", check=True).stdout)
    assert [{k: c[k] for k in ("name", "version", "status", "clusters", "objects")} for c in listed] == [
        {
            "name": "standin",
            "version": "0.1.0",
            "status": "installed",
            "clusters": list(MEMBERS),
            "objects": 13,
        }
    ]
    health = listed[0]["health"]
    assert sorted(health) == list(MEMBERS)
    for member in MEMBERS:  # its CRD, as each member holds it
        assert health[member] == {
            "healthy": True,
            "error": None,
            "checks": [{"name": "CRDs", "ok": True, "detail": "1 Established"}],
        }


def test_rerun_with_nothing_changed_writes_nothing(installed: UpResult) -> None:
    fleet = installed
    before = _snapshot(fleet)
    proc = _install(fleet, "--wait-timeout", "60")
    assert proc.returncode == 0, proc.stderr
    assert "installed and unchanged on member1, member2: nothing was written" in proc.stdout
    assert _snapshot(fleet) == before  # every resourceVersion, on Karmada and on both members


def test_objects_edited_on_karmada_by_another_hand_are_found_and_put_back(installed: UpResult) -> None:
    """A re-run's plan sees an unchanged object without a dry run; an edit by anyone else is a change it
    finds (a value of ours overwritten, a label of ours removed) and the run puts back."""
    fleet = installed
    karmada = cluster_client(fleet, "karmada")
    edit = {"field_manager": "someone-else", "patch_type": PatchType.MERGE}
    greeting = {"data": {"greeting": "edited"}}
    karmada.patch(ConfigMap, "standin-settings", greeting, namespace="standin", **edit)
    karmada.patch(
        CustomResourceDefinition,
        "widgets.standin.kurator.dev",
        {"metadata": {"labels": {"kurator.dev/component": None}}},
        **edit,
    )
    plan = _install(fleet, "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "~ change ConfigMap standin/standin-settings" in plan.stdout
    assert "~ change CustomResourceDefinition widgets.standin.kurator.dev" in plan.stdout
    assert "karmada: 0 to create, 2 to change, 0 to delete" in plan.stdout
    proc = _install(fleet, "--wait-timeout", "60")
    assert proc.returncode == 0, proc.stderr
    assert _greeting(fleet) == "hello from the fleet"
    crd = karmada.get(CustomResourceDefinition, "widgets.standin.kurator.dev")
    assert (crd.metadata.labels or {}).get("kurator.dev/component") == "standin"


def test_dry_run_of_a_change_shows_the_diff_and_writes_nothing(installed: UpResult) -> None:
    fleet = installed
    before = _snapshot(fleet)
    proc = _install(fleet, "--dry-run", "--set", "greeting=changed")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "~ change ConfigMap standin/standin-settings" in out
    assert "-  greeting: hello from the fleet" in out and "+  greeting: changed" in out
    assert "karmada: 0 to create, 1 to change, 0 to delete" in out
    assert _snapshot(fleet) == before


def test_offline_bundle_installs_and_a_tampered_one_is_refused(installed: UpResult, tmp_path: Path) -> None:
    fleet = installed
    bundle = tmp_path / "bundle"
    kurator("artifacts", "pull", "standin", "--to", str(bundle), check=True)
    index = json.loads((bundle / "index.json").read_text())
    assert set(index) == {"standin-0.1.0"}
    before = _snapshot(fleet)
    assert _install(fleet, "--artifacts-dir", str(bundle)).returncode == 0
    (bundle / "standin-0.1.0" / "standin" / "values.yaml").write_text("replicas: 50\n")
    proc = _install(fleet, "--artifacts-dir", str(bundle), "--set", "greeting=tampered")
    assert proc.returncode == 2
    assert "checksum mismatch for artifact standin-0.1.0" in proc.stderr
    assert _snapshot(fleet) == before


def test_bad_input_is_refused_and_changes_nothing(installed: UpResult) -> None:
    fleet = installed
    before = _snapshot(fleet)
    proc = _install(fleet, "--clusters", "member1,nosuch")
    assert proc.returncode == 2 and "not joined to the fleet: nosuch" in proc.stderr
    proc = _install(fleet, "--set", "novalue")
    assert proc.returncode == 2 and "is not key=value" in proc.stderr
    proc = kurator(*karmada_args(fleet), "install", "nosuch")
    assert proc.returncode == 2
    assert _snapshot(fleet) == before


def test_a_member_that_stops_answering_is_named_and_the_other_finishes(installed: UpResult) -> None:
    fleet = installed  # installed first: a first install waits for Karmada to discover the Widget kind
    apiserver = load_records(fleet.layout)["member2/kube-apiserver"]
    os.kill(apiserver.pid, signal.SIGSTOP)  # member2 stops answering, as in a network partition
    try:
        proc = _install(fleet, "--set", "greeting=partition", "--wait-timeout", "15")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "member2: unreachable" in proc.stderr
        assert "standin was not installed on member2 (done on member1)" in proc.stderr
        assert "run the same command again" in proc.stderr
        member1 = cluster_client(fleet, "member1")
        assert member1.get(ConfigMap, "standin-settings", namespace="standin").data["greeting"] == "partition"
    finally:
        os.kill(apiserver.pid, signal.SIGCONT)
    proc = _install(fleet, "--set", "greeting=partition", "--wait-timeout", "180")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    member2 = cluster_client(fleet, "member2")
    assert member2.get(ConfigMap, "standin-settings", namespace="standin").data["greeting"] == "partition"


def test_karmada_dying_mid_install_is_named_not_blamed_on_the_members(installed: UpResult) -> None:
    """Karmada's own API server stops while the install waits for the members (member2 is frozen, so the
    wait is long): the command ends at once saying Karmada stopped answering, not "members unreachable"
    after the whole wait."""
    fleet = installed
    records = load_records(fleet.layout)
    member2 = records["member2/kube-apiserver"]
    karmada_api = records[process_name(KARMADA, APISERVER)]
    args = [
        sys.executable,
        "-m",
        "kurator",
        *karmada_args(fleet),
        "install",
        "standin",
        "--set",
        "greeting=dies",
    ]
    args += ["--wait-timeout", "240"]
    os.kill(member2.pid, signal.SIGSTOP)
    try:
        env = {**os.environ, "NO_COLOR": "1"}
        with subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        ) as proc:
            karmada = cluster_client(fleet, "karmada")
            wait_for(
                lambda: (
                    karmada.get(ConfigMap, "standin-settings", namespace="standin").data["greeting"] == "dies"
                ),
                60,
                "the change on Karmada",
            )
            processes.stop(karmada_api)  # Karmada's API server dies while the members are being checked
            began = time.monotonic()
            _, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err
        assert time.monotonic() - began < 60, "the command waited on instead of naming the failure"
        assert "Karmada's API server stopped answering while the members were checked" in err, err
        assert fleet.config.server(KARMADA) in err, err
        verdict = err[err.index("error:") :]  # the live table above it shows member2 frozen, as it was
        assert "unreachable" not in verdict and "was not installed on" not in verdict, err
    finally:
        os.kill(member2.pid, signal.SIGCONT)
        up = kurator("local", "up", "--name", fleet.config.name, "--home", str(fleet.layout.root))
        assert up.returncode == 0, up.stderr  # restarts exactly what is not running
    again = _install(fleet, "--set", "greeting=dies", "--wait-timeout", "180")
    assert again.returncode == 0, again.stdout + again.stderr


def test_an_interrupted_install_is_finished_by_running_it_again(installed: UpResult) -> None:
    fleet = installed
    # member2 frozen: the run is surely still waiting for the members when Ctrl-C comes (unfrozen, they take
    # a moment, and the run could finish between the change reaching Karmada and the signal).
    member2 = load_records(fleet.layout)["member2/kube-apiserver"]
    os.kill(member2.pid, signal.SIGSTOP)
    try:
        # interruptible: Ctrl-C reaches the CLI even when this suite runs as a background job (SIGINT ignored)
        with interruptible(*karmada_args(fleet), "install", "standin", "--set", "greeting=again") as proc:
            deadline = time.monotonic() + 60
            while _greeting(fleet) != "again":
                assert time.monotonic() < deadline and proc.poll() is None, "the change never reached Karmada"
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)  # Ctrl-C while it waits for the members
            try:
                _, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                # Python drops a KeyboardInterrupt raised inside a finalizer (a library's __del__ ran just
                # then): a person presses Ctrl-C again.
                proc.send_signal(signal.SIGINT)
                _, err = proc.communicate(timeout=60)
    finally:
        os.kill(member2.pid, signal.SIGCONT)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "run the same command again" in err
    again = _install(fleet, "--set", "greeting=again", "--wait-timeout", "120")
    assert again.returncode == 0, again.stderr
    for member in MEMBERS:
        settings = cluster_client(fleet, member).get(ConfigMap, "standin-settings", namespace="standin")
        assert settings.data["greeting"] == "again"


def test_set_values_are_kept_by_later_runs_until_reset(installed: UpResult) -> None:
    fleet = installed

    def greetings() -> set[str]:
        return {
            cluster_client(fleet, m).get(ConfigMap, "standin-settings", namespace="standin").data["greeting"]
            for m in MEMBERS
        }

    assert _install(fleet, "--set", "greeting=kept", "--wait-timeout", "120").returncode == 0
    assert greetings() == {"kept"}
    before = _snapshot(fleet)
    plan = _install(fleet, "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "values kept from an earlier run: greeting (--reset-values drops them)" in plan.stdout
    assert "0 to create, 0 to change, 0 to delete" in plan.stdout
    again = _install(fleet, "--wait-timeout", "60")
    assert again.returncode == 0, again.stderr
    assert (
        "nothing was written" in again.stdout and "values kept from an earlier run: greeting" in again.stderr
    )
    assert _snapshot(fleet) == before
    reset = _install(fleet, "--dry-run", "--reset-values")
    assert "-  greeting: kept" in reset.stdout and "+  greeting: hello from the fleet" in reset.stdout
    assert "values kept" not in reset.stdout
    assert _snapshot(fleet) == before
    assert _install(fleet, "--reset-values", "--wait-timeout", "120").returncode == 0
    assert greetings() == {"hello from the fleet"}
    record = cluster_client(fleet, "karmada").get(
        ConfigMap, "kurator-component-standin", namespace="kube-system"
    )
    assert "values" not in (record.data or {})


def test_uninstall_removes_everything_from_karmada_and_members(installed: UpResult) -> None:
    fleet = installed
    plan = kurator(*karmada_args(fleet), "uninstall", "standin", "--dry-run")
    assert plan.returncode == 0 and "- delete Deployment standin/standin" in plan.stdout
    assert not gone(cluster_client(fleet, "member1"), Deployment, "standin", "standin")
    proc = kurator(*karmada_args(fleet), "uninstall", "standin", "--wait-timeout", "120")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    karmada = cluster_client(fleet, "karmada")
    assert _labelled(karmada, TEMPLATE_KINDS + POLICY_KINDS) == {}
    assert gone(karmada, ConfigMap, "kurator-component-standin", "kube-system")
    for member in MEMBERS:
        api = cluster_client(fleet, member)
        assert _labelled(api, TEMPLATE_KINDS) == {}
        assert gone(api, Namespace, "standin")
        assert gone(api, CustomResourceDefinition, "widgets.standin.kurator.dev")
    again = kurator(*karmada_args(fleet), "uninstall", "standin")
    assert again.returncode == 0 and "standin is not installed: nothing to remove" in again.stdout


def test_an_install_waits_for_the_policy_an_uninstall_is_still_deleting(installed: UpResult) -> None:
    """A policy applied again while its deletion is under way is updated, then goes (Karmada's finalizer
    unbinds what it propagated): the templates made again were never propagated and the install waited for
    the members until its deadline. It now waits until the old policy is gone, then makes it again."""
    fleet = installed
    karmada = cluster_client(fleet, "karmada")
    policy = karmada.get(ClusterPropagationPolicy, "kurator-standin")
    hold = "test.kurator.dev/hold"  # this test's own finalizer: the policy's deletion stays under way
    held = [*(policy.metadata.finalizers or []), hold]  # type: ignore[union-attr]
    karmada.patch(
        ClusterPropagationPolicy,
        "kurator-standin",
        {"metadata": {"finalizers": held}},
        patch_type=PatchType.MERGE,
    )
    argv = [
        sys.executable,
        "-m",
        "kurator",
        *karmada_args(fleet),
        "install",
        "standin",
        "--wait-timeout",
        "180",
    ]
    try:
        gone_now = kurator(*karmada_args(fleet), "uninstall", "standin", "--wait-timeout", "60")
        assert gone_now.returncode == 0, gone_now.stdout + gone_now.stderr  # members are clean
        deleting = karmada.get(ClusterPropagationPolicy, "kurator-standin")
        assert deleting.metadata.deletionTimestamp is not None  # type: ignore[union-attr]
        plan = json.loads(_install(fleet, "--dry-run", "-o", "json").stdout)
        changes = {(c["kind"], c["name"]): c for c in plan["targets"][0]["changes"]}
        assert changes[("ClusterPropagationPolicy", "kurator-standin")]["action"] == "create"
        assert "being deleted" in changes[("ClusterPropagationPolicy", "kurator-standin")]["note"]
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        ) as proc:
            try:
                # The run recorded itself, then waits: nothing of it is applied while the old policy is there.
                wait_for(
                    lambda: ops.get_or_none(karmada, ConfigMap, "kurator-component-standin", "kube-system"),
                    120,
                    "the install's record",
                )
                assert gone(karmada, Deployment, "standin", "standin")
                assert karmada.get(ClusterPropagationPolicy, "kurator-standin").metadata.deletionTimestamp  # type: ignore[union-attr]
            finally:
                _release(karmada, hold)
                out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
    finally:
        _release(karmada, hold)
    for member in MEMBERS:
        assert not gone(cluster_client(fleet, member), Deployment, "standin", "standin"), member


def _release(karmada: Client, finalizer: str) -> None:
    policy = ops.get_or_none(karmada, ClusterPropagationPolicy, "kurator-standin")
    finalizers = (policy.metadata.finalizers or []) if policy and policy.metadata else []
    if finalizer in finalizers:
        kept = [f for f in finalizers if f != finalizer]
        karmada.patch(
            ClusterPropagationPolicy,
            "kurator-standin",
            {"metadata": {"finalizers": kept}},
            patch_type=PatchType.MERGE,
        )


def test_a_value_the_api_server_refuses_is_shown_by_the_dry_run_and_nothing_is_written(
    absent: UpResult,
) -> None:
    fleet = absent
    karmada = cluster_client(fleet, "karmada")
    plan = _install(fleet, "--dry-run", "--set", "replicas=banana")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "+ create Deployment standin/standin" in plan.stdout
    assert (
        "refused:" in plan.stdout and "replicas" in plan.stdout.split("refused:", 1)[1]
    )  # the API server's words
    assert "karmada would refuse Deployment standin/standin of standin" in " ".join(plan.stderr.split())
    real = _install(fleet, "--set", "replicas=banana", "--wait-timeout", "60")
    assert real.returncode == 2, real.stdout + real.stderr
    assert "nothing was written" in real.stderr and "unexpected" not in real.stderr
    assert gone(karmada, ConfigMap, "kurator-component-standin", "kube-system")
    assert _labelled(karmada, TEMPLATE_KINDS + POLICY_KINDS) == {}


def _listed(fleet: UpResult) -> list[dict[str, Any]]:
    proc = kurator(*karmada_args(fleet), "get", "components", "-o", "json", check=True)
    return [c for c in json.loads(proc.stdout) if c["name"] == "standin"]


def test_a_failed_install_shows_as_failed_and_is_finished_again_or_uninstalled(absent: UpResult) -> None:
    """A Widget of size 0 is refused by its CRD's schema, which the dry run cannot ask before the CRD exists:
    the run fails after writing, and its record says so."""
    fleet = absent
    proc = _install(fleet, "--set", "replicas=0", "--wait-timeout", "120")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "refused Widget standin/default" in proc.stderr
    [listed] = _listed(fleet)
    assert listed["status"] == "failed" and "Widget standin/default" in listed["reason"], listed
    table = kurator(*karmada_args(fleet), "get", "components")
    assert "failed" in table.stdout and "refused Widget standin/default" in table.stderr
    karmada = cluster_client(fleet, "karmada")
    assert _labelled(karmada, TEMPLATE_KINDS) != {}  # what was written before the refusal
    # Uninstall removes what the failed run wrote.
    proc = kurator(*karmada_args(fleet), "uninstall", "standin", "--wait-timeout", "120")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _labelled(karmada, TEMPLATE_KINDS + POLICY_KINDS) == {} and _listed(fleet) == []
    for member in MEMBERS:
        assert _labelled(cluster_client(fleet, member), TEMPLATE_KINDS) == {}
    # Or a re-run with a value that is taken completes it (the failed run kept replicas=0: set it again).
    assert _install(fleet, "--set", "replicas=0", "--wait-timeout", "120").returncode == 1
    proc = _install(fleet, "--set", "replicas=2", "--wait-timeout", "180")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [listed] = _listed(fleet)
    assert listed["status"] == "installed" and "reason" not in listed
