"""The cluster operator's chart, rendered with the pinned helm: least-privilege RBAC without wildcards, a
Deployment whose every argument is a flag `kurator operator run` accepts, the hardening it promises, fleets
as the Secrets the operator reads, and CRDs that are exactly the ones generated from kurator.api."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer.main

from kurator.api import crds
from kurator.api.rules import DNS1123_SUBDOMAIN
from kurator.cli.main import app
from kurator.components import cluster_operator
from kurator.core.errors import KuratorError
from kurator.fleet import render
from kurator.operator import fleets, settings

from .charts import HELM, needs_helm, no_wildcards

CHART = Path(__file__).resolve().parents[2] / "src" / "kurator" / "components" / "charts" / "cluster-operator"
NAME = "kurator-cluster-operator"
NS = cluster_operator.NAMESPACE

Objects = dict[tuple[str, str], dict[str, Any]]


def rendered(values: dict[str, Any] | None = None) -> Objects:
    comp = cluster_operator.component({})
    docs = render._helm_template(comp, CHART, {**comp.values, **(values or {})}, HELM)
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def _rules(obj: dict[str, Any]) -> set[tuple[str, str, str, tuple[str, ...]]]:
    """(group, resource, verb, names) for every permission a role grants."""
    return {
        (group, resource, verb, tuple(rule.get("resourceNames", ())))
        for rule in obj["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def _grants(*entries: tuple[str, str, str]) -> set[tuple[str, str, str, tuple[str, ...]]]:
    return {(g, r, v, ()) for g, r, verbs in entries for v in verbs.split()}


def test_constants_shared_with_the_operator_agree() -> None:
    assert cluster_operator.NAMESPACE == settings.NAMESPACE
    assert cluster_operator.FLEET_PREFIX == fleets.REGISTRATION_PREFIX
    assert cluster_operator.FLEET_KEY == fleets.KUBECONFIG_FIELD
    assert cluster_operator.DNS1123_SUBDOMAIN == DNS1123_SUBDOMAIN


@needs_helm
def test_chart_crds_are_the_generated_ones() -> None:
    objs = rendered()
    for kind in crds.KINDS:
        assert (CHART / "crds" / kind.file_name).read_text() == crds.render(kind)
        assert objs[("CustomResourceDefinition", f"{kind.plural}.{crds.GROUP}")] == crds.crd(kind)
    assert sorted(p.name for p in (CHART / "crds").iterdir()) == sorted(k.file_name for k in crds.KINDS)


def test_crd_check_covers_the_chart_copies(tmp_path: Path) -> None:
    assert crds.FOLDERS == (crds.DIR, CHART / "crds")  # what `python -m kurator.api.crds` checks and writes
    chart_crds = tmp_path / "crds"
    shutil.copytree(CHART / "crds", chart_crds)
    folders = (crds.DIR, chart_crds)
    assert crds.stale(folders) == []
    drifted = chart_crds / crds.KINDS[0].file_name
    drifted.write_text(drifted.read_text().replace("PHASE", "STAGE"))
    assert crds.stale(folders) == [drifted]
    assert crds.write(folders) == [drifted]
    assert crds.stale(folders) == []


@needs_helm
def test_rbac_is_exactly_what_the_operator_calls_and_has_no_wildcard() -> None:
    objs = rendered()
    no_wildcards(objs)
    assert _rules(objs[("ClusterRole", NAME)]) == _grants(
        ("cluster.kurator.dev", "customclusters", "get list watch patch"),
        ("cluster.kurator.dev", "customclusters/status", "get patch"),
        ("cluster.kurator.dev", "customclusters/finalizers", "update"),
        ("cluster.kurator.dev", "custommachines", "get list watch"),
        ("cluster.kurator.dev", "custommachines/status", "patch"),
        ("batch", "jobs", "get list watch create patch delete"),
        ("", "configmaps", "create get"),
        ("", "secrets", "get create patch"),
        ("", "pods", "list"),
        ("", "events", "create"),
        ("cluster.x-k8s.io", "clusters", "get list watch"),
        ("controlplane.cluster.x-k8s.io", "kubeadmcontrolplanes", "get list watch"),
        ("apiextensions.k8s.io", "customresourcedefinitions", "list watch"),
        # the aws provider
        ("cluster.kurator.dev", "clusters", "get list watch patch"),
        ("cluster.kurator.dev", "clusters/status", "get patch"),
        ("cluster.kurator.dev", "clusters/finalizers", "update"),
        ("cluster.x-k8s.io", "clusters", "patch delete"),
        ("cluster.x-k8s.io", "machinedeployments", "patch delete get list watch"),
        ("cluster.x-k8s.io", "machines", "get list watch patch"),
        ("controlplane.cluster.x-k8s.io", "kubeadmcontrolplanes", "patch"),
        ("bootstrap.cluster.x-k8s.io", "kubeadmconfigtemplates", "get patch"),
        ("infrastructure.cluster.x-k8s.io", "awsclusters", "get list watch patch"),
        ("infrastructure.cluster.x-k8s.io", "awsmachines", "get list watch patch"),
        ("infrastructure.cluster.x-k8s.io", "awsmachinetemplates", "get patch"),
        ("infrastructure.cluster.x-k8s.io", "awsclusterstaticidentities", "get patch delete"),
    )
    assert ("Role", f"{NAME}-aws-credentials") not in objs  # no CAPA namespace given: no Secrets there
    lease = objs[("Role", f"{NAME}-leader-election")]
    assert lease["metadata"]["namespace"] == NS
    assert _rules(lease) == {
        ("coordination.k8s.io", "leases", "create", ()),
        ("coordination.k8s.io", "leases", "get", (settings.LEASE,)),
        ("coordination.k8s.io", "leases", "update", (settings.LEASE,)),
    }
    subject = {"kind": "ServiceAccount", "name": NAME, "namespace": NS}
    for kind, name in (("ClusterRoleBinding", NAME), ("RoleBinding", f"{NAME}-leader-election")):
        binding = objs[(kind, name)]
        assert binding["subjects"] == [subject]
        assert binding["roleRef"]["name"] == name
    assert objs[("ServiceAccount", NAME)]["metadata"]["namespace"] == NS


def _run_command() -> Any:
    group: Any = typer.main.get_command(app)
    return group.commands["operator"].commands["run"]


@needs_helm
def test_deployment_runs_the_operator_with_real_flags_leader_elected_and_hardened() -> None:
    objs = rendered({"watchNamespaces": ["team-a", "team-b"], "retries": 5, "deleteTimeout": "1h"})
    dep = objs[("Deployment", NAME)]
    assert dep["spec"]["replicas"] == 2
    pod = dep["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == NAME
    (container,) = pod["containers"]
    assert container["image"] == "kurator/cluster-operator:0.1.0"
    # Every argument is one `kurator operator run` takes (unknown flags would fail to parse here).
    params = _run_command().make_context("run", list(container["args"])).params
    assert params["operator_namespace"] == NS
    assert params["listen"] == "0.0.0.0:9440"
    assert params["leader_elect"] is True
    assert params["namespace"] == ("team-a", "team-b")
    assert (params["retries"], params["delete_timeout"]) == (5, "1h")
    assert container["env"] == [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    ]
    assert container["ports"] == [{"name": "http", "containerPort": 9440}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert set(container["resources"]) == {"requests", "limits"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    svc = objs[("Service", f"{NAME}-metrics")]
    assert svc["spec"]["ports"] == [{"name": "metrics", "port": 9440, "targetPort": "http"}]
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]


@needs_helm
def test_one_replica_may_run_without_leader_election_two_may_not() -> None:
    one = rendered({"replicas": 1, "leaderElect": False})[("Deployment", NAME)]
    args = one["spec"]["template"]["spec"]["containers"][0]["args"]
    assert _run_command().make_context("run", list(args)).params["leader_elect"] is False
    with pytest.raises(KuratorError, match="replicas > 1 needs leaderElect"):
        rendered({"leaderElect": False})


@needs_helm
def test_fleets_are_the_secrets_the_operator_reads() -> None:
    text = "apiVersion: v1\nkind: Config\n"
    comp = cluster_operator.component({"prod": text, "edge": "other"})
    assert list(comp.values["fleets"]) == ["edge", "prod"]
    docs = render._helm_template(comp, CHART, comp.values, HELM)
    secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
    assert set(secrets) == {fleets.secret_name("prod"), fleets.secret_name("edge")}
    prod = secrets[fleets.secret_name("prod")]
    assert prod["metadata"]["namespace"] == NS
    assert base64.b64decode(prod["data"][fleets.KUBECONFIG_FIELD]).decode() == text
    assert not any(d["kind"] == "Secret" for d in rendered().values())


@needs_helm
def test_with_capa_the_operator_keeps_credential_copies_in_its_namespace_only() -> None:
    objs = rendered({"capaNamespace": "capa-system"})
    role = objs[("Role", f"{NAME}-aws-credentials")]
    assert role["metadata"]["namespace"] == "capa-system"
    assert _rules(role) == _grants(("", "secrets", "get patch delete"))
    binding = objs[("RoleBinding", f"{NAME}-aws-credentials")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": NS}]
    args = objs[("Deployment", NAME)]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--capa-namespace=capa-system" in args
    assert "--capa-namespace" in {p.opts[0] for p in _run_command().params if p.opts}
