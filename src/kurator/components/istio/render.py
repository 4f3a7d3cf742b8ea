"""Each cluster's Istio objects, rendered from the charts of the pinned ``istio.io/istio`` module.

The primary: the ``base`` chart (CRDs, the reader account, the default validator), the ``istiod`` chart
(istiod itself, with ``externalIstiod`` so that it serves the remotes), the plug-in CA Secret ``cacerts``, a
remote secret per remote, and when it has an east-west gateway, the ``gateway`` chart and Istio's own
``expose-istiod`` / ``expose-services`` resources. A remote: ``base`` and ``istiod`` with Istio's ``remote``
profile (the injection webhook and the ``istiod`` Service pointing at the primary's istiod, the reader's
RBAC), the reader's token Secret that its remote secret is built from, and a gateway when its network
differs from the primary's. Every cluster's ``istio-system`` carries its network; a remote's also names
the primary as its control plane.
"""

from __future__ import annotations

import base64
import copy
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from kurator.components import istio
from kurator.components.istio import Mesh
from kurator.components.istio.values import merge as _merge
from kurator.core.errors import KuratorError
from kurator.fleet.component import Variants

Doc = dict[str, Any]
CHARTS = {
    "base": "manifests/charts/base",
    "istiod": "manifests/charts/istio-control/istio-discovery",
    "gateway": "manifests/charts/gateway",
}
EXPOSE_ISTIOD = "samples/multicluster/expose-istiod.yaml"
EXPOSE_SERVICES = "samples/multicluster/expose-services.yaml"
HELM_WORKERS = 4  # helm processes at once: most of their time is start-up, not CPU


def unpack(payload: Path, into: Path) -> Path:
    """The charts and samples this component reads, out of the module zip into ``into``; each chart's
    version set to Istio's (as Istio's release build does), so its objects' labels name the release."""
    prefix = f"{istio.MODULE_ROOT}/"
    wanted = (*CHARTS.values(), EXPOSE_ISTIOD, EXPOSE_SERVICES)
    with zipfile.ZipFile(payload) as archive:
        for info in archive.infolist():
            name = info.filename.removeprefix(prefix)
            if info.is_dir() or not any(name == w or name.startswith(f"{w}/") for w in wanted):
                continue
            if ".." in Path(name).parts or name.startswith("/"):
                raise KuratorError(f"artifact {istio.COMPONENT.artifact.key} holds an unsafe path {name!r}")
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
    for folder in CHARTS.values():
        chart_file = into / folder / "Chart.yaml"
        if not chart_file.is_file():
            raise KuratorError(f"artifact {istio.COMPONENT.artifact.key} has no chart {folder}")
        meta = yaml.safe_load(chart_file.read_text())
        meta["version"] = meta["appVersion"] = istio.VERSION
        chart_file.write_text(yaml.safe_dump(meta))
    return into


def common_values(mesh: Mesh, cluster: str) -> dict[str, Any]:
    """Values every chart of ``cluster`` gets: the user's, then what kurator sets for the cluster."""
    ours = {
        "global": {
            "istioNamespace": istio.NAMESPACE,
            "meshID": mesh.mesh_id,
            "multiCluster": {"clusterName": cluster},
            "network": mesh.networks.get(cluster, ""),
        }
    }
    defaults = {"global": {"hub": istio.HUB, "tag": istio.VERSION}}
    values: dict[str, Any] = _merge(_merge(defaults, mesh.settings.values), ours)
    if mesh.settings.compatibility_version:
        values["compatibilityVersion"] = mesh.settings.compatibility_version
    return values


def chart_values(mesh: Mesh, cluster: str) -> dict[str, dict[str, Any]]:
    """The values of each chart ``cluster`` gets, by chart name."""
    values = common_values(mesh, cluster)
    network = mesh.networks.get(cluster, "")
    if cluster == mesh.primary:
        istiod = _merge(values, {"global": {"externalIstiod": bool(mesh.remotes)}})
        if mesh.settings.profile:
            istiod["profile"] = mesh.settings.profile
        out = {"base": values, "istiod": istiod}
    else:
        remote: dict[str, Any] = {
            "profile": "remote",
            "global": {"configCluster": False},
            "istiodRemote": {"injectionPath": f"/inject/cluster/{cluster}/net/{network}"},
        }
        if mesh.pilot_address:
            remote["global"]["remotePilotAddress"] = mesh.pilot_address
        out = {"base": _merge(values, {"profile": "remote"}), "istiod": _merge(values, remote)}
    if mesh.has_gateway(cluster):
        out["gateway"] = gateway_values(values, network, mesh.multi_network)
    return out


def gateway_values(values: dict[str, Any], network: str, multi_network: bool) -> dict[str, Any]:
    labels = {"istio": "eastwestgateway", "app": istio.EASTWEST}
    gateway: dict[str, Any] = {"name": istio.EASTWEST, "global": values["global"]}
    if multi_network:
        gateway["networkGateway"] = network  # the chart adds the network's label, ports and env
        labels[istio.NETWORK_LABEL] = network
    else:  # only to expose istiod to the remotes
        gateway["service"] = {
            "ports": [
                {"name": "status-port", "port": 15021, "targetPort": 15021},
                {"name": "tls-istiod", "port": 15012, "targetPort": 15012},
                {"name": "tls-webhook", "port": 15017, "targetPort": 15017},
            ]
        }
    gateway["labels"] = labels
    return gateway


def namespace(mesh: Mesh, cluster: str) -> Doc:
    meta: dict[str, Any] = {"name": istio.NAMESPACE}
    if network := mesh.networks.get(cluster, ""):
        meta["labels"] = {istio.NETWORK_LABEL: network}
    if cluster != mesh.primary:  # the primary's istiod controls this cluster (namespaces, webhooks)
        meta["annotations"] = {istio.CONTROL_PLANE_ANNOTATION: mesh.primary}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def _secret(name: str, data: dict[str, str], **meta: Any) -> Doc:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in sorted(data.items())}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": istio.NAMESPACE, **meta},
        "type": "Opaque",
        "data": encoded,
    }


def remote_secret(remote: str, reader: istio.Reader) -> Doc:
    """What ``istioctl create-remote-secret`` makes: a kubeconfig of the remote's reader, on the primary."""
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": remote,
                "cluster": {
                    "server": reader.server,
                    "certificate-authority-data": base64.b64encode(reader.ca_pem.encode()).decode(),
                },
            }
        ],
        "users": [{"name": remote, "user": {"token": reader.token}}],
        "contexts": [{"name": remote, "context": {"cluster": remote, "user": remote}}],
        "current-context": remote,
        "preferences": {},
    }
    return _secret(
        f"{istio.REMOTE_SECRET_PREFIX}{remote}",
        {remote: yaml.safe_dump(kubeconfig, sort_keys=True)},
        labels={"istio/multiCluster": "true"},
        annotations={"networking.istio.io/cluster": remote},
    )


def reader_token() -> Doc:
    """The long-lived token of the reader account that a remote secret carries (filled in by the remote's
    token controller)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": istio.READER_TOKEN,
            "namespace": istio.NAMESPACE,
            "annotations": {"kubernetes.io/service-account.name": istio.READER},
        },
        "type": "kubernetes.io/service-account-token",
    }


def _samples(charts: Path, mesh: Mesh) -> list[Doc]:
    """Istio's own resources that route through the primary's gateway: istiod for the remotes, and
    every service across networks."""
    from kurator.fleet.render import load_documents

    files = [EXPOSE_ISTIOD] if mesh.remotes and mesh.has_gateway(mesh.primary) else []
    if mesh.multi_network:
        files.append(EXPOSE_SERVICES)
    docs = [d for f in files for d in load_documents((charts / f).read_text(), f)]
    for doc in docs:
        doc["metadata"]["namespace"] = istio.NAMESPACE
    return docs


def _extra(mesh: Mesh, cluster: str, charts: Path) -> list[Doc]:
    """What ``cluster`` gets besides the charts."""
    if cluster != mesh.primary:
        token = [reader_token()] if cluster in mesh.accounts or cluster in mesh.readers else []
        return [namespace(mesh, cluster), *token]
    cacerts = _secret(istio.CACERTS, mesh.ca.files)
    remotes = [remote_secret(r, mesh.readers[r]) for r in mesh.remotes if r in mesh.readers]
    return [namespace(mesh, cluster), cacerts, *remotes, *_samples(charts, mesh)]


DEFAULT_VALIDATOR = "istiod-default-validator"


def _base_for(mesh: Mesh, cluster: str, base: list[Doc]) -> list[Doc]:
    """The base chart's objects for ``cluster``. A remote gets them without the default validator, as the
    chart renders with ``defaultRevision: ""``: a remote's Istio resources are not the mesh's configuration
    (the primary's are), and nothing there would give that webhook its CA bundle."""
    if cluster == mesh.primary:
        return list(base)
    return [
        d
        for d in base
        if not (d["kind"] == "ValidatingWebhookConfiguration" and d["metadata"]["name"] == DEFAULT_VALIDATOR)
    ]


def resources_policy(primary: str, crds: list[Doc]) -> Doc:
    """Istio custom resources created on Karmada go to the primary, Istio's config cluster."""
    selectors = sorted(
        (
            {"apiVersion": f"{c['spec']['group']}/{v['name']}", "kind": c["spec"]["names"]["kind"]}
            for c in crds
            if c["spec"]["group"].endswith("istio.io")
            for v in c["spec"].get("versions", [])
            if v.get("served", True)
        ),
        key=lambda s: (s["apiVersion"], s["kind"]),
    )
    return {
        "apiVersion": "policy.karmada.io/v1alpha1",
        "kind": "ClusterPropagationPolicy",
        "metadata": {"name": istio.RESOURCES_POLICY},
        "spec": {
            "resourceSelectors": selectors,
            "placement": {"clusterAffinity": {"clusterNames": [primary]}},
        },
    }


RETAIN_WEBHOOK_FIELDS = """function Retain(desiredObj, observedObj)
  local labels = desiredObj.metadata.labels
  if labels == nil or labels["kurator.dev/component"] ~= "istio" then
    return desiredObj
  end
  if desiredObj.webhooks == nil or observedObj.webhooks == nil then
    return desiredObj
  end
  for _, want in ipairs(desiredObj.webhooks) do
    for _, seen in ipairs(observedObj.webhooks) do
      if seen.name == want.name then
        if seen.clientConfig ~= nil and seen.clientConfig.caBundle ~= nil then
          want.clientConfig.caBundle = seen.clientConfig.caBundle
        end
        if seen.failurePolicy ~= nil then
          want.failurePolicy = seen.failurePolicy
        end
      end
    end
  end
  return desiredObj
end
"""
WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
RETAIN_REPLICAS = "resourcetemplate.karmada.io/retain-replicas"  # Karmada keeps what an HPA scaled to


def retention(kind: str) -> Doc:
    """Karmada keeps what istiod writes into its webhooks on each member (their CA bundle, and the
    validator's failure policy once istiod has seen it answer) instead of resetting it from the template."""
    return {
        "apiVersion": "config.karmada.io/v1alpha1",
        "kind": "ResourceInterpreterCustomization",
        "metadata": {"name": f"kurator-istio-{kind.lower()}"},
        "spec": {
            "target": {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind},
            "customizations": {"retention": {"luaScript": RETAIN_WEBHOOK_FIELDS}},
        },
    }


def loosen(doc: Doc) -> Doc:
    """``doc`` as readiness compares it: without what istiod sets in its webhooks on each member."""
    if doc["kind"] not in WEBHOOK_KINDS:
        return doc
    doc = copy.deepcopy(doc)
    for webhook in doc.get("webhooks") or []:
        webhook.pop("failurePolicy", None)
        (webhook.get("clientConfig") or {}).pop("caBundle", None)
    return doc


def _autoscaled(docs: list[Doc]) -> list[Doc]:
    """Deployments that an HPA of the same render scales keep their members' replica counts."""
    scaled = {
        d["spec"]["scaleTargetRef"]["name"]
        for d in docs
        if d["kind"] == "HorizontalPodAutoscaler" and d["spec"]["scaleTargetRef"].get("kind") == "Deployment"
    }
    for doc in docs:
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] in scaled:
            doc["metadata"].setdefault("labels", {})[RETAIN_REPLICAS] = "true"
    return docs


def render(mesh: Mesh, payload: Path, _values: dict[str, Any], targets: list[str]) -> Variants:
    """Every cluster's objects (see the module), the primary first: its copies are the templates."""
    from kurator.fleet.render import helm_path, helm_template

    if set(targets) != set(mesh.clusters):
        raise KuratorError(
            f"the mesh is {', '.join(mesh.clusters)}, but the targets are {', '.join(targets)}"
        )
    helm = helm_path()
    with tempfile.TemporaryDirectory(prefix="kurator-istio-") as tmp:
        charts = unpack(payload, Path(tmp))
        # The base chart renders alike for every cluster (CRDs, the reader account): once is enough.
        jobs = [(mesh.primary, "base", chart_values(mesh, mesh.primary)["base"])] + [
            (cluster, chart, values)
            for cluster in mesh.clusters
            for chart, values in chart_values(mesh, cluster).items()
            if chart != "base"
        ]
        release = {"base": "istio-base", "istiod": "istiod", "gateway": istio.EASTWEST}

        def one(job: tuple[str, str, dict[str, Any]]) -> list[Doc]:
            cluster, chart, values = job
            label = f"{istio.COMPONENT.artifact.key} {chart} for {cluster}"
            return helm_template(release[chart], charts / CHARTS[chart], istio.NAMESPACE, values, helm, label)

        with ThreadPoolExecutor(HELM_WORKERS) as pool:
            rendered = list(pool.map(one, jobs))
        base = rendered[0]
        members = {c: [*_extra(mesh, c, charts), *_base_for(mesh, c, base)] for c in mesh.clusters}
        for (cluster, _chart, _values), docs in zip(jobs[1:], rendered[1:], strict=True):
            members[cluster] += docs
    crds = [d for d in members[mesh.primary] if d["kind"] == "CustomResourceDefinition"]
    karmada = [resources_policy(mesh.primary, crds), *(retention(k) for k in WEBHOOK_KINDS)]
    return Variants({c: _autoscaled(docs) for c, docs in members.items()}, karmada, loosen)
