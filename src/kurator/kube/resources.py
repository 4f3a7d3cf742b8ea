"""The Kubernetes kinds and models kurator reads and writes, for every layer above: they reach lightkube's
classes through here, so only :mod:`kurator.kube` imports lightkube. Kinds named by plain data (group,
version, kind, plural), such as the descriptors of :mod:`kurator.api.resources`, become client resources
with :func:`namespaced`."""

from __future__ import annotations

from typing import Any, Protocol

from lightkube.core.exceptions import LoadResourceError
from lightkube.core.resource_registry import resource_registry
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta, OwnerReference
from lightkube.models.rbac_v1 import PolicyRule, RoleRef, Subject
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Namespace, Node, Secret, Service, ServiceAccount
from lightkube.resources.rbac_authorization_v1 import ClusterRole, ClusterRoleBinding
from lightkube.types import PatchType

__all__ = [
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "CustomResourceDefinition",
    "Deployment",
    "KindRef",
    "Namespace",
    "Node",
    "ObjectMeta",
    "OwnerReference",
    "PatchType",
    "PolicyRule",
    "RoleRef",
    "Secret",
    "Service",
    "ServiceAccount",
    "Subject",
    "namespaced",
]


class KindRef(Protocol):
    @property
    def group(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def plural(self) -> str: ...


def namespaced(kind: KindRef) -> Any:
    """The lightkube resource of a namespaced kind: its typed model when lightkube has one (Job, Secret,
    Lease, ...), else a generic one (made once; later calls return the same)."""
    api_version = f"{kind.group}/{kind.version}" if kind.group else kind.version
    known = resource_registry.get(api_version, kind.kind)
    if known is not None:
        return known
    if "." not in kind.group or kind.group.endswith(".k8s.io"):  # one of Kubernetes' own groups
        try:
            return resource_registry.load(api_version, kind.kind)
        except (LoadResourceError, ImportError):
            pass
    return create_namespaced_resource(kind.group, kind.version, kind.kind, kind.plural)


def cluster_scoped(kind: KindRef) -> Any:
    """The lightkube resource of a cluster-scoped custom kind (made once; later calls return the same)."""
    from lightkube.generic_resource import create_global_resource

    api_version = f"{kind.group}/{kind.version}"
    return resource_registry.get(api_version, kind.kind) or create_global_resource(
        kind.group, kind.version, kind.kind, kind.plural
    )
