"""Pure parts of `kurator install cluster-operator`: --fleet parsing and the check that a Karmada kubeconfig
carries everything the operator needs inside a cluster (never quoting it), and the Cluster API CRDs taken
from members of a pinned zip."""

from __future__ import annotations

import copy
import hashlib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from kurator.components import cluster_api, cluster_operator
from kurator.core.errors import InvalidInput, KuratorError
from kurator.fleet import artifacts, desired, render
from kurator.fleet.component import Artifact, Component
from kurator.kube import kubeconfig
from kurator.kube.kubeconfig import ClusterAccess

SECRET = "c2VjcmV0LWtleS1tYXRlcmlhbC0wMDAx"  # stands in for a client key's base64


def _config() -> dict[str, Any]:
    access = ClusterAccess("karmada", "https://10.0.0.1:5443", b"CA", b"CERT", SECRET.encode())
    return kubeconfig.build([access])


def test_fleet_options_are_name_equals_file() -> None:
    assert cluster_operator.parse_fleets(["prod=/k/p", "edge.eu=/k/e"]) == {
        "prod": Path("/k/p"),
        "edge.eu": Path("/k/e"),
    }
    for bad, says in (
        ("prod", "is not NAME=KARMADA_KUBECONFIG"),
        ("=/k", "is not NAME=KARMADA_KUBECONFIG"),
        ("prod=", "is not NAME=KARMADA_KUBECONFIG"),
        ("Prod=/k", "is not a fleet name"),
        (f"{'a' * 240}=/k", "is not a fleet name"),
    ):
        with pytest.raises(InvalidInput, match=says):
            cluster_operator.parse_fleets([bad])
    with pytest.raises(InvalidInput, match="names prod twice"):
        cluster_operator.parse_fleets(["prod=/a", "prod=/b"])


def test_a_self_contained_kubeconfig_passes() -> None:
    assert cluster_operator.kubeconfig_problems(_config()) == []
    token = _config()
    token["users"][0]["user"] = {"token": "t"}
    assert cluster_operator.kubeconfig_problems(token) == []


def _broken(change: Any) -> list[str]:
    doc = copy.deepcopy(_config())
    change(doc)
    return cluster_operator.kubeconfig_problems(doc)


def test_what_the_operator_could_not_use_is_named() -> None:
    assert cluster_operator.kubeconfig_problems(["a"]) == ["it is not a kubeconfig (kind: Config)"]
    assert cluster_operator.kubeconfig_problems({"kind": "Pod"}) == ["it is not a kubeconfig (kind: Config)"]
    assert _broken(lambda d: d.pop("current-context")) == ["it has no current-context"]
    assert _broken(lambda d: d.update({"current-context": "x"})) == [
        "its current-context 'x' is not among its contexts"
    ]
    assert _broken(lambda d: d["clusters"][0]["cluster"].update(server="http://10.0.0.1")) == [
        "context 'karmada' names no cluster with an https:// server"
    ]
    assert _broken(lambda d: d.update(users=[])) == ["context 'karmada' names no user"]
    assert _broken(lambda d: d["users"][0].update(user={})) == ["its user has no credentials"]

    def files(d: dict[str, Any]) -> None:
        d["clusters"][0]["cluster"] = {"server": "https://k", "certificate-authority": "ca.crt"}
        d["users"][0]["user"] = {"client-certificate": "c.crt", "client-key": "c.key"}

    assert _broken(files) == [
        "its cluster reads certificate-authority from a file of this machine",
        "its user reads client-certificate from a file of this machine",
        "its user reads client-key from a file of this machine",
    ]
    assert _broken(lambda d: d["users"][0].update(user={"exec": {"command": "aws"}})) == [
        "its user authenticates with a plugin (exec)"
    ]


def test_fleet_kubeconfig_errors_never_quote_the_file(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.write_text(yaml.safe_dump(_config()))
    assert cluster_operator.fleet_kubeconfig("prod", good) == good.read_text()
    with pytest.raises(InvalidInput, match="does not exist"):
        cluster_operator.fleet_kubeconfig("prod", tmp_path / "missing")
    bad_yaml = tmp_path / "bad"
    bad_yaml.write_text(f"users:\n- user:\n    client-key-data: {SECRET}\n  : [\n")
    with pytest.raises(InvalidInput) as caught:
        cluster_operator.fleet_kubeconfig("prod", bad_yaml)
    assert (
        "is not valid YAML: " in caught.value.message
        and " at line " in caught.value.message
        and SECRET not in str(caught.value)
    )
    no_context = tmp_path / "no-context"
    doc = _config()
    doc["current-context"] = ""
    no_context.write_text(yaml.safe_dump(doc))
    with pytest.raises(InvalidInput) as caught:
        cluster_operator.fleet_kubeconfig("prod", no_context)
    assert "no current-context" in caught.value.message and "--flatten" in (caught.value.hint or "")
    assert SECRET not in f"{caught.value.message} {caught.value.hint}"


# ---- Cluster API CRDs: members of a zip -------------------------------------------------------------------


def _crd(group: str, plural: str, kind: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {"kind": kind, "plural": plural},
                "versions": [{"name": "v1beta2", "served": True, "storage": True}],
            },
        }
    )


def _module_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("m@v1/a/crd/clusters.yaml", "---\n" + _crd("cluster.x-k8s.io", "clusters", "Cluster"))
        z.writestr("m@v1/b/crd/kcps.yaml", _crd("controlplane.cluster.x-k8s.io", "kcps", "KCP"))
        z.writestr("m@v1/c/crd/machines.yaml", _crd("cluster.x-k8s.io", "machines", "Machine"))
        z.writestr("m@v1/README.md", "not yaml: [")
    return path


def _component(zip_path: Path, members: tuple[str, ...]) -> Component:
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    artifact = Artifact(
        "crds", "1.0", "manifests", f"https://example.invalid/{zip_path.name}", digest, members
    )
    return Component("crds", "test", artifact, namespace="", placement="host")


def test_only_the_named_zip_members_are_rendered_in_their_order(tmp_path: Path) -> None:
    path = _module_zip(tmp_path / "v1.zip")
    comp = _component(path, ("m@v1/b/crd/kcps.yaml", "m@v1/a/crd/clusters.yaml"))
    assert comp.artifact.sha256 == artifacts.digest(path)  # the digest is the whole zip's bytes
    docs = render.render(comp, path, {})
    assert [d["metadata"]["name"] for d in docs] == [
        "kcps.controlplane.cluster.x-k8s.io",
        "clusters.cluster.x-k8s.io",
    ]
    # A component without a namespace gets none: only the CRDs are applied (and recorded).
    want = desired.build(comp, docs, [])
    assert [desired.Ref.of(d).kind for d in want.all] == ["CustomResourceDefinition"] * 2
    with pytest.raises(KuratorError, match=r"v1\.zip has no m@v1/x\.yaml"):
        render.render(_component(path, ("m@v1/x.yaml",)), path, {})
    not_zip = tmp_path / "v2.zip"
    not_zip.write_text("kind: ConfigMap\n")
    with pytest.raises(KuratorError, match=r"v2\.zip is not a zip"):
        render.render(_component(not_zip, ("a.yaml",)), not_zip, {})


def test_a_zip_bundle_is_verified_as_a_whole(tmp_path: Path) -> None:
    source = _module_zip(tmp_path / "v1.zip")
    comp = _component(source, ("m@v1/a/crd/clusters.yaml",))
    entry = tmp_path / "bundle" / comp.artifact.key
    entry.mkdir(parents=True)
    payload = entry / "v1.zip"
    payload.write_bytes(source.read_bytes())
    assert artifacts.obtain(comp.artifact, tmp_path / "bundle") == payload
    with zipfile.ZipFile(payload, "a") as z:  # a member that is not rendered still counts
        z.writestr("m@v1/extra.yaml", "kind: Secret\n")
    with pytest.raises(InvalidInput, match=r"checksum mismatch for artifact crds-1\.0"):
        artifacts.obtain(comp.artifact, tmp_path / "bundle")


def test_namespaced_objects_need_a_namespace_from_somewhere(tmp_path: Path) -> None:
    comp = _component(_module_zip(tmp_path / "v1.zip"), ())
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    with pytest.raises(KuratorError, match="has no namespace"):
        desired.build(comp, [doc], [])
    placed = desired.build(comp, [{**doc, "metadata": {"name": "c", "namespace": "n"}}], [])
    assert [desired.Ref.of(d) for d in placed.all] == [desired.Ref("v1", "ConfigMap", "n", "c")]


def test_cluster_api_is_pinned_to_its_module_zip_on_the_go_proxy() -> None:
    art = cluster_api.COMPONENT.artifact
    assert art.source == "https://proxy.golang.org/sigs.k8s.io/cluster-api/@v/v1.14.2.zip"
    assert art.kind == "manifests" and art.key == "cluster-api-crds-1.14.2"
    assert all(m.startswith("sigs.k8s.io/cluster-api@v1.14.2/") for m in art.members)
    assert [Path(m).name.split("_", 1)[1].removesuffix(".yaml") for m in art.members] == [
        n.split(".", 1)[0] for n in cluster_api.CRD_NAMES
    ]
    assert cluster_api.COMPONENT.placement == "host" and cluster_api.COMPONENT.namespace == ""
