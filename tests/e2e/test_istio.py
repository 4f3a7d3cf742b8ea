"""`kurator install istio` on the local fleet's real API servers and real Karmada, with istiod a real process
of the fleet (pilot-discovery built from Istio's pinned module) against the primary member.

What is real: every object the install makes, where Karmada puts it; the remote secret's token, made by the
remote's own token controller and used by istiod to watch that member; istiod's registry, read from its
debug endpoints. Stand-ins, named: kwok runs every Pod (istiod's and the east-west gateway's Pods are
"Running" but no image runs; the process stands in for istiod's Pod); no sidecar runs, so no traffic crosses
the mesh (see the README).

Network: Istio's module zip comes from Go's module cache (`go mod download`, as the set-up's builds use it)
into a kurator home of this module's own; the installs read it from there and never fetch it themselves.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import Client
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.apps_v1 import DeploymentSpec
from lightkube.models.core_v1 import Container, PodSpec, PodTemplateSpec, ServicePort, ServiceSpec
from lightkube.models.meta_v1 import LabelSelector, ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Namespace, Secret, Service

from kurator.binaries import ensure_binaries, istio_binaries
from kurator.components import istio
from kurator.kube.client import from_kubeconfig
from kurator.kube.errors import Forbidden, NotFound
from kurator.kube.karmada import Cluster, ClusterPropagationPolicy
from kurator.local import istiod, istiod_run
from kurator.local.fleet import UpResult
from tests.integration.helpers import cluster_client, istio_module_zip, join, karmada_args, wait_for

pytestmark = pytest.mark.e2e

PRIMARY, REMOTE = "member1", "member2"
VirtualService = create_namespaced_resource("networking.istio.io", "v1", "VirtualService", "virtualservices")
APP_NS = "shop"


@dataclass
class Bed:
    fleet: UpResult
    home: Path  # KURATOR_HOME of this module: holds the artifact, so installs never fetch it
    pilot: Path  # pilot-discovery, built before any install (see the fixture)

    @property
    def address(self) -> str:
        return self.fleet.config.address

    def kurator(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "KURATOR_HOME": str(self.home)}
        return subprocess.run(
            [sys.executable, "-m", "kurator", *karmada_args(self.fleet), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )

    def install(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.kurator(
            "install", "istio", "--primary", PRIMARY, "--remote-pilot-address", self.address, *args
        )

    def install_with_istiod(
        self, *args: str, first: Callable[[], bool] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The install, with istiod's process (re)started as soon as the install has put istiod's objects on
        the primary (and ``first`` holds): ready means istiod serves (its webhooks, the remotes synced), as
        in a real cluster where istiod's Pod starts while the install waits."""
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "KURATOR_HOME": str(self.home)}
        argv = [sys.executable, "-m", "kurator", *karmada_args(self.fleet), "install", "istio"]
        argv += ["--primary", PRIMARY, "--remote-pilot-address", self.address, *args]
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        ) as proc:
            try:
                if first is not None:
                    wait_for(first, 240, "the install's objects on the primary before istiod restarts")
                self.istiod(restart=True)
            finally:
                out, err = proc.communicate(timeout=600)
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)

    def api(self, cluster: str) -> Client:
        return cluster_client(self.fleet, cluster)

    def istiod(self, restart: bool = False) -> None:
        istiod_run.up(
            self.fleet.config.name,
            self.fleet.layout.root,
            PRIMARY,
            self.pilot,
            timeout=240,
            restart=restart,
        )

    def debug(self, endpoint: str) -> Any:
        return istiod.debug(self.fleet.config, self.fleet.layout, PRIMARY, endpoint)


@pytest.fixture(scope="module")
def bed(local_fleet: UpResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    home = tmp_path_factory.mktemp("istio") / "home"
    entry = home / "artifacts" / istio.COMPONENT.artifact.key
    entry.mkdir(parents=True)
    shutil.copyfile(istio_module_zip(), entry / f"{istio.MODULE_VERSION}.zip")
    for member in (PRIMARY, REMOTE):
        proc = join(local_fleet, member)
        assert proc.returncode == 0 or "already joined" in proc.stderr, proc.stderr
    # On a fresh machine this builds pilot-discovery (minutes): here, not inside an install's wait for
    # istiod, which would time out before the build ends.
    source = os.environ.get("KURATOR_BINARY_SOURCE", "build")
    pilot = ensure_binaries(istio_binaries(), source).paths["pilot-discovery"]
    b = Bed(local_fleet, home, pilot)
    try:
        yield b
    finally:
        with contextlib.suppress(Exception):
            b.api("karmada").delete(Namespace, APP_NS)
        b.kurator("uninstall", "istio", "--wait-timeout", "120")
        istiod_run.down(local_fleet.config.name, local_fleet.layout.root, PRIMARY)


def _secret_text(api: Client, name: str, key: str) -> str:
    secret = api.get(Secret, name, namespace=istio.NAMESPACE)
    return base64.b64decode((secret.data or {})[key]).decode()


def _never_printed(bed: Bed, *procs: subprocess.CompletedProcess[str]) -> None:
    """Neither the CA's key nor the remote's token appears in anything the CLI printed."""
    key = _secret_text(bed.api("karmada"), istio.CACERTS, "ca-key.pem").splitlines()[1]
    token = _secret_text(bed.api(REMOTE), istio.READER_TOKEN, "token")
    for proc in procs:
        for secret in (key, token):
            assert secret not in proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def installed(bed: Bed) -> Bed:
    """Istio installed across both members (istiod's process started while the install waits for it)."""
    dry = bed.install("--remote", REMOTE, "--dry-run", "-o", "json")
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert {t["target"] for t in plan["targets"]} == {"karmada", PRIMARY, REMOTE}
    with pytest.raises(NotFound):  # a dry run writes nothing
        bed.api("karmada").get(ConfigMap, "kurator-component-istio", namespace="kube-system")
    proc = bed.install_with_istiod("--remote", REMOTE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _never_printed(bed, dry, proc)
    return bed


def test_each_cluster_holds_its_own_part_of_the_mesh(installed: Bed) -> None:
    karmada, primary, remote = (installed.api(c) for c in ("karmada", PRIMARY, REMOTE))
    # Istio resources created on Karmada go to the primary
    cpp = karmada.get(ClusterPropagationPolicy, istio.RESOURCES_POLICY)
    assert cpp.to_dict()["spec"]["placement"]["clusterAffinity"]["clusterNames"] == [PRIMARY]
    # istiod on the primary only; the remote points its istiod Service at the given address
    assert primary.get(Deployment, "istiod", namespace=istio.NAMESPACE)
    with pytest.raises(NotFound):
        remote.get(Deployment, "istiod", namespace=istio.NAMESPACE)
    svc = remote.get(Service, "istiod", namespace=istio.NAMESPACE)
    assert svc.spec is not None and not svc.spec.selector
    ns = remote.get(Namespace, istio.NAMESPACE)
    assert (ns.metadata.annotations or {})[istio.CONTROL_PLANE_ANNOTATION] == PRIMARY  # type: ignore[union-attr]
    # the root of trust is on the primary, not on the remote
    assert _secret_text(primary, istio.CACERTS, "root-cert.pem") == _secret_text(
        karmada, istio.CACERTS, "root-cert.pem"
    )
    with pytest.raises(NotFound):
        remote.get(Secret, istio.CACERTS, namespace=istio.NAMESPACE)


def test_the_remote_secret_is_the_remotes_reader_and_only_reads(installed: Bed) -> None:
    primary = installed.api(PRIMARY)
    secret = primary.get(Secret, f"{istio.REMOTE_SECRET_PREFIX}{REMOTE}", namespace=istio.NAMESPACE)
    assert (secret.metadata.labels or {})["istio/multiCluster"] == "true"  # type: ignore[union-attr]
    config = yaml.safe_load(base64.b64decode((secret.data or {})[REMOTE]))
    endpoint = installed.api("karmada").get(Cluster, REMOTE).to_dict()["spec"]["apiEndpoint"]
    assert config["clusters"][0]["cluster"]["server"] == endpoint
    reader = from_kubeconfig(config)
    assert list(reader.list(Service, namespace=istio.NAMESPACE))  # it reads the remote
    with pytest.raises(Forbidden):  # and no more than Istio's reader may
        reader.create(Secret(metadata=ObjectMeta(name="x", namespace="default")))


def test_istiod_runs_with_the_mesh_root_on_both_clusters(installed: Bed) -> None:
    root = _secret_text(installed.api(PRIMARY), istio.CACERTS, "root-cert.pem")
    for cluster in (PRIMARY, REMOTE):  # istiod publishes its root in each namespace it controls
        api = installed.api(cluster)

        def published(api: Client = api) -> bool:
            try:
                cm = api.get(ConfigMap, "istio-ca-root-cert", namespace=istio.NAMESPACE)
            except NotFound:
                return False
            return (cm.data or {}).get("root-cert.pem", "").strip() == root.strip()

        wait_for(published, 120, f"istiod's root in {cluster}'s istio-ca-root-cert")
    clusters = installed.debug("clusterz")
    synced = {c["id"]: (c["syncStatus"], c["secretName"]) for c in clusters}
    remote_secret = f"{istio.NAMESPACE}/{istio.REMOTE_SECRET_PREFIX}{REMOTE}"
    assert synced == {PRIMARY: ("synced", ""), REMOTE: ("synced", remote_secret)}, clusters


def _shop(api: Client) -> None:
    """A Service with two Pods, in the remote."""
    labels = {"app": "web"}
    api.apply(Namespace(metadata=ObjectMeta(name=APP_NS)))
    api.apply(
        Deployment(
            metadata=ObjectMeta(name="web", namespace=APP_NS),
            spec=DeploymentSpec(
                replicas=2,
                selector=LabelSelector(matchLabels=labels),
                template=PodTemplateSpec(
                    metadata=ObjectMeta(labels=labels),
                    spec=PodSpec(containers=[Container(name="web", image="nginx")]),
                ),
            ),
        )
    )
    api.apply(
        Service(
            metadata=ObjectMeta(name="web", namespace=APP_NS),
            spec=ServiceSpec(selector=labels, ports=[ServicePort(port=80, name="http")]),
        )
    )


def _registered(bed: Bed, host: str) -> list[dict[str, Any]]:
    return [s for s in bed.debug("registryz") if s.get("hostname") == host]


def test_a_service_of_the_remote_appears_in_istiods_registry_and_leaves_with_the_remote(
    installed: Bed,
) -> None:
    host = f"web.{APP_NS}.svc.cluster.local"
    _shop(installed.api(REMOTE))
    found = wait_for(lambda: _registered(installed, host), 120, f"{host} in istiod's registry")
    assert set(found[0]["clusterVIPs"]["Addresses"]) == {REMOTE}, found
    # --remote no longer names it: its remote secret goes, and istiod forgets the remote's services
    proc = installed.install()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wait_for(lambda: not _registered(installed, host), 120, f"{host} gone from istiod's registry")
    # and it comes back with the remote
    proc = installed.install("--remote", REMOTE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wait_for(lambda: _registered(installed, host), 120, f"{host} back in istiod's registry")


def test_a_rerun_writes_nothing(installed: Bed) -> None:
    proc = installed.install("--remote", REMOTE)
    assert proc.returncode == 0, proc.stderr
    assert "nothing was written" in proc.stdout, proc.stdout


def test_an_istio_resource_created_on_karmada_is_validated_and_read_by_istiod(installed: Bed) -> None:
    karmada = installed.api("karmada")
    karmada.apply(Namespace(metadata=ObjectMeta(name=APP_NS)))
    vs = VirtualService(
        metadata=ObjectMeta(name="web", namespace=APP_NS),
        spec={
            "hosts": [f"web.{APP_NS}.svc.cluster.local"],
            "http": [{"route": [{"destination": {"host": "web"}}]}],
        },
    )
    karmada.apply(vs)
    primary, remote = installed.api(PRIMARY), installed.api(REMOTE)
    wait_for(
        lambda: _exists(primary, VirtualService, "web", APP_NS), 120, "the VirtualService on the primary"
    )
    assert not _exists(remote, VirtualService, "web", APP_NS)
    wait_for(
        lambda: any(c.get("metadata", {}).get("name") == "web" for c in installed.debug("configz")),
        120,
        "the VirtualService in istiod's config",
    )
    # istiod's validating webhook answers the primary's API server (reached through the fleet's stand-in
    # for kube-proxy): an invalid VirtualService is refused there with istiod's reason
    # (a host name that only istiod's own validation refuses: the CRD's schema lets it through)
    bad = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "bad", "namespace": APP_NS, "labels": {"istio.io/rev": "default"}},
        "spec": {"hosts": ["web..bad"], "http": [{"route": [{"destination": {"host": "w"}}]}]},
    }
    refused = wait_for(lambda: _refused(primary, bad), 120, "istiod's validating webhook to refuse")
    assert 'validation.istio.io" denied the request' in refused, refused  # either of istiod's validators
    assert 'domain name ".bad" invalid' in refused, refused
    karmada.delete(VirtualService, "web", namespace=APP_NS)


def _exists(api: Client, kind: Any, name: str, namespace: str) -> bool:
    try:
        api.get(kind, name, namespace=namespace)
    except NotFound:
        return False
    return True


def _refused(api: Client, doc: dict[str, Any]) -> str:
    from lightkube import codecs

    from kurator.kube.errors import KubeError

    try:
        api.create(codecs.from_dict(doc), dry_run=True)
    except KubeError as exc:
        return str(exc) if "admission webhook" in str(exc) else ""
    return ""


def _istio_objects(api: Client) -> list[str]:
    """What of Istio a cluster (or Karmada) still holds: its namespace, kurator's record, Istio's CRDs."""
    from lightkube.resources.apiextensions_v1 import CustomResourceDefinition

    left = [n for n in (istio.NAMESPACE,) if _exists_global(api, Namespace, n)]
    left += [
        crd.metadata.name
        for crd in api.list(CustomResourceDefinition)
        if crd.metadata and str(crd.metadata.name).endswith("istio.io")
    ]
    if _exists(api, ConfigMap, "kurator-component-istio", "kube-system"):
        left.append("record")
    return left


def _exists_global(api: Client, kind: Any, name: str) -> bool:
    try:
        api.get(kind, name)
    except NotFound:
        return False
    return True


def test_uninstall_removes_the_mesh_everywhere_but_never_users_configuration(installed: Bed) -> None:
    karmada = installed.api("karmada")
    karmada.apply(Namespace(metadata=ObjectMeta(name=APP_NS)))
    vs = VirtualService(
        metadata=ObjectMeta(name="kept", namespace=APP_NS),
        spec={"hosts": ["kept"], "http": [{"route": [{"destination": {"host": "kept"}}]}]},
    )
    karmada.apply(vs)
    refused = installed.kurator("uninstall", "istio")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"VirtualService {APP_NS}/kept" in refused.stderr
    assert "record" in _istio_objects(karmada)  # nothing was removed
    karmada.delete(VirtualService, "kept", namespace=APP_NS)

    done = installed.kurator("uninstall", "istio", "--wait-timeout", "180")
    assert done.returncode == 0, done.stdout + done.stderr
    for cluster in ("karmada", PRIMARY, REMOTE):
        assert _istio_objects(installed.api(cluster)) == [], cluster
    # The remote secret went with the rest (istio-system is gone). istiod's process is not asked: its own
    # ServiceAccount went too, so the primary no longer accepts its token, nor any TokenReview it makes for
    # a debug request (a real istiod's Pod is deleted with its Deployment). --remote changes show istiod
    # forgetting a remote (test_a_service_of_the_remote_appears_..._leaves_with_the_remote).

    # As the other tests of this module expect it, with istiod started again as its Deployment's new Pod
    # would be: the token of the process that ran went with its ServiceAccount.
    again = installed.install_with_istiod("--remote", REMOTE)
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--remote", "member9"], "not joined to the fleet: member9"),
        (["--remote", PRIMARY], "cannot be both --primary and a --remote"),
        (["--remote", REMOTE, "--set", "revision=canary"], "spec.revision is not supported"),
        (["--remote", REMOTE, "-f", "/nonexistent/iop.yaml"], "does not exist"),
        (["--remote", REMOTE, "--cacert", "/nonexistent"], "is not a folder"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(bed: Bed, args: list[str], message: str) -> None:
    before = _istio_objects(bed.api("karmada"))
    proc = bed.install(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in " ".join(proc.stderr.split()), proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 4  # a sentence and a hint, no traceback
    assert _istio_objects(bed.api("karmada")) == before


def test_a_mesh_across_networks_needs_every_cluster_labelled(installed: Bed) -> None:
    karmada = installed.api("karmada")
    _label(karmada, REMOTE, "network2")
    try:
        proc = installed.install("--remote", REMOTE)
        assert proc.returncode == 2
        assert f"{PRIMARY} has no {istio.NETWORK_LABEL} label while {REMOTE} is on network2" in " ".join(
            proc.stderr.split()
        )
    finally:
        _label(karmada, REMOTE, None)


def _label(api: Client, cluster: str, network: str | None) -> None:
    from lightkube.types import PatchType

    api.patch(
        Cluster, cluster, {"metadata": {"labels": {istio.NETWORK_LABEL: network}}}, patch_type=PatchType.MERGE
    )


def test_plugged_ca_files_become_the_meshs_root_and_istiod_serves_it(installed: Bed, tmp_path: Path) -> None:
    from kurator.components.istio import ca as istio_ca

    ours = istio_ca.generate("plugged")
    folder = tmp_path / "cacerts"
    folder.mkdir()
    for name, text in ours.files.items():
        (folder / name).write_text(text)
    try:
        # istiod reads its CA files when it starts, as its Pod would: restarted while the install waits for
        # it to publish the plugged root
        primary = installed.api(PRIMARY)
        proc = installed.install_with_istiod(
            "--remote",
            REMOTE,
            "--cacert",
            str(folder),
            first=lambda: _secret_text(primary, istio.CACERTS, "root-cert.pem") == ours.root,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert ours.files["ca-key.pem"].splitlines()[1] not in proc.stdout + proc.stderr
        assert _secret_text(primary, istio.CACERTS, "root-cert.pem") == ours.root
        for cluster in (PRIMARY, REMOTE):
            api = installed.api(cluster)
            wait_for(
                lambda api=api: (
                    (api.get(ConfigMap, "istio-ca-root-cert", namespace=istio.NAMESPACE).data or {})
                    .get("root-cert.pem", "")
                    .strip()
                    == ours.root.strip()
                ),
                120,
                f"the plugged root in {cluster}",
            )
        again = installed.install("--remote", REMOTE)  # without --cacert: the plugged CA stays
        assert "nothing was written" in again.stdout, again.stdout
    finally:
        installed.istiod(restart=True)


def test_an_offline_bundle_installs_and_a_damaged_one_is_refused(installed: Bed, tmp_path: Path) -> None:
    online = installed.install("--remote", REMOTE)  # the mesh as the offline run will find it
    assert online.returncode == 0, online.stdout + online.stderr
    bundle = tmp_path / "bundle"
    pulled = installed.kurator("artifacts", "pull", "istio", "--to", str(bundle))
    assert pulled.returncode == 0, pulled.stderr
    offline = installed.install("--remote", REMOTE, "--artifacts-dir", str(bundle))
    assert offline.returncode == 0 and "nothing was written" in offline.stdout, (
        offline.stdout + offline.stderr
    )
    payload = bundle / istio.COMPONENT.artifact.key / f"{istio.MODULE_VERSION}.zip"
    data = payload.read_bytes()  # a zip's last byte is usually 0 already: flip it
    payload.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    damaged = installed.install("--remote", REMOTE, "--artifacts-dir", str(bundle))
    assert damaged.returncode == 2
    assert f"checksum mismatch for artifact {istio.COMPONENT.artifact.key}" in " ".join(
        damaged.stderr.split()
    )


def test_across_networks_each_network_gets_an_east_west_gateway_injected_by_istiod(installed: Bed) -> None:
    """Both clusters labelled with networks of their own: each gets an east-west gateway, whose Pods the
    sidecar injection webhook of the real istiod fills in (reached through the fleet's kube-proxy stand-in),
    and the primary exposes services across networks."""
    from lightkube.resources.core_v1 import Pod

    karmada = installed.api("karmada")
    _label(karmada, PRIMARY, "network1")
    _label(karmada, REMOTE, "network2")
    try:
        proc = installed.install("--remote", REMOTE)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        for cluster, network in ((PRIMARY, "network1"), (REMOTE, "network2")):
            api = installed.api(cluster)
            ns = api.get(Namespace, istio.NAMESPACE)
            assert (ns.metadata.labels or {})[istio.NETWORK_LABEL] == network  # type: ignore[union-attr]
            pods = list(api.list(Pod, namespace=istio.NAMESPACE, labels={"app": istio.EASTWEST}))
            assert pods, cluster
            for pod in pods:  # the chart's "image: auto" filled in by istiod's injection webhook
                images = [c.image for c in pod.spec.containers]  # type: ignore[union-attr]
                assert images == [f"{istio.HUB}/proxyv2:{istio.VERSION}"], (cluster, images)
                assert "sidecar.istio.io/status" in (pod.metadata.annotations or {})  # type: ignore[union-attr]
        gateway = create_namespaced_resource("networking.istio.io", "v1", "Gateway", "gateways")
        assert _exists(installed.api(PRIMARY), gateway, "cross-network-gateway", istio.NAMESPACE)
    finally:
        _label(karmada, PRIMARY, None)
        _label(karmada, REMOTE, None)
        restored = installed.install("--remote", REMOTE)
        assert restored.returncode == 0, restored.stdout + restored.stderr
