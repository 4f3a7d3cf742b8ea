"""`kurator install cluster-operator` and `kurator uninstall cluster-operator` on a real API server of the
local fleet (member1's: see TARGET): the Cluster API CRDs of the pinned release, our CRDs, the operator's
RBAC and Deployment, the fleet it joins clusters to; dry-run, re-runs that write nothing, an interrupted
install finished by running it again, a tampered bundle refused, an uninstall refused while a CustomCluster
exists.

Stand-ins, named: kwok runs the Deployment's Pods, so the operator image never runs (none is built here). The
RBAC the chart grants is proven instead by the real operator process (`kurator operator run`, the code the
image runs) logged in with a token of the installed ServiceAccount, reconciling a CustomCluster whose host is
a real sshd (tests/integration/sshhosts.py) up to its Kubespray Job; Kubespray never runs.

Network: the Cluster API module zip is taken from Go's module cache (`go mod download`, which the set-up's
builds from the Go module proxy use too) into a kurator home of this module's own; the installs read it from
there and never fetch it themselves.

Each test sets up the state it needs (both components absent, or installed), so the tests pass alone and in
any order, whatever ran before them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import Client, codecs
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.authentication_v1 import TokenRequestSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import ConfigMap, Namespace, Secret, Service, ServiceAccount
from lightkube.resources.rbac_authorization_v1 import ClusterRole, ClusterRoleBinding, Role, RoleBinding
from lightkube.types import PatchType

from kurator.api.crds import all_crds
from kurator.components import cluster_api, cluster_operator
from kurator.fleet import record
from kurator.kube import kinds
from kurator.kube.errors import NotFound, RequestFailed
from kurator.lifecycle.actions import FORCE_DELETE_ANNOTATION
from kurator.local.fleet import UpResult
from kurator.local.kubeconfigs import context_name
from kurator.operator.settings import LEASE
from tests.integration.helpers import cluster_client, gone, interruptible, module_zip, wait_for
from tests.integration.operatorbed import (
    CustomClusterResource,
    CustomMachineResource,
    OperatorProcess,
    run_files,
    until_gone,
    wait_job,
)
from tests.integration.sshhosts import SshTestbed, SshTestbedError

pytestmark = pytest.mark.e2e

# Not the fleet's host: Cluster API may run there (the cluster_api_fleet fixture adds it for the rest of the
# run), and the install leaves Cluster API CRDs another tool installed alone. member1 is a cluster like the
# host (its own API server, controller manager and kwok's nodes) where nothing of Cluster API runs.
TARGET = "member1"

NS = cluster_operator.NAMESPACE
NAME = "kurator-cluster-operator"
FLEET = "pack"
CLUSTERS_NS = "pack-operator"
VERSION = "v1.34.3"  # supplied by the KubeadmControlPlane, not by the CustomCluster
OUR_CRDS = [d["metadata"]["name"] for d in all_crds()]
CAPI_CLUSTER = create_namespaced_resource("cluster.x-k8s.io", "v1beta2", "Cluster", "clusters")
KCP = create_namespaced_resource(
    "controlplane.cluster.x-k8s.io", "v1beta2", "KubeadmControlPlane", "kubeadmcontrolplanes"
)
COMPONENTS = (cluster_api.COMPONENT.name, cluster_operator.COMPONENT.name)


@dataclass
class Bed:
    fleet: UpResult
    home: Path  # the kurator home the commands run with (its artifact cache holds the Cluster API zip)
    api: Client

    @property
    def karmada(self) -> Path:
        return self.fleet.layout.kubeconfig("karmada")

    def kurator(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """The CLI as a user runs it, against TARGET (global --kubeconfig/--context)."""
        return subprocess.run(
            [sys.executable, "-m", "kurator", *self.login(), *args],
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=timeout,
            check=False,
        )

    def login(self) -> list[str]:
        kubeconfig = self.fleet.layout.kubeconfig(TARGET)
        return ["--kubeconfig", str(kubeconfig), "--context", context_name(self.fleet.config, TARGET)]

    def env(self) -> dict[str, str]:
        return {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "KURATOR_HOME": str(self.home)}

    def secrets(self) -> list[str]:
        """What must never be printed: the Karmada kubeconfig's key and certificate."""
        user = yaml.safe_load(self.karmada.read_text())["users"][0]["user"]
        return [user["client-key-data"][:64], user["client-certificate-data"][:64]]


def _remove_finalizers(api: Client, namespace: str) -> None:
    try:  # a CRD made moments ago answers 429 for a while: kurator's client waits that out
        found = list(api.list(CustomClusterResource, namespace=namespace))
    except NotFound:  # the CRD is gone, with every CustomCluster
        return
    for cc in found:
        api.patch(
            CustomClusterResource,
            str(cc.metadata.name if cc.metadata else ""),
            {"metadata": {"finalizers": None}},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )


@pytest.fixture(scope="module")
def bed(local_fleet: UpResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    home = tmp_path_factory.mktemp("operator-install") / "home"
    entry = home / "artifacts" / cluster_api.COMPONENT.artifact.key
    entry.mkdir(parents=True)
    source = module_zip(f"sigs.k8s.io/cluster-api@{cluster_api.VERSION}")
    shutil.copyfile(source, entry / f"{cluster_api.VERSION}.zip")
    api = cluster_client(local_fleet, TARGET)
    theirs = [n for n in cluster_api.CRD_NAMES if not gone(api, CustomResourceDefinition, n)]
    if theirs and record.load(api, cluster_api.COMPONENT.name) is None:
        pytest.fail(f"{TARGET} has Cluster API CRDs kurator did not install ({theirs[0]}): another test's")
    b = Bed(local_fleet, home, api)
    try:
        yield b
    finally:  # whatever a failed test left: no CustomCluster holds the uninstall, no CRD outlives the module
        _uninstall_all(b)


def _uninstall_all(b: Bed) -> subprocess.CompletedProcess[str]:
    """Nothing of the operator left: the clusters' objects first (no operator releases their finalizers),
    then both components."""
    _remove_finalizers(b.api, CLUSTERS_NS)
    for kind, name in ((CAPI_CLUSTER, "c1"), (KCP, "c1-cp"), (CustomClusterResource, "c1")):
        with contextlib.suppress(Exception):  # never made, or its CRD is gone already
            b.api.delete(kind, name, namespace=CLUSTERS_NS)
    with contextlib.suppress(RequestFailed):
        b.api.delete(Namespace, CLUSTERS_NS)
    wait_for(lambda: gone(b.api, Namespace, CLUSTERS_NS), 60, f"namespace {CLUSTERS_NS} deleted")
    return b.kurator("uninstall", "cluster-operator", "--cluster-api-crds", "--wait-timeout", "120")


# Each test sets up what it needs, so that tests pass alone and in any order.
@pytest.fixture
def clean(bed: Bed) -> Bed:
    """Neither component installed."""
    proc = _uninstall_all(bed)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return bed


@pytest.fixture
def installed(bed: Bed) -> Bed:
    """Both components installed, fleet FLEET registered (a re-run when they are: nothing written)."""
    proc = bed.kurator(
        "install", "cluster-operator", "--fleet", f"{FLEET}={bed.karmada}", "--wait-timeout", "180"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return bed


def _live_versions(b: Bed) -> dict[str, str]:
    """Every object both records list, and the records: "Kind ns/name" -> resourceVersion."""
    out: dict[str, str] = {}
    for component in COMPONENTS:
        rec = record.load(b.api, component)
        assert rec is not None, f"{component} is not recorded"
        out[f"record {component}"] = b.api.get(
            ConfigMap, record.name_of(component), namespace=record.NAMESPACE
        ).metadata.resourceVersion  # type: ignore[union-attr,assignment]
        for ref in rec.refs:
            res = kinds.resource(b.api, ref.api_version, ref.kind)
            live = b.api.get(res, ref.name, namespace=ref.namespace or None)
            out[str(ref)] = live.metadata.resourceVersion
    return out


def _established(api: Client, name: str) -> bool:
    crd = api.get(CustomResourceDefinition, name)
    return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])  # type: ignore[union-attr]


def _nothing_installed(b: Bed) -> None:
    for component in COMPONENTS:
        assert record.load(b.api, component) is None, component
    for name in cluster_api.CRD_NAMES:
        assert gone(b.api, CustomResourceDefinition, name), name
    assert gone(b.api, Deployment, NAME, NS)
    assert gone(b.api, ClusterRole, NAME)


def test_dry_run_plans_both_components_and_writes_nothing(clean: Bed) -> None:
    bed = clean
    proc = bed.kurator(
        "install", "cluster-operator", "--dry-run", "--fleet", f"{FLEET}={bed.karmada}", "-o", "json"
    )
    assert proc.returncode == 0, proc.stderr
    plans = json.loads(proc.stdout)
    assert [p["component"] for p in plans] == list(COMPONENTS)
    assert all([t["target"] for t in p["targets"]] == ["host"] for p in plans)
    made = [
        {(c["kind"], c["name"]) for c in p["targets"][0]["changes"] if c["action"] == "create"} for p in plans
    ]
    assert made[0] == {("CustomResourceDefinition", n) for n in cluster_api.CRD_NAMES}
    assert {
        ("Namespace", NS),
        *(("CustomResourceDefinition", n) for n in OUR_CRDS),
        ("ServiceAccount", NAME),
        ("ClusterRole", NAME),
        ("ClusterRoleBinding", NAME),
        ("Role", f"{NAME}-leader-election"),
        ("RoleBinding", f"{NAME}-leader-election"),
        ("Deployment", NAME),
        ("Service", f"{NAME}-metrics"),
        ("Secret", f"kurator-fleet-{FLEET}"),
    } == made[1]
    table = bed.kurator("install", "cluster-operator", "--dry-run", "--fleet", f"{FLEET}={bed.karmada}")
    assert table.returncode == 0, table.stderr
    assert f"+ create Secret {NS}/kurator-fleet-{FLEET}" in table.stdout
    assert (
        "+ create CustomResourceDefinition kubeadmcontrolplanes.controlplane.cluster.x-k8s.io" in table.stdout
    )
    for secret in bed.secrets():
        assert secret not in proc.stdout + proc.stderr + table.stdout + table.stderr
    _nothing_installed(bed)


def test_a_fleet_kubeconfig_the_operator_could_not_use_is_refused_before_any_write(
    clean: Bed, tmp_path: Path
) -> None:
    bed = clean
    with_files = yaml.safe_load(bed.karmada.read_text())
    user = with_files["users"][0]["user"]
    key = tmp_path / "client.key"
    key.write_text("not shown")
    user["client-key"] = str(key)
    del user["client-key-data"]
    path = tmp_path / "karmada-with-files"
    path.write_text(yaml.safe_dump(with_files))
    proc = bed.kurator("install", "cluster-operator", "--fleet", f"{FLEET}={path}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "reads client-key from a file of this machine" in proc.stderr
    assert "--flatten" in proc.stderr
    missing = bed.kurator("install", "cluster-operator", "--fleet", f"{FLEET}={tmp_path / 'none'}")
    assert missing.returncode == 2 and "does not exist" in missing.stderr, missing.stderr
    bad_name = bed.kurator("install", "cluster-operator", "--fleet", f"Prod={bed.karmada}")
    assert bad_name.returncode == 2 and "is not a fleet name" in bad_name.stderr, bad_name.stderr
    for secret in bed.secrets():
        assert secret not in proc.stdout + proc.stderr
    _nothing_installed(bed)


def test_an_interrupted_install_is_finished_by_running_it_again(clean: Bed) -> None:
    bed = clean
    args = ["install", "cluster-operator", "--fleet", f"{FLEET}={bed.karmada}", "--wait-timeout", "180"]
    with interruptible(*bed.login(), *args, env=bed.env()) as proc:
        deadline = time.monotonic() + 120
        # The record is written before anything else: Ctrl-C then comes while the Cluster API CRDs go in.
        while record.load(bed.api, cluster_api.COMPONENT.name) is None:
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "run the same command again" in err
    assert record.load(bed.api, cluster_operator.COMPONENT.name) is None  # stopped before the chart

    again = bed.kurator(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    # Ctrl-C may land after the last CRD went in: the re-run then finds them complete and writes nothing.
    crds = r"cluster-api-crds 1\.14\.2 (installed|is installed and unchanged) on host"
    assert re.search(crds, again.stdout), again.stdout
    assert "cluster-operator 0.1.0 installed on host" in again.stdout
    assert f"fleets registered: {FLEET}" in again.stdout
    for secret in bed.secrets():
        assert secret not in again.stdout + again.stderr


def test_install_made_the_crds_the_operator_its_rbac_and_the_fleet_registration(installed: Bed) -> None:
    bed = installed
    api = bed.api
    for name in (*cluster_api.CRD_NAMES, *OUR_CRDS):
        assert _established(api, name), name
    dep = api.get(Deployment, NAME, namespace=NS)
    assert dep.spec.replicas == 2 and dep.status.readyReplicas == 2  # type: ignore[union-attr]  # kwok's Pods
    assert dep.spec.template.spec.serviceAccountName == NAME  # type: ignore[union-attr]
    api.get(ServiceAccount, NAME, namespace=NS)
    api.get(ClusterRole, NAME)
    api.get(ClusterRoleBinding, NAME)
    api.get(Role, f"{NAME}-leader-election", namespace=NS)
    api.get(RoleBinding, f"{NAME}-leader-election", namespace=NS)
    api.get(Service, f"{NAME}-metrics", namespace=NS)
    secret = api.get(Secret, f"kurator-fleet-{FLEET}", namespace=NS)
    assert base64.b64decode(secret.data["value"]).decode() == bed.karmada.read_text()  # type: ignore[index]
    for component in COMPONENTS:
        rec = record.load(api, component)
        assert rec is not None and rec.placement == "host"
    listed = bed.kurator("get", "components", "-o", "json")
    assert {c["name"] for c in json.loads(listed.stdout)} >= set(COMPONENTS), listed.stderr


def test_a_rerun_writes_nothing(installed: Bed) -> None:
    bed = installed
    before = _live_versions(bed)
    # The fleet registered before stays registered when it is not named again.
    proc = bed.kurator("install", "cluster-operator", "--wait-timeout", "60")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cluster-api-crds 1.14.2 is installed and unchanged on host: nothing was written" in proc.stdout
    assert "cluster-operator 0.1.0 is installed and unchanged on host: nothing was written" in proc.stdout
    assert f"fleets registered: {FLEET}" in proc.stdout
    assert _live_versions(bed) == before


def test_an_offline_bundle_installs_and_a_tampered_one_is_refused(installed: Bed, tmp_path: Path) -> None:
    bed = installed
    bundle = tmp_path / "bundle"
    pulled = bed.kurator("artifacts", "pull", *COMPONENTS, "--to", str(bundle))
    assert pulled.returncode == 0, pulled.stderr
    payload = bundle / cluster_api.COMPONENT.artifact.key / f"{cluster_api.VERSION}.zip"
    assert payload.is_file()
    before = _live_versions(bed)
    offline = bed.kurator("install", "cluster-operator", "--artifacts-dir", str(bundle))
    assert offline.returncode == 0 and offline.stdout.count("nothing was written") == 2, offline.stderr
    with payload.open("ab") as f:
        f.write(b"\0")
    tampered = bed.kurator("install", "cluster-operator", "--artifacts-dir", str(bundle))
    assert tampered.returncode == 2, tampered.stdout + tampered.stderr
    assert "checksum mismatch for artifact cluster-api-crds-1.14.2" in tampered.stderr
    assert _live_versions(bed) == before


# ---- the installed ServiceAccount runs the real operator ---------------------------------------------------


def _service_account_kubeconfig(b: Bed, path: Path) -> Path:
    """A kubeconfig of TARGET that logs in as the operator's ServiceAccount (a TokenRequest's token)."""
    request = ServiceAccount.Token(
        metadata=ObjectMeta(), spec=TokenRequestSpec(audiences=[], expirationSeconds=3600)
    )
    token = b.api.create(request, NAME, namespace=NS).status.token  # type: ignore[union-attr]
    admin = yaml.safe_load(b.fleet.layout.kubeconfig(TARGET).read_text())
    cluster = admin["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "host", "cluster": cluster}],
        "users": [{"name": NAME, "user": {"token": token}}],
        "contexts": [{"name": NAME, "context": {"cluster": "host", "user": NAME}}],
        "current-context": NAME,
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


@pytest.fixture
def operator_as_its_service_account(
    installed: Bed, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[OperatorProcess, SshTestbed]]:
    bed = installed
    tmp = tmp_path_factory.mktemp("operator-sa")
    try:
        testbed = SshTestbed(tmp / "ssh")
    except SshTestbedError as exc:
        pytest.fail(f"SSH test hosts cannot be built: {exc}")
    try:
        testbed.add_host()
        kubeconfig = _service_account_kubeconfig(bed, tmp / "sa.kubeconfig")
        op = OperatorProcess(bed.fleet, tmp / "operator.log", kubeconfig=kubeconfig).start()
        try:
            op.wait_ready()
            yield op, testbed
        finally:
            op.stop()
    finally:
        testbed.close()


def _refusals(op: OperatorProcess) -> list[str]:
    """Lines of the operator's log where the API server refused it something (403 Forbidden), or kopf says it
    lacks the permissions to watch."""
    words = ("forbidden", "permission", "403")
    return [line for line in op.log.read_text().splitlines() if any(w in line.lower() for w in words)]


def _apply(api: Client, doc: dict[str, Any]) -> None:
    api.apply(codecs.from_dict(doc), field_manager="test", force=True)


def test_the_service_account_lets_the_operator_build_and_delete_a_cluster(
    bed: Bed, operator_as_its_service_account: tuple[OperatorProcess, SshTestbed]
) -> None:
    op, testbed = operator_as_its_service_account
    _remove_finalizers(bed.api, CLUSTERS_NS)  # what a failed run of this test left
    with contextlib.suppress(RequestFailed):
        bed.api.delete(Namespace, CLUSTERS_NS)
    wait_for(lambda: gone(bed.api, Namespace, CLUSTERS_NS), 60, f"namespace {CLUSTERS_NS} deleted")
    api, host = bed.api, testbed.hosts[0]
    api.create(Namespace(metadata=ObjectMeta(name=CLUSTERS_NS)))
    api.create(
        Secret(
            metadata=ObjectMeta(name="ssh", namespace=CLUSTERS_NS),
            stringData={"ssh-privatekey": testbed.private_key},
        )
    )
    # Kurator's layout: a Cluster API Cluster whose infrastructure is the CustomCluster, and a
    # KubeadmControlPlane that supplies the version the CustomCluster leaves out.
    _apply(
        api,
        {
            "apiVersion": "controlplane.cluster.x-k8s.io/v1beta2",
            "kind": "KubeadmControlPlane",
            "metadata": {"name": "c1-cp", "namespace": CLUSTERS_NS},
            "spec": {
                "version": VERSION,
                "machineTemplate": {
                    "spec": {
                        "infrastructureRef": {
                            "apiGroup": "cluster.kurator.dev",
                            "kind": "CustomMachine",
                            "name": "c1-machine",
                        }
                    }
                },
            },
        },
    )
    _apply(
        api,
        {
            "apiVersion": "cluster.x-k8s.io/v1beta2",
            "kind": "Cluster",
            "metadata": {"name": "c1", "namespace": CLUSTERS_NS},
            "spec": {
                "clusterNetwork": {
                    "pods": {"cidrBlocks": ["10.244.0.0/16"]},
                    "services": {"cidrBlocks": ["10.96.0.0/16"]},
                },
                "infrastructureRef": {
                    "apiGroup": "cluster.kurator.dev",
                    "kind": "CustomCluster",
                    "name": "c1",
                },
                "controlPlaneRef": {
                    "apiGroup": "controlplane.cluster.x-k8s.io",
                    "kind": "KubeadmControlPlane",
                    "name": "c1-cp",
                },
            },
        },
    )
    entry = {
        "hostName": "master1",
        "publicIP": host.address,
        "privateIP": host.address,
        "sshKey": {"name": "ssh"},
    }
    machine = {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomMachine",
        "metadata": {"name": "c1-machine", "namespace": CLUSTERS_NS},
        "spec": {"master": [entry], "node": []},
    }
    cluster = {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomCluster",
        "metadata": {"name": "c1", "namespace": CLUSTERS_NS},
        "spec": {"machineRef": {"name": "c1-machine"}, "cni": {"type": "calico"}},
    }
    # The plan reads the version where the operator does: from the KubeadmControlPlane.
    files = bed.fleet.layout.root / "c1-plan.yaml"
    files.write_text(yaml.safe_dump_all([machine, cluster]))
    planned = bed.kurator("cluster", "plan", "-f", str(files), "-o", "json")
    assert planned.returncode == 0, planned.stderr
    create = json.loads(planned.stdout)[0]["steps"][-1]
    assert (create["kind"], create["version"], create["job"]) == ("create", VERSION, "c1-create-1-1-0")
    _apply(api, machine)
    _apply(api, cluster)
    job = wait_job(api, CLUSTERS_NS, "c1", "create", timeout=90)
    assert job.metadata is not None
    _, group_vars = run_files(api, CLUSTERS_NS, job.metadata.name)  # type: ignore[arg-type]
    assert group_vars["kube_version"] == VERSION.removeprefix("v")
    assert (group_vars["kube_pods_subnet"], group_vars["kube_service_addresses"]) == (
        "10.244.0.0/16",
        "10.96.0.0/16",
    )
    lease = api.get(Lease, LEASE, namespace=NS)
    assert (lease.spec.holderIdentity or "").endswith(f"_{op.proc.pid}")  # type: ignore[union-attr]
    api.get(CustomMachineResource, "c1-machine", namespace=CLUSTERS_NS)
    # Owned by the Cluster API Cluster, as Cluster API's controller would make it: deleting that Cluster
    # deletes the CustomCluster (see the deletion test).
    owner = api.get(CAPI_CLUSTER, "c1", namespace=CLUSTERS_NS).metadata
    assert owner is not None

    def owned() -> bool:
        meta = api.get(CustomClusterResource, "c1", namespace=CLUSTERS_NS).metadata
        refs = (meta.ownerReferences if meta else None) or []
        return any(r.uid == owner.uid and r.kind == "Cluster" and r.name == "c1" for r in refs)

    wait_for(owned, 30, "the CustomCluster owned by its Cluster API Cluster")
    assert _refusals(op) == [], op.tail(80)

    # Forced: its create Job never ends (Kubespray does not run here), and the reset is another test's.
    bed.api.patch(
        CustomClusterResource,
        "c1",
        {"metadata": {"annotations": {FORCE_DELETE_ANNOTATION: "true"}}},
        namespace=CLUSTERS_NS,
        patch_type=PatchType.MERGE,
    )
    # Deleting the Cluster API Cluster deletes the CustomCluster it owns (the garbage collector), and the
    # operator lets it go: a Kurator user tears a cluster down this way.
    bed.api.delete(CAPI_CLUSTER, "c1", namespace=CLUSTERS_NS)
    until_gone(bed.api, CLUSTERS_NS, "c1", timeout=60)
    # A clean stop gives the Lease up (an update the Role allows), before the uninstall removes the Role.
    assert op.stop() == 0, op.tail(80)
    assert bed.api.get(Lease, LEASE, namespace=NS).spec.holderIdentity is None  # type: ignore[union-attr]
    assert _refusals(op) == [], op.tail(80)


def _bare_cluster(b: Bed) -> None:
    """A CustomCluster and its CustomMachine in CLUSTERS_NS, no operator running (so no finalizer)."""
    b.api.apply(Namespace(metadata=ObjectMeta(name=CLUSTERS_NS)), field_manager="test")
    host = {"hostName": "master1", "publicIP": "192.0.2.1", "privateIP": "192.0.2.1", "sshKey": {"name": "k"}}
    _apply(
        b.api,
        {
            "apiVersion": "cluster.kurator.dev/v1alpha1",
            "kind": "CustomMachine",
            "metadata": {"name": "c1-machine", "namespace": CLUSTERS_NS},
            "spec": {"master": [host], "node": []},
        },
    )
    _apply(
        b.api,
        {
            "apiVersion": "cluster.kurator.dev/v1alpha1",
            "kind": "CustomCluster",
            "metadata": {"name": "c1", "namespace": CLUSTERS_NS},
            "spec": {
                "machineRef": {"name": "c1-machine"},
                "cni": {"type": "calico"},
                "kubernetesVersion": VERSION,
            },
        },
    )


def test_uninstall_is_refused_while_a_customcluster_exists(installed: Bed) -> None:
    bed = installed
    _bare_cluster(bed)
    try:
        before = _live_versions(bed)
        proc = bed.kurator("uninstall", "cluster-operator")
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert (
            f"CustomClusters exist ({CLUSTERS_NS}/c1)" in proc.stderr and "delete them first" in proc.stderr
        )
        assert _live_versions(bed) == before
    finally:
        bed.api.delete(CustomClusterResource, "c1", namespace=CLUSTERS_NS)
        until_gone(bed.api, CLUSTERS_NS, "c1", timeout=60)


def test_uninstall_removes_what_it_installed_and_keeps_the_cluster_api_crds(installed: Bed) -> None:
    bed = installed
    bed.api.apply(Namespace(metadata=ObjectMeta(name=CLUSTERS_NS)), field_manager="test")
    _apply(
        bed.api,
        {
            "apiVersion": "controlplane.cluster.x-k8s.io/v1beta2",
            "kind": "KubeadmControlPlane",
            "metadata": {"name": "c1-cp", "namespace": CLUSTERS_NS},
            "spec": {
                "version": VERSION,
                "machineTemplate": {
                    "spec": {
                        "infrastructureRef": {
                            "apiGroup": "cluster.kurator.dev",
                            "kind": "CustomMachine",
                            "name": "c1-machine",
                        }
                    }
                },
            },
        },
    )
    plan = bed.kurator("uninstall", "cluster-operator", "--dry-run")
    assert plan.returncode == 0 and f"- delete Deployment {NS}/{NAME}" in plan.stdout, plan.stderr
    assert not gone(bed.api, Deployment, NAME, NS)
    proc = bed.kurator("uninstall", "cluster-operator", "--wait-timeout", "120")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cluster-operator uninstalled from host" in proc.stdout
    assert "the Cluster API CRDs stay" in proc.stdout
    api = bed.api
    assert record.load(api, cluster_operator.COMPONENT.name) is None
    for name in OUR_CRDS:
        assert gone(api, CustomResourceDefinition, name), name
    assert gone(api, ClusterRole, NAME) and gone(api, ClusterRoleBinding, NAME)
    assert gone(api, Namespace, NS)  # with the Deployment, the ServiceAccount, the Role, the fleet Secret
    for name in cluster_api.CRD_NAMES:
        assert _established(api, name), name
    assert record.load(api, cluster_api.COMPONENT.name) is not None

    refused = bed.kurator("uninstall", "cluster-operator", "--cluster-api-crds")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"Cluster API objects exist (KubeadmControlPlane {CLUSTERS_NS}/c1-cp)" in refused.stderr
    api.delete(KCP, "c1-cp", namespace=CLUSTERS_NS)
    wait_for(lambda: gone(api, KCP, "c1-cp", CLUSTERS_NS), 30, "the KubeadmControlPlane deleted")
    both = bed.kurator("uninstall", "cluster-operator", "--cluster-api-crds", "--wait-timeout", "120")
    assert both.returncode == 0, both.stdout + both.stderr
    assert "cluster-operator is not installed: nothing to remove" in both.stdout
    assert "cluster-api-crds uninstalled from host" in both.stdout
    _nothing_installed(bed)


def test_cluster_api_crds_another_tool_installed_are_left_alone(clean: Bed) -> None:
    bed = clean
    api = bed.api
    with zipfile.ZipFile(
        bed.home / "artifacts" / cluster_api.COMPONENT.artifact.key / f"{cluster_api.VERSION}.zip"
    ) as z:
        theirs = yaml.safe_load(z.read(cluster_api.CRDS[0]))
    theirs["metadata"]["labels"] = {"clusterctl.cluster.x-k8s.io": ""}  # as `clusterctl init` leaves it
    _apply(api, theirs)
    try:
        proc = bed.kurator("install", "cluster-operator", "--dry-run", "-o", "json")
        assert proc.returncode == 0, proc.stderr
        assert [p["component"] for p in json.loads(proc.stdout)] == [cluster_operator.COMPONENT.name]
        assert (
            f"not installed by kurator are in the cluster ({cluster_api.CRD_NAMES[0]}): left as they are"
            in (" ".join(proc.stderr.split()))
        )
    finally:
        api.delete(CustomResourceDefinition, cluster_api.CRD_NAMES[0])
