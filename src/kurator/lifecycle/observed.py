"""What the operator sees of the Kubespray Jobs it started, reduced to what decisions and status need: which
action and attempt a Job was, whether it runs, succeeded or failed, when it finished, what the failed run
said, and the hosts and version the cluster has once it succeeded."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from kurator.api.cluster import ProvisionedHost
from kurator.lifecycle.hosts import Host, from_records

CLUSTER_LABEL = "kurator.dev/cluster"
ACTION_LABEL = "kurator.dev/action"
GENERATION_LABEL = "kurator.dev/generation"
ATTEMPT_LABEL = "kurator.dev/attempt"
TARGET_ANNOTATION = "kurator.dev/target"
"""JSON of the hosts and version the cluster has once the Job succeeded (names and addresses only)."""

MESSAGE_MAX = 1024  # a summary goes into a condition message; the kubelet caps the file at 4096 bytes

State = Literal["active", "succeeded", "failed", "stopped"]
"""``stopped``: suspended by the operator (a deletion stops a run before resetting the hosts); it is kept,
as the record that Kubespray touched the hosts."""


@dataclass(frozen=True)
class Summary:
    """Why a run failed, as the wrapper around ansible-playbook wrote it to the termination log."""

    failed_host: str | None = None
    task: str | None = None
    message: str | None = None

    def describe(self) -> str:
        """``on node1 in task 'x': message`` (the parts that are known)."""
        where = []
        if self.failed_host:
            where.append(f"on {self.failed_host}")
        if self.task:
            where.append(f"in task '{self.task}'")
        what = self.message or "no message"
        return f"{' '.join(where)}: {what}" if where else what


@dataclass(frozen=True)
class Target:
    """The cluster after the Job's success."""

    hosts: tuple[Host, ...]
    version: str | None


@dataclass(frozen=True)
class ObservedJob:
    name: str
    action: str
    generation: str
    attempt: int
    state: State
    created: datetime
    finished: datetime | None = None
    summary: Summary | None = None
    target: Target | None = None


ObservedJobs = Sequence[ObservedJob]


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def parse_summary(text: str | None) -> Summary | None:
    """The termination message: the wrapper's JSON, or (from anything else) its text as the message."""
    if not text or not text.strip():
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return Summary(message=text.strip()[:MESSAGE_MAX])
    if not isinstance(doc, dict):
        return Summary(message=text.strip()[:MESSAGE_MAX])

    def field(key: str) -> str | None:
        value = doc.get(key)
        return str(value)[:MESSAGE_MAX] if value not in (None, "") else None

    return Summary(field("failed_host"), field("task"), field("message"))


def encode_target(target: Target) -> str:
    hosts = [h.record().model_dump(mode="json", by_alias=True) for h in target.hosts]
    return json.dumps({"version": target.version, "hosts": hosts}, sort_keys=True, separators=(",", ":"))


def decode_target(text: str | None) -> Target | None:
    if not text:
        return None
    doc = json.loads(text)
    records = [ProvisionedHost.model_validate(h) for h in doc.get("hosts", [])]
    return Target(from_records(records), doc.get("version"))


def _state(status: Mapping[str, Any]) -> tuple[State, datetime | None]:
    for cond in status.get("conditions") or ():
        if cond.get("status") != "True":
            continue
        if cond.get("type") == "Complete":
            return "succeeded", _time(status.get("completionTime") or cond.get("lastTransitionTime"))
        if cond.get("type") == "Failed":
            return "failed", _time(cond.get("lastTransitionTime"))
    return "active", None


def _termination_message(pod: Mapping[str, Any] | None) -> str | None:
    for cs in ((pod or {}).get("status") or {}).get("containerStatuses") or ():
        terminated = (cs.get("state") or {}).get("terminated") or {}
        if terminated.get("message"):
            return str(terminated["message"])
    return None


def observe(job: Mapping[str, Any], pod: Mapping[str, Any] | None = None) -> ObservedJob:
    """A Job made by :mod:`kurator.lifecycle.jobs` (and its pod, if any) as a decision input."""
    meta = job["metadata"]
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    state, finished = _state(job.get("status") or {})
    if state == "active" and (job.get("spec") or {}).get("suspend"):
        state = "stopped"
    created = _time(meta.get("creationTimestamp"))
    if created is None:
        raise ValueError(f"Job {meta.get('name')} has no creationTimestamp: it was not read from the API")
    return ObservedJob(
        name=meta["name"],
        action=labels[ACTION_LABEL],
        generation=labels[GENERATION_LABEL],
        attempt=int(labels.get(ATTEMPT_LABEL, "0")),
        state=state,
        created=created,
        finished=finished,
        summary=parse_summary(_termination_message(pod)) if state == "failed" else None,
        target=decode_target(annotations.get(TARGET_ANNOTATION)),
    )
