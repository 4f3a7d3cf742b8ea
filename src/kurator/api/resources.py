"""The kinds of kurator's cluster operator as the API serves them: what a client needs to reach them (group,
version, kind, plural). Plain data: :mod:`kurator.kube.resources` makes client resources of them."""

from __future__ import annotations

from dataclasses import dataclass

from kurator.api.names import GROUP, VERSION


@dataclass(frozen=True)
class ApiKind:
    group: str
    """"" for Kubernetes' core group."""
    version: str
    kind: str
    plural: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


CUSTOM_CLUSTER = ApiKind(GROUP, VERSION, "CustomCluster", "customclusters")
CUSTOM_MACHINE = ApiKind(GROUP, VERSION, "CustomMachine", "custommachines")
CLUSTER = ApiKind(GROUP, VERSION, "Cluster", "clusters")
"""The AWS kind (``infraType: aws``), made through Cluster API."""

# Kubernetes' own kinds the operator reads and writes.
JOB = ApiKind("batch", "v1", "Job", "jobs")
SECRET = ApiKind("", "v1", "Secret", "secrets")
LEASE = ApiKind("coordination.k8s.io", "v1", "Lease", "leases")
