"""``cluster-operator``: kurator's cluster operator on a host cluster (chart ``charts/cluster-operator``):
our CRDs, its ServiceAccount and least-privilege RBAC, a Deployment of ``kurator operator run`` with leader
election, a metrics Service, and the fleets registered with it. Applied straight to the host; it reads the
Cluster API CRDs that the ``cluster-api-crds`` component installs.

A fleet is registered as the Secret ``kurator-fleet-<name>`` holding the fleet's Karmada kubeconfig
(kurator.operator.fleets reads it). The operator uses it inside the cluster, so the kubeconfig is checked
here, before anything is written, to carry everything itself: no paths to files of this machine, no
credential plugins. Its content never appears in a message.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kurator.core.errors import InvalidInput
from kurator.fleet.component import Artifact, Component

if TYPE_CHECKING:
    from kurator.kube.client import Client

# Module-level imports stay light: this module is loaded for every `kurator` command (the registry).

NAMESPACE = "kurator-system"  # kurator.operator.settings.NAMESPACE: the operator's default
FLEET_PREFIX = "kurator-fleet-"  # kurator.operator.fleets.REGISTRATION_PREFIX
FLEET_KEY = "value"  # kurator.operator.fleets.KUBECONFIG_FIELD
NAME_MAX = 253 - len(FLEET_PREFIX)
# kurator.api.rules.DNS1123_SUBDOMAIN (tests/unit compare them): that module loads pydantic.
DNS1123_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"

COMPONENT = Component(
    name="cluster-operator",
    description="kurator's cluster operator on the host (CustomCluster lifecycle through Kubespray)",
    artifact=Artifact(
        name="cluster-operator",
        version="0.1.0",
        kind="helm-chart",
        source="package:components/charts/cluster-operator",
        # Digest of the chart folder (kurator.fleet.artifacts.digest); tests/unit recompute it.
        sha256="77de99990289eba75edcb89f1c94e822b5ab9267d3b85ddd09bdbc90a49ae068",
    ),
    namespace=NAMESPACE,
    placement="host",
)


def component(fleets: Mapping[str, str]) -> Component:
    """The chart with ``fleets`` (name -> Karmada kubeconfig text) registered."""
    return dataclasses.replace(COMPONENT, values={"fleets": dict(sorted(fleets.items()))})


def parse_fleets(items: list[str]) -> dict[str, Path]:
    """``--fleet NAME=KARMADA_KUBECONFIG`` pairs."""
    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InvalidInput(
                f"--fleet {item!r} is not NAME=KARMADA_KUBECONFIG", "e.g. --fleet prod=karmada.kubeconfig"
            )
        if len(name) > NAME_MAX or not re.fullmatch(DNS1123_SUBDOMAIN, name):
            raise InvalidInput(
                f"--fleet {name!r} is not a fleet name",
                f"lower-case letters, digits, '-' and '.', at most {NAME_MAX} characters "
                "(the name CustomClusters give in spec.fleet)",
            )
        if name in out:
            raise InvalidInput(f"--fleet names {name} twice")
        out[name] = Path(path).expanduser()
    return out


def _entry(items: Any, name: Any) -> dict[str, Any] | None:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return None


FILE_FIELDS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}
PLUGINS = ("exec", "auth-provider")


def kubeconfig_problems(data: Any) -> list[str]:
    """Why ``data`` (a parsed file) is not a kubeconfig the operator can use from inside a cluster; empty
    when it is one. Names fields, never values."""
    if not isinstance(data, dict) or data.get("kind", "Config") != "Config":
        return ["it is not a kubeconfig (kind: Config)"]
    current = data.get("current-context")
    if not current:
        return ["it has no current-context"]
    context = _entry(data.get("contexts"), current)
    if context is None or not isinstance(context.get("context"), dict):
        return [f"its current-context {current!r} is not among its contexts"]
    ctx = context["context"]
    cluster = _entry(data.get("clusters"), ctx.get("cluster"))
    user = _entry(data.get("users"), ctx.get("user"))
    problems = []
    cluster_spec = (cluster or {}).get("cluster")
    if not isinstance(cluster_spec, dict) or not str(cluster_spec.get("server", "")).startswith("https://"):
        problems.append(f"context {current!r} names no cluster with an https:// server")
        cluster_spec = {}
    user_spec = (user or {}).get("user")
    named_user = isinstance(user_spec, dict)
    if not isinstance(user_spec, dict):
        problems.append(f"context {current!r} names no user")
        user_spec = {}
    elsewhere = [
        f"its {where} reads {field} from a file of this machine"
        for where, spec in (("cluster", cluster_spec), ("user", user_spec))
        for field in FILE_FIELDS[where]
        if spec.get(field)
    ]
    elsewhere += [f"its user authenticates with a plugin ({p})" for p in PLUGINS if user_spec.get(p)]
    has_cert = bool(user_spec.get("client-certificate-data") and user_spec.get("client-key-data"))
    if named_user and not elsewhere and not (has_cert or user_spec.get("token") or user_spec.get("username")):
        problems.append("its user has no credentials")
    return problems + elsewhere


def fleet_kubeconfig(name: str, path: Path) -> str:
    """The text of the Karmada kubeconfig registered as fleet ``name``, checked (see the module)."""
    from kurator.core import inputs

    label = f"--fleet {name}: {path}"
    text = inputs.read_text(path, f"--fleet {name}:", inputs.KUBECONFIG_LIMIT)
    data = inputs.load_yaml(text, label)
    if problems := kubeconfig_problems(data):
        raise InvalidInput(
            f"--fleet {name}: {path} is not a kubeconfig the operator can use: {'; '.join(problems)}",
            "the operator reads it inside the cluster, so it must carry everything itself: "
            "`kubectl --kubeconfig FILE config view --minify --flatten` writes one that does",
        )
    return text


def registered_fleets(api: Client) -> dict[str, str]:
    """The fleets an earlier install registered (name -> kubeconfig text): kept when the install runs again
    without naming them, so re-running never unregisters a fleet that CustomClusters may be joined to."""
    import base64

    from kurator.fleet.desired import COMPONENT_LABEL
    from kurator.kube.resources import Secret

    out: dict[str, str] = {}
    for secret in api.list(Secret, namespace=NAMESPACE, labels={COMPONENT_LABEL: COMPONENT.name}):
        name = secret.metadata.name if secret.metadata else None
        if name and name.startswith(FLEET_PREFIX) and FLEET_KEY in (secret.data or {}):
            out[name.removeprefix(FLEET_PREFIX)] = base64.b64decode((secret.data or {})[FLEET_KEY]).decode()
    return out


def custom_clusters(api: Client) -> list[str]:
    """``namespace/name`` of every CustomCluster in the cluster (none when the CRD is not there)."""
    from kurator.api.resources import CUSTOM_CLUSTER
    from kurator.kube.errors import NotFound
    from kurator.kube.resources import namespaced

    try:  # a CRD made moments ago answers 429 for a while: the client waits that out
        found = list(api.list(namespaced(CUSTOM_CLUSTER), namespace="*"))
    except NotFound:  # the CRD is not there
        return []
    return sorted(f"{c.metadata.namespace}/{c.metadata.name}" for c in found if c.metadata)


def capa_namespace(api: Client) -> str | None:
    """Where Cluster API Provider AWS runs on the host, if it does (``kurator install cluster-api
    --infrastructure aws`` puts it in capa-system)."""
    from kurator.kube import ops
    from kurator.kube.resources import Namespace

    return "capa-system" if ops.get_or_none(api, Namespace, "capa-system") is not None else None
