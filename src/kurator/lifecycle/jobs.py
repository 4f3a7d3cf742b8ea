"""The Kubernetes objects of one Kubespray run: a ``batch/v1`` Job running the pinned Kubespray image, owned
by the CustomCluster so that it goes with it, with the inventory and the ``k8s_cluster`` group vars in its
Pod's annotations (mounted as files by the downward API); and, shared by every run in a namespace, the
source of :mod:`kurator.worker` (the wrapper that summarises a failure) in a ConfigMap of its own.

The worker runs in Kubespray's image, where kurator is not installed: its files (standard library only)
are mounted from that ConfigMap and put on ``PYTHONPATH``.

The Job only names the Secrets holding SSH keys; their content is mounted by the kubelet (mode 0400) and
never passes through the operator. ``backoffLimit`` is 0: retries are the operator's decision (with
backoff and a limit, see :mod:`kurator.lifecycle.actions`), each a Job of its own.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from kurator import worker
from kurator.api import kubespray
from kurator.api.cluster import CustomCluster
from kurator.lifecycle import hosts as h
from kurator.lifecycle.actions import Action, Kind
from kurator.lifecycle.group_vars import group_vars
from kurator.lifecycle.hosts import Host
from kurator.lifecycle.inventory import KEY_FILE, OTHER_KEYS_DIR, dump, render
from kurator.lifecycle.observed import (
    ACTION_LABEL,
    ATTEMPT_LABEL,
    CLUSTER_LABEL,
    GENERATION_LABEL,
    TARGET_ANNOTATION,
    Target,
    encode_target,
)
from kurator.lifecycle.state import Snapshot

PLAYBOOKS: dict[Kind, str] = {
    Kind.CREATE: "cluster.yml",
    Kind.SCALE_UP: "scale.yml",
    Kind.SCALE_DOWN: "remove-node.yml",
    Kind.UPGRADE: "upgrade-cluster.yml",
    Kind.DELETE: "reset.yml",
}
INVENTORY_DIR = "/inventory"
WORKER_DIR = "/opt/kurator"  # on PYTHONPATH in the container: kurator/worker/... below it
KUBESPRAY_DIR = "/kubespray"  # the image's working directory, where the playbooks are
DEADLINE_SECONDS = 4 * 3600  # a run that hangs (a host that stops answering mid-task) fails after this
TERMINATION_LOG = "/dev/termination-log"  # where the wrapper writes its summary and the kubelet reads it
SSH_KEY = "ssh-privatekey"  # the key of the Secret, as kubectl create secret generic --from-file names it
INVENTORY_FILE = "hosts.yaml"
VARS_FILE = "group_vars/k8s_cluster/kurator.yml"
FILE_ANNOTATIONS = {INVENTORY_FILE: "kurator.dev/hosts.yaml", VARS_FILE: "kurator.dev/k8s-cluster.yml"}


def annotation(path: str) -> str:
    """The Pod annotation holding the file at ``path`` below the inventory folder."""
    return FILE_ANNOTATIONS[path]


def worker_files() -> dict[str, str]:
    """The worker's source, by path below ``WORKER_DIR`` (its package and an empty ``kurator`` package
    above it: the worker imports nothing else)."""
    root = Path(worker.__file__).parent
    files = {"kurator/__init__.py": ""}
    for f in sorted(root.rglob("*.py")):
        files[f"kurator/worker/{f.relative_to(root).as_posix()}"] = f.read_text(encoding="utf-8")
    return files


def _worker_key(path: str) -> str:
    """A ConfigMap key for a path (keys hold no '/')."""
    return path.replace("/", "_")


@functools.cache
def _worker() -> tuple[str, dict[str, str]]:
    files = worker_files()
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:10]
    return f"kurator-worker-{digest}", files


def worker_configmap_name() -> str:
    """The worker's ConfigMap is named by a digest of its files: every Job of a namespace shares the one of
    its kurator version (the source is ~30 KiB; one copy per Job would cost etcd that per run)."""
    return _worker()[0]


def worker_configmap(namespace: str) -> dict[str, Any]:
    """The worker's source for every Kubespray Job in ``namespace``; immutable, as its name is its digest.
    It belongs to no cluster, so deleting a cluster leaves it for the others (a few KiB per version)."""
    name, files = _worker()
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "kurator", "app.kubernetes.io/component": "worker"},
        },
        "immutable": True,
        "data": {_worker_key(path): text for path, text in files.items()},
    }


def extra_vars(action: Action) -> list[str]:
    """What each playbook needs to run unattended, as Kubespray v2.31.0 reads it: ``reset.yml`` and
    ``remove-node.yml`` ask for confirmation unless told; ``remove-node.yml`` needs ``node``, and skips
    draining and resetting when hosts are gone (``upgrade-cluster.yml`` sets ``upgrade_cluster_setup``
    itself and takes the version from the vars)."""
    if action.kind == Kind.SCALE_DOWN:
        out = ["-e", f"node={','.join(action.hosts)}", "-e", "skip_confirmation=true"]
        if action.unreachable:  # a dead host cannot be drained or reset: Kubespray's switches for that
            out += ["-e", "reset_nodes=false", "-e", "allow_ungraceful_removal=true"]
        return out
    if action.kind == Kind.DELETE:
        return ["-e", "reset_confirmation=yes"]
    return []


def _hosts_and_target(
    action: Action, desired: tuple[Host, ...], installed: tuple[Host, ...], version: str | None
) -> tuple[tuple[Host, ...], Target]:
    """The hosts in the run's inventory, and the cluster once it succeeds. Hosts still in the CustomMachine
    are taken from it (their labels are there); removed ones from what was installed."""
    wanted = h.by_name(desired)
    known = {n: wanted.get(n, x) for n, x in h.by_name(installed).items()}
    if action.kind == Kind.CREATE:
        hosts = tuple(wanted.values())
        return hosts, Target(hosts, action.version)
    if action.kind == Kind.SCALE_UP:
        hosts = tuple(known.values()) + tuple(wanted[n] for n in action.hosts)
        return hosts, Target(hosts, version)
    if action.kind == Kind.SCALE_DOWN:
        hosts = tuple(known.values())
        return hosts, Target(tuple(x for x in hosts if x.name not in action.hosts), version)
    if action.kind == Kind.UPGRADE:
        hosts = tuple(known.values())
        return hosts, Target(hosts, action.version)
    if action.kind == Kind.DELETE:
        pool = {**wanted, **known}
        return tuple(pool[n] for n in action.hosts), Target((), None)
    raise ValueError(f"{action.kind} runs no Job")


def _owner(cluster: CustomCluster) -> dict[str, Any]:
    return {
        "apiVersion": cluster.api_version,
        "kind": cluster.kind,
        "name": cluster.metadata["name"],
        "uid": cluster.metadata["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _metadata(name: str, cluster: CustomCluster, action: Action, **extra: Any) -> dict[str, Any]:
    labels = {
        "app.kubernetes.io/managed-by": "kurator",
        CLUSTER_LABEL: cluster.metadata["name"],
        ACTION_LABEL: str(action.kind),
        GENERATION_LABEL: str(action.generation),
        ATTEMPT_LABEL: str(action.attempt),
    }
    return {
        "name": name,
        "namespace": cluster.metadata["namespace"],
        "labels": labels,
        "ownerReferences": [_owner(cluster)],
        **extra,
    }


def _key_volumes(hosts: tuple[Host, ...], default: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A Secret volume per distinct key, the default one at ``/auth``, the others under ``/auth-keys``."""
    secrets = [default, *sorted({x.ssh_key_secret for x in hosts} - {default})]
    volumes, mounts = [], []
    for i, secret in enumerate(secrets):
        volume = f"ssh-key-{i}"
        volumes.append(
            {
                "name": volume,
                "secret": {
                    "secretName": secret,
                    "items": [{"key": SSH_KEY, "path": SSH_KEY}],
                    "defaultMode": 0o400,
                },
            }
        )
        path = str(Path(KEY_FILE).parent) if i == 0 else f"{OTHER_KEYS_DIR}/{secret}"
        mounts.append({"name": volume, "mountPath": path, "readOnly": True})
    return volumes, mounts


def key_secrets(action: Action, snap: Snapshot) -> list[str]:
    """The Secrets holding the SSH keys of the hosts ``action`` runs on."""
    pool = {**h.by_name(snap.wanted), **h.by_name(snap.installed)}
    return sorted({pool[n].ssh_key_secret for n in action.hosts if n in pool})


def _volumes(files: dict[str, str], key_volumes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Pod's volumes: its inventory and vars (from its own annotations), the worker, the SSH keys."""
    worker_name, shipped = _worker()
    worker_volume = {
        "name": "worker",
        "configMap": {
            "name": worker_name,
            "items": [{"key": _worker_key(path), "path": path} for path in shipped],
            "defaultMode": 0o444,
        },
    }
    # The inventory and vars travel in the Pod's own annotations and reach its files through the downward
    # API: no object per run beside the Job, and what a run was given cannot change under it.
    inventory_volume = {
        "name": "inventory",
        "downwardAPI": {
            "items": [
                {"path": path, "fieldRef": {"fieldPath": f"metadata.annotations['{annotation(path)}']"}}
                for path in files
            ],
            "defaultMode": 0o444,
        },
    }
    return [inventory_volume, worker_volume, *key_volumes]


def _container(action: Action, version: str, user: str, key_mounts: list[dict[str, Any]]) -> dict[str, Any]:
    command = [
        "python3",
        "-m",
        "kurator.worker",
        "--termination-log",
        TERMINATION_LOG,
        "--",
        "ansible-playbook",
        "-i",
        f"{INVENTORY_DIR}/{INVENTORY_FILE}",
        PLAYBOOKS[action.kind],
        "-b",
        "--private-key",
        KEY_FILE,
        # The user the preflight checked; Ansible would otherwise log in as the container's (root).
        *(["--user", user] if user != "root" else []),
        *extra_vars(action),
    ]
    return {
        "name": "kubespray",
        "image": kubespray.image_for(version),
        "workingDir": KUBESPRAY_DIR,
        "command": command,
        # Hosts are met for the first time here; the SSH preflight reports their key fingerprints.
        "env": [
            {"name": "ANSIBLE_HOST_KEY_CHECKING", "value": "False"},
            {"name": "PYTHONPATH", "value": WORKER_DIR},
        ],
        "volumeMounts": [
            {"name": "inventory", "mountPath": INVENTORY_DIR, "readOnly": True},
            {"name": "worker", "mountPath": WORKER_DIR, "readOnly": True},
            *key_mounts,
        ],
        "terminationMessagePolicy": "File",
        "terminationMessagePath": TERMINATION_LOG,
    }


def manifests(action: Action, snap: Snapshot, user: str = "root") -> list[dict[str, Any]]:
    """The objects that carry out ``action`` (one that runs a Job): the Job alone, its inventory and group
    vars in its Pod's annotations; it also needs :func:`worker_configmap` in its namespace."""
    if action.kind not in PLAYBOOKS or action.job is None:
        raise ValueError(f"action {action.kind} ({action.reason}) runs no Job")
    cluster, installed, installed_version = snap.cluster, snap.installed, snap.version
    hosts, target = _hosts_and_target(action, snap.wanted, installed, installed_version)
    version = target.version or installed_version or cluster.spec.kubernetes_version
    if version is None and action.kind == Kind.DELETE:  # reset.yml needs no version; any pinned image does
        version = kubespray.KUBERNETES_VERSIONS[-1]
    if version is None:
        raise ValueError("no Kubernetes version to run Kubespray for")
    default = h.primary_key_secret(hosts)
    files = {
        INVENTORY_FILE: render(hosts, default),
        VARS_FILE: dump(group_vars(cluster, version, hosts)),
    }
    key_volumes, key_mounts = _key_volumes(hosts, default)
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(
            action.job, cluster, action, annotations={TARGET_ANNOTATION: encode_target(target)}
        ),
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": DEADLINE_SECONDS,
            "template": {
                "metadata": {
                    "labels": {CLUSTER_LABEL: cluster.metadata["name"], ACTION_LABEL: str(action.kind)},
                    "annotations": {annotation(path): text for path, text in files.items()},
                },
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,  # Kubespray talks to hosts, not to this API
                    "containers": [_container(action, version, user, key_mounts)],
                    "volumes": _volumes(files, key_volumes),
                },
            },
        },
    }
    return [job]
