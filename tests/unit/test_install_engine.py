"""Pure parts of the install engine: artifact digests, desired state, object comparison, --set parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kurator.cli.install_common import parse_sets
from kurator.components import COMPONENTS, get
from kurator.core.errors import InvalidInput
from kurator.fleet import artifacts, desired, objects
from kurator.fleet.component import Artifact

PACKAGED = sorted(n for n, c in COMPONENTS.items() if c.artifact.source.startswith(artifacts.PACKAGE_PREFIX))


@pytest.mark.parametrize("name", PACKAGED)
def test_pinned_digest_of_each_packaged_chart_matches_the_chart_in_the_package(name: str) -> None:
    comp = COMPONENTS[name]
    folder = artifacts._package_folder(comp.artifact)
    assert artifacts.digest(folder) == comp.artifact.sha256, "chart changed: update its pinned sha256"


def test_folder_digest_ignores_modes_and_changes_with_content(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.yaml").write_text("one")
    first = artifacts.digest(tmp_path / "a")
    (tmp_path / "a" / "x.yaml").chmod(0o600)
    assert artifacts.digest(tmp_path / "a") == first
    (tmp_path / "a" / "x.yaml").write_text("two")
    assert artifacts.digest(tmp_path / "a") != first


def test_obtain_from_a_bundle_refuses_a_tampered_artifact(tmp_path: Path) -> None:
    payload = tmp_path / "bundle" / "demo-1.0" / "manifests.yaml"
    payload.parent.mkdir(parents=True)
    payload.write_text("kind: ConfigMap\n")
    good = Artifact(
        "demo", "1.0", "manifests", "https://example.invalid/manifests.yaml", artifacts.digest(payload)
    )
    assert artifacts.obtain(good, tmp_path / "bundle") == payload
    payload.write_text("kind: Secret\n")
    with pytest.raises(InvalidInput, match=r"checksum mismatch for artifact demo-1\.0"):
        artifacts.obtain(good, tmp_path / "bundle")
    with pytest.raises(InvalidInput, match="is not in"):
        artifacts.obtain(good, tmp_path / "elsewhere")


def test_pull_never_replaces_a_folder_the_bundle_did_not_make(tmp_path: Path) -> None:
    """A bundle entry is replaced only when the bundle's index (written by kurator) lists it."""
    standin = COMPONENTS["standin"].artifact
    mine = tmp_path / "bundle" / standin.key
    mine.mkdir(parents=True)
    (mine / "thesis.tex").write_text("mine")
    with pytest.raises(InvalidInput, match="is not in the bundle's index: kurator did not make it"):
        artifacts.pull([standin], tmp_path / "bundle")
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]
    assert not (tmp_path / "bundle" / artifacts.INDEX).exists()
    (mine / "thesis.tex").unlink()
    mine.rmdir()
    [payload] = artifacts.pull([standin], tmp_path / "bundle")
    payload.with_name("stale").write_text("kurator's own, replaced on a mismatch")
    assert payload.is_dir()  # the stand-in chart is a folder
    (payload / "Chart.yaml").write_text("changed")
    assert artifacts.pull([standin], tmp_path / "bundle") == [payload]  # listed: replaced whole
    assert not payload.with_name("stale").exists()


RENDERED = [
    {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.standin.kurator.dev"},
        "spec": {
            "group": "standin.kurator.dev",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "standin-settings"},
        "data": {"cluster": "unset"},
    },
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}},
    {
        "apiVersion": "standin.kurator.dev/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 1},
    },
]


def test_desired_state_orders_labels_and_propagates() -> None:
    want = desired.build(get("standin"), RENDERED, ["member2", "member1"])
    first = [(d["kind"], d["metadata"]["name"]) for d in want.first]
    assert first[:2] == [
        ("Namespace", "standin"),
        ("CustomResourceDefinition", "widgets.standin.kurator.dev"),
    ]
    assert first[-1] == ("ClusterPropagationPolicy", "kurator-standin")
    kinds = [d["kind"] for d in want.second]
    assert kinds == ["OverridePolicy", "ConfigMap", "PropagationPolicy"]
    assert [d["kind"] for d in want.third] == ["Widget"]  # only once members serve the new kind
    for doc in want.all:
        assert doc["metadata"]["labels"]["kurator.dev/component"] == "standin"
        assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kurator"
    pp = want.second[-1]
    assert pp["metadata"]["namespace"] == "standin"
    assert {s["kind"] for s in pp["spec"]["resourceSelectors"]} == {"ConfigMap", "Widget"}
    assert pp["spec"]["placement"]["clusterAffinity"]["clusterNames"] == ["member1", "member2"]
    assert want.crd_apis == [("standin.kurator.dev/v1", "Widget")]
    op = want.second[0]
    rules = {
        r["targetCluster"]["clusterNames"][0]: r["overriders"]["plaintext"][0]["value"]
        for r in op["spec"]["overrideRules"]
    }
    assert rules == {"member1": "member1", "member2": "member2"}
    member = desired.for_member(get("standin"), want, "member2")
    settings = next(d for d in member if d["kind"] == "ConfigMap")
    assert settings["data"]["cluster"] == "member2"
    assert all(d["apiVersion"] != desired.POLICY_GROUP for d in member)


def test_contains_tolerates_server_defaults_but_not_changes() -> None:
    wanted = {"spec": {"replicas": 2, "template": {"containers": [{"name": "a"}]}}}
    live = {
        "spec": {"replicas": 2, "strategy": {}, "template": {"containers": [{"name": "a", "image": "x"}]}}
    }
    assert objects.contains(live, wanted)
    assert not objects.contains({"spec": {"replicas": 3}}, {"spec": {"replicas": 2}})
    assert not objects.contains({"spec": {"template": {"containers": []}}}, wanted)
    # a null a chart leaves (`env:` with nothing under it) is never stored: held
    assert objects.contains({"spec": {"replicas": 2}}, {"spec": {"replicas": 2, "env": None}})
    assert not objects.contains({"spec": {"replicas": 2}}, {"spec": {"replicas": 2, "env": []}})


def test_readiness_by_kind() -> None:
    dep = {
        "metadata": {"generation": 2},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 2, "readyReplicas": 2, "updatedReplicas": 2},
    }
    assert objects.readiness("Deployment", dep) == (True, "2/2 replicas ready")
    dep["status"]["observedGeneration"] = 1
    assert not objects.readiness("Deployment", dep)[0]
    failed = {
        "status": {"conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}
    }
    assert objects.readiness("Job", failed) == (False, "failed: BackoffLimitExceeded")
    assert objects.readiness("ConfigMap", {})[0]


def test_diffs_never_show_secret_values() -> None:
    before = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "c2VjcmV0"}}
    after = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "bmV3"}}
    text = objects.diff(before, after, "Secret s")
    assert "c2VjcmV0" not in text and "bmV3" not in text


def test_set_values_are_parsed_into_nested_values() -> None:
    assert parse_sets(["replicas=3", "a.b=x", "a.c=true"]) == {"replicas": 3, "a": {"b": "x", "c": True}}
    for bad in ("novalue", "=3", "a..b=1"):
        with pytest.raises(InvalidInput):
            parse_sets([bad])


def test_karmadactl_output_is_redacted() -> None:
    from kurator.fleet.karmada_host import redact

    line = (
        "karmadactl register 10.0.0.1:32443 --token abcdef.0123456789abcdef "
        "--discovery-token-ca-cert-hash sha256:ff"
    )
    out = redact(line)
    assert "abcdef.0123456789abcdef" not in out and "sha256:ff" not in out
    assert out.startswith("karmadactl register 10.0.0.1:32443 --token <redacted>")


def test_what_only_a_server_writes_is_never_wanted() -> None:
    """controller-gen's CRDs say `creationTimestamp: null`; a live object always has one."""
    from kurator.components import standin

    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.example.com", "creationTimestamp": None},
        "spec": {"group": "example.com", "names": {"kind": "Thing", "plural": "things"}, "scope": "Cluster",
                 "versions": [{"name": "v1", "served": True, "storage": True}]},
        "status": {"acceptedNames": {"kind": "", "plural": ""}, "storedVersions": []},
    }  # fmt: skip
    want = desired.build(standin.COMPONENT, [crd], ["m1"])
    doc = next(d for d in want.first if d["kind"] == "CustomResourceDefinition")
    assert "creationTimestamp" not in doc["metadata"] and "status" not in doc


def test_set_values_of_earlier_runs_are_kept_unless_reset() -> None:
    from kurator.fleet import engine, record
    from kurator.kube.client import Access

    comp = COMPONENTS["standin"]
    earlier = record.Record(
        "standin", "0.1.0", values={"image": {"repository": "r.example/x"}, "replicas": 3}
    )
    req = engine.Request(Access(Path("/nonexistent")), comp, values={"replicas": 1})
    assert engine.user_values(req, earlier) == {"image": {"repository": "r.example/x"}, "replicas": 1}
    assert engine.user_values(req, None) == {"replicas": 1}
    req.reset_values = True
    assert engine.user_values(req, earlier) == {"replicas": 1}


def test_a_record_keeps_values_only_when_there_are_some() -> None:
    from kurator.fleet import record

    assert "values" not in record.Record("standin", "0.1.0").data()  # records of earlier versions unchanged
    data = record.Record("standin", "0.1.0", values={"b": 1, "a": {"c": "x"}}).data()
    assert data["values"] == '{"a": {"c": "x"}, "b": 1}'
