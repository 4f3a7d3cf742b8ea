"""A stand-in for what booted EC2 machines would do, as kwok stands in for kubelets: the AWS stand-in (moto)
starts no operating system, so no instance ever boots, runs kubeadm and joins. This plays it.

For a cluster on AWS, a member of the local fleet plays the cluster's API server: the one listening on the
fleet's address at 6443, the port a cluster's load balancer forwards to (the AWS stand-in resolves every load
balancer's name to the fleet's address inside the fleet's namespace, and members answer to those names).
What kubeadm would have made there is made by hand:

- before the cluster is created, its ``<cluster>-ca`` Secret from that member's CA (Cluster API then signs
  the cluster's kubeconfig with it, and the member accepts it);
- ``kube-system/kubeadm-config`` in the member, which Cluster API reads from a kubeadm cluster;
- for each AWSMachine with an instance (``spec.providerID``), the Node its kubelet would register, carrying
  that providerID (kwok makes it Ready). Cluster API then finds it, and the Machine runs.

What stays unplayable: the control plane's etcd members and static pods (KubeadmControlPlane's etcd and
component health, so its ``Available`` condition, and rollouts that wait for it).
"""

from __future__ import annotations

import base64
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import yaml
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Node, Secret

from kurator.kube import ops
from kurator.local.fleet import UpResult
from kurator.local.pki import ClusterPKI

from .helpers import cluster_client

AWSMachine = create_namespaced_resource(
    "infrastructure.cluster.x-k8s.io", "v1beta2", "AWSMachine", "awsmachines"
)
PLAYED_LABEL = "kurator.dev/played-machine"  # on every Node made here


def played_member(fleet: UpResult) -> str:
    """The member that answers at the fleet's address on 6443 (the tests' fleet has one)."""
    return next(c for c, port in fleet.config.api_ports.items() if port == 6443 and c != "host")


class MachinePlayer:
    """Plays the booted machines of clusters on AWS (see the module), in a thread, until stopped."""

    def __init__(self, fleet: UpResult) -> None:
        self.fleet = fleet
        self.member = played_member(fleet)
        self.host = cluster_client(fleet, "host")
        self.workload = cluster_client(fleet, self.member)
        self.nodes: dict[str, str] = {}  # providerID -> Node name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []

    # --- before a cluster is made ---------------------------------------------------------------------

    def prepare(self, namespace: str, cluster: str) -> None:
        """The cluster's CA (the member's own) and the member's kubeadm-config."""
        pki = ClusterPKI(self.fleet.layout.pki(self.member))
        data = {"tls.crt": pki.ca_crt.read_bytes(), "tls.key": pki.key("ca").read_bytes()}
        secret = Secret(
            metadata=ObjectMeta(
                name=f"{cluster}-ca", namespace=namespace, labels={"cluster.x-k8s.io/cluster-name": cluster}
            ),
            type="cluster.x-k8s.io/secret",
            data={k: base64.b64encode(v).decode() for k, v in data.items()},
        )
        ops.create_if_absent(self.host, secret)
        config = {
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "ClusterConfiguration",
            "kubernetesVersion": self.fleet.config.kubernetes_version,
            "networking": {"podSubnet": "192.168.0.0/16", "serviceSubnet": "10.96.0.0/12"},
        }
        ops.create_if_absent(
            self.workload,
            ConfigMap(
                metadata=ObjectMeta(name="kubeadm-config", namespace="kube-system"),
                data={"ClusterConfiguration": yaml.safe_dump(config)},
            ),
        )

    # --- while it lives -------------------------------------------------------------------------------

    def step(self) -> None:
        """One round: a Node for each instance that has none yet; Nodes of instances gone are removed."""
        have = {
            n.spec.providerID: n.metadata.name
            for n in self.workload.list(Node, labels={PLAYED_LABEL: "true"})
            if n.spec and n.spec.providerID and n.metadata
        }
        want: dict[str, str] = {}
        for machine in self.host.list(AWSMachine, namespace="*"):
            spec: dict[str, Any] = machine.get("spec") or {}
            meta = machine.get("metadata") or {}
            if spec.get("providerID") and not meta.get("deletionTimestamp"):
                instance = str(spec["providerID"]).rsplit("/", 1)[-1]
                want[str(spec["providerID"])] = f"ip-{instance}"
        for provider_id, name in want.items():
            if provider_id not in have:
                node = Node(
                    metadata=ObjectMeta(name=name, labels={PLAYED_LABEL: "true", "type": "kwok"}),
                    spec={"providerID": provider_id},
                )
                ops.create_if_absent(self.workload, node)
        for provider_id, name in have.items():
            if (
                provider_id not in want
            ):  # Cluster API removes a deleted Machine's Node itself; this is the rest
                ops.delete_if_present(self.workload, Node, name)
        self.nodes = want

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.step()
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def start(self) -> MachinePlayer:
        self._thread = threading.Thread(target=self._run, name="machine-player", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def remove_all(self) -> None:
        """Every Node played (what a test leaves in the member is removed)."""
        for node in self.workload.list(Node, labels={PLAYED_LABEL: "true"}):
            if node.metadata and node.metadata.name:
                ops.delete_if_present(self.workload, Node, node.metadata.name)


@contextlib.contextmanager
def playing(fleet: UpResult) -> Iterator[MachinePlayer]:
    player = MachinePlayer(fleet).start()
    try:
        yield player
    finally:
        player.stop()
        player.remove_all()
