"""What the cluster operator's tests run it with: the operator as a real process (``kurator operator run``,
as a user runs it), the CRDs on the local fleet's host, and the stand-in for the kubelet.

The stand-in: kwok cannot run Kubespray's image, and the local fleet's kwok leaves the Pods of Kubespray
Jobs Running (label ``kurator.dev/action``); ``finish_pod`` then plays the kubelet that ran the container:
it sets the Pod's phase and its container's termination message (the worker's JSON summary on a failure),
and the real Job controller of the host turns that into the Job's Complete or Failed condition.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx2
import yaml
from lightkube import Client
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Pod
from lightkube.types import PatchType

from kurator.api.crds import all_crds
from kurator.api.resources import CUSTOM_CLUSTER, CUSTOM_MACHINE
from kurator.kube.apply import apply_all
from kurator.kube.errors import NotFound, RequestFailed
from kurator.kube.resources import namespaced
from kurator.lifecycle.observed import ACTION_LABEL, CLUSTER_LABEL
from kurator.local.fleet import UpResult
from kurator.local.kubeconfigs import context_name

from .helpers import wait_for

CustomClusterResource = namespaced(CUSTOM_CLUSTER)
CustomMachineResource = namespaced(CUSTOM_MACHINE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def install_crds(api: Client) -> None:
    apply_all(api, all_crds())
    for crd in all_crds():
        name = crd["metadata"]["name"]
        wait_for(
            lambda n=name: any(
                c.type == "Established" and c.status == "True"
                for c in (api.get(CustomResourceDefinition, n).status.conditions or [])  # type: ignore[union-attr]
            ),
            30,
            f"CRD {name} established",
        )


def remove_crds(api: Client, timeout: float = 60) -> None:
    """Delete the CRDs (and with them every CustomCluster and CustomMachine left) and wait until gone. A
    cluster a failed test left keeps its finalizer with no operator to release it: released here."""
    with contextlib.suppress(RequestFailed):
        for cc in api.list(CustomClusterResource, namespace="*"):
            if cc.metadata and cc.metadata.finalizers:
                api.patch(
                    CustomClusterResource,
                    cc.metadata.name,  # type: ignore[arg-type]
                    {"metadata": {"finalizers": None}},
                    namespace=cc.metadata.namespace,
                    patch_type=PatchType.MERGE,
                )
    for crd in all_crds():
        with contextlib.suppress(RequestFailed):
            api.delete(CustomResourceDefinition, crd["metadata"]["name"])

    def gone() -> bool:
        names = {c.metadata.name for c in api.list(CustomResourceDefinition) if c.metadata}
        return not names & {c["metadata"]["name"] for c in all_crds()}

    wait_for(gone, timeout, "the operator's CRDs deleted")


class OperatorProcess:
    """``kurator operator run`` against the fleet's host, logging to a file (read by the tests that look
    for secrets in it). As the fleet's admin, or with ``kubeconfig`` (its current context) as someone else:
    the installed operator's ServiceAccount, say."""

    def __init__(self, fleet: UpResult, log: Path, *extra: str, kubeconfig: Path | None = None) -> None:
        self.fleet, self.log, self.extra, self.kubeconfig = fleet, log, extra, kubeconfig
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def args(self) -> list[str]:
        cfg = self.fleet.config
        if self.kubeconfig is not None:
            login = ["--kubeconfig", str(self.kubeconfig)]
        else:
            login = ["--kubeconfig", str(self.fleet.layout.kubeconfig("host")), "--context"]
            login.append(context_name(cfg, "host"))
        return [
            sys.executable,
            "-m",
            "kurator",
            *login,
            "operator",
            "run",
            "--listen",
            f"127.0.0.1:{self.port}",
            "--retry-delay",
            "2s",
            "--log-level",
            "debug",
            *self.extra,
        ]

    def env(self) -> dict[str, str]:
        return {**os.environ, "NO_COLOR": "1"}

    def start(self) -> OperatorProcess:
        with self.log.open("ab") as out:
            out.write(f"\n--- start {dt.datetime.now(dt.UTC).isoformat()}\n".encode())
            self.proc = subprocess.Popen(self.args(), stdout=out, stderr=subprocess.STDOUT, env=self.env())
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> httpx2.Response | None:
        try:
            return httpx2.get(self.url(path), timeout=2)
        except httpx2.HTTPError:
            return None

    def metric(self, name: str, **labels: str) -> float | None:
        """A sample of /metrics (None when the operator does not answer or has no such sample)."""
        r = self.get("/metrics")
        if r is None or r.status_code != 200:
            return None
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        total = None
        for line in r.text.splitlines():
            if line.startswith("#") or " " not in line:
                continue
            sample, value = line.rsplit(" ", 1)
            series, _, rest = sample.partition("{")
            if series == name and (not want or rest.rstrip("}") == want):
                total = (total or 0.0) + float(value)
        return total

    def leading(self) -> bool:
        return self.metric("kurator_operator_leader") == 1.0

    def wait_caught_up(self, timeout: float = 60) -> None:
        """Until the operator leads and has reconciled once every object it found when it started: a
        restarted operator has then decided about every cluster (and would have started any second Job)."""

        def caught_up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, f"operator exited: {self.tail()}"
            return self.leading() and self.metric("kurator_operator_startup_pending") == 0.0

        wait_for(caught_up, timeout, "the operator caught up with its start")

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, f"operator exited: {self.tail()}"
            r = self.get("/readyz")
            return r is not None and r.status_code == 200

        wait_for(ready, timeout, "operator ready")

    def kill(self) -> None:
        """SIGKILL: a crash, nothing cleaned up."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int | None:
        """SIGTERM, as a Deployment's rollout does."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def jobs_of(api: Client, namespace: str, cluster: str) -> list[Job]:
    return list(api.list(Job, namespace=namespace, labels={CLUSTER_LABEL: cluster}))


def job_names(api: Client, namespace: str, cluster: str) -> list[str]:
    return sorted(j.metadata.name for j in jobs_of(api, namespace, cluster) if j.metadata and j.metadata.name)


def wait_job(api: Client, namespace: str, cluster: str, action: str, timeout: float = 60) -> Job:
    def find() -> Job | None:
        running = [
            j
            for j in jobs_of(api, namespace, cluster)
            if j.metadata
            and (j.metadata.labels or {}).get(ACTION_LABEL) == action
            and not any(c.status == "True" for c in ((j.status.conditions if j.status else None) or []))
        ]
        return running[0] if running else None

    job: Job = wait_for(find, timeout, f"a running {action} Job of {cluster}")
    return job


def finish_pod(
    api: Client, namespace: str, job: str, ok: bool = True, summary: dict[str, Any] | None = None
) -> None:
    """Play the kubelet that ran the Job's container to its end (see the module's docstring)."""

    def running_pod() -> Pod | None:
        pods = list(api.list(Pod, namespace=namespace, labels={"job-name": job}))
        return next((p for p in pods if p.status and p.status.phase == "Running"), None)

    pod: Pod = wait_for(running_pod, 60, f"the Pod of Job {job} running")
    assert pod.metadata is not None and pod.spec is not None
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    container = pod.spec.containers[0]
    terminated: dict[str, Any] = {
        "exitCode": 0 if ok else 2,
        "reason": "Completed" if ok else "Error",
        "startedAt": now,
        "finishedAt": now,
    }
    if summary is not None:
        terminated["message"] = json.dumps(summary)
    status = {
        "phase": "Succeeded" if ok else "Failed",
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "PodCompleted", "lastTransitionTime": now},
            {
                "type": "ContainersReady",
                "status": "False",
                "reason": "PodCompleted",
                "lastTransitionTime": now,
            },
        ],
        "containerStatuses": [
            {
                "name": container.name,
                "image": container.image,
                "imageID": "",
                "ready": False,
                "started": False,
                "restartCount": 0,
                "state": {"terminated": terminated},
            }
        ],
    }
    api.patch(
        Pod.Status, pod.metadata.name, {"status": status}, namespace=namespace, patch_type=PatchType.MERGE
    )


def run_files(api: Client, namespace: str, job: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inventory and group vars a Job's Pod is given (its annotations, mounted as files)."""
    template = api.get(Job, job, namespace=namespace).spec.template  # type: ignore[union-attr]
    annotations = (template.metadata.annotations if template.metadata else None) or {}
    return yaml.safe_load(annotations["kurator.dev/hosts.yaml"]), yaml.safe_load(
        annotations["kurator.dev/k8s-cluster.yml"]
    )


def job_done(api: Client, namespace: str, job: str) -> str | None:
    try:
        j = api.get(Job, job, namespace=namespace)
    except RequestFailed:
        return None
    for c in (j.status.conditions if j.status else None) or []:
        if c.status == "True" and c.type in ("Complete", "Failed"):
            return c.type
    return None


def cluster_status(api: Client, namespace: str, name: str) -> dict[str, Any]:
    obj = api.get(CustomClusterResource, name, namespace=namespace)
    return dict(obj.to_dict().get("status") or {})  # type: ignore[no-untyped-call]


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c["type"] == type_), {})


def wait_phase(api: Client, namespace: str, name: str, phase: str, timeout: float = 60) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        st = cluster_status(api, namespace, name)
        return st if st.get("phase") == phase else None

    result: dict[str, Any] = wait_for(check, timeout, f"{name} in phase {phase}")
    return result


def until_gone(api: Client, namespace: str, name: str, timeout: float = 60) -> None:
    def gone() -> bool:
        try:
            api.get(CustomClusterResource, name, namespace=namespace)
        except NotFound:
            return True
        return False

    wait_for(gone, timeout, f"CustomCluster {name} deleted")
