"""Istio's pure parts: IstioOperator input turned into chart values, the root of trust (made or plugged in,
checked), which cluster gets what (gateways, remote secrets, the namespace's network and control plane)."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
import yaml

from kurator.components import istio
from kurator.components.istio import ca as istio_ca
from kurator.components.istio import render as istio_render
from kurator.components.istio import values as istio_values
from kurator.core.errors import InvalidInput

CA = istio_ca.generate("member1")


def _mesh(**kw: object) -> istio.Mesh:
    args: dict[str, object] = {
        "primary": "member1",
        "remotes": ("member2", "member3"),
        "networks": {"member1": "", "member2": "", "member3": ""},
        "ca": CA,
        "settings": istio_values.Settings(),
    }
    args.update(kw)
    return istio.Mesh(**args)  # type: ignore[arg-type]


# --- IstioOperator input -----------------------------------------------------------------------------


def _iop(tmp_path: Path, name: str, spec: dict[str, object]) -> Path:
    path = tmp_path / name
    doc = {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "spec": spec}
    path.write_text(yaml.safe_dump(doc))
    return path


def test_files_overlay_left_to_right_then_each_set(tmp_path: Path) -> None:
    a = _iop(tmp_path, "a.yaml", {"meshConfig": {"accessLogFile": "/a", "enableTracing": True}, "tag": "1.0"})
    b = _iop(tmp_path, "b.yaml", {"meshConfig": {"accessLogFile": "/b"}, "values": {"global": {"x": 1}}})
    got = istio_values.settings([a, b], ["meshConfig.enableTracing=false", "values.global.proxy.tag=1.30"])
    assert got.values["meshConfig"] == {"accessLogFile": "/b", "enableTracing": False}
    assert got.values["global"] == {"x": 1, "proxy": {"tag": "1.30"}, "tag": "1.0"}


def test_pilot_kubernetes_settings_become_istiod_values() -> None:
    got = istio_values.settings(
        [],
        [
            "components.pilot.k8s.resources.requests.cpu=100m",
            "components.pilot.k8s.env[0].name=PILOT_TRACE_SAMPLING",
            "components.pilot.k8s.env[0].value=1",
            "components.pilot.k8s.hpaSpec.maxReplicas=3",
        ],
    )
    assert got.values["pilot"] == {
        "resources": {"requests": {"cpu": "100m"}},
        "env": {"PILOT_TRACE_SAMPLING": 1},
        "autoscaleMax": 3,
    }


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["revision=canary"], "spec.revision is not supported"),
        (["profile=ambient"], "profile 'ambient' is not one kurator installs"),
        (["components.cni.enabled=true"], "components.cni is not installed"),
        (["components.pilot.enabled=false"], "without istiod"),
        (["components.pilot.k8s.service.type=NodePort"], "components.pilot.k8s.service is not supported"),
        (["values.global.network=n1"], "values.global.network cannot be set"),
        (["values.global.multiCluster.clusterName=x"], "clusterName cannot be set"),
        (["meshConfig"], "is not path=value"),
        (["values..x=1"], "is not path=value"),
    ],
)
def test_what_kurator_cannot_honour_is_refused_by_name(sets: list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        istio_values.settings([], sets)


def test_plain_profiles_mean_istiod_only_and_others_pass_through() -> None:
    assert istio_values.settings([], ["profile=default"]).profile == ""
    assert istio_values.settings([], ["profile=demo"]).profile == "demo"


def test_a_file_that_is_not_an_istio_operator_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "cm.yaml"
    other.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    with pytest.raises(InvalidInput, match="is not an IstioOperator"):
        istio_values.settings([other], [])
    with pytest.raises(InvalidInput, match="does not exist"):
        istio_values.settings([tmp_path / "missing.yaml"], [])


def test_set_values_keep_their_text_unless_whole_numbers_or_booleans() -> None:
    assert istio_values.scalar("1.30") == "1.30"
    assert istio_values.scalar("3") == 3
    assert istio_values.scalar("true") is True
    assert istio_values.scalar("1e3") == "1e3"


# --- the root of trust --------------------------------------------------------------------------------


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_a_generated_root_signs_istiods_ca_and_its_key_is_kept_nowhere() -> None:
    from cryptography import x509

    root = x509.load_pem_x509_certificate(CA.files["root-cert.pem"].encode())
    ca = x509.load_pem_x509_certificate(CA.files["ca-cert.pem"].encode())
    ca.verify_directly_issued_by(root)
    assert root.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=3000)
    assert set(CA.files) == set(istio_ca.FILES)  # the root's key is not among them
    istio_ca.check(CA.files, "generated")


def test_plugged_ca_files_are_loaded_and_checked(tmp_path: Path) -> None:
    good = istio_ca.load(_write(tmp_path / "good", CA.files))
    assert good.files == CA.files
    other = istio_ca.generate("member9")
    cases = {
        "missing": ({k: v for k, v in CA.files.items() if k != "cert-chain.pem"}, "has no cert-chain.pem"),
        "wrongkey": ({**CA.files, "ca-key.pem": other.files["ca-key.pem"]}, "is not the key of"),
        "wrongroot": ({**CA.files, "root-cert.pem": other.files["root-cert.pem"]}, "does not lead from"),
        "notpem": ({**CA.files, "ca-cert.pem": "hello"}, "holds no PEM certificate"),
        "chain": ({**CA.files, "cert-chain.pem": other.files["cert-chain.pem"]}, "does not start with"),
    }
    for name, (files, message) in cases.items():
        with pytest.raises(InvalidInput, match=message) as err:
            istio_ca.load(_write(tmp_path / name, files))
        assert "PRIVATE KEY" not in str(err.value) and "BEGIN" not in str(err.value)
    with pytest.raises(InvalidInput, match="is not a folder"):
        istio_ca.load(tmp_path / "nowhere")


# --- who gets what ------------------------------------------------------------------------------------


def test_gateways_across_networks_and_to_expose_istiod() -> None:
    one_net = _mesh()
    assert one_net.has_gateway("member1") and not one_net.has_gateway("member2")
    given = _mesh(pilot_address="10.0.0.5", given_address=True)
    assert not any(given.has_gateway(c) for c in given.clusters)
    nets = _mesh(networks={"member1": "n1", "member2": "n2", "member3": "n1"}, given_address=True)
    assert [c for c in nets.clusters if nets.has_gateway(c)] == ["member1", "member2"]
    alone = _mesh(remotes=())
    assert not alone.has_gateway("member1") and alone.complete


def test_values_per_cluster_name_the_cluster_its_network_and_the_primary() -> None:
    mesh = _mesh(networks={"member1": "n1", "member2": "n2", "member3": "n1"}, pilot_address="10.0.0.5")
    primary = istio_render.chart_values(mesh, "member1")
    assert primary["istiod"]["global"]["multiCluster"]["clusterName"] == "member1"
    assert primary["istiod"]["global"]["externalIstiod"] is True
    assert primary["gateway"]["networkGateway"] == "n1"
    remote = istio_render.chart_values(mesh, "member2")
    assert remote["istiod"]["profile"] == "remote"
    assert remote["istiod"]["global"]["remotePilotAddress"] == "10.0.0.5"
    assert remote["istiod"]["istiodRemote"]["injectionPath"] == "/inject/cluster/member2/net/n2"
    assert remote["gateway"]["labels"][istio.NETWORK_LABEL] == "n2"
    assert "gateway" not in istio_render.chart_values(mesh, "member3")
    ns = istio_render.namespace(mesh, "member2")
    assert ns["metadata"]["labels"] == {istio.NETWORK_LABEL: "n2"}
    assert ns["metadata"]["annotations"] == {istio.CONTROL_PLANE_ANNOTATION: "member1"}
    assert "annotations" not in istio_render.namespace(mesh, "member1")["metadata"]


def test_user_values_never_override_what_identifies_a_cluster_but_hub_and_tag_do() -> None:
    settings = istio_values.settings([], ["hub=example.io/istio", "values.global.meshID=prod"])
    values = istio_render.common_values(_mesh(settings=settings, mesh_id="prod"), "member2")
    assert values["global"]["hub"] == "example.io/istio" and values["global"]["tag"] == istio.VERSION
    assert values["global"]["meshID"] == "prod"
    assert values["global"]["multiCluster"]["clusterName"] == "member2"


def test_a_remote_secret_is_a_kubeconfig_of_the_remotes_reader() -> None:
    reader = istio.Reader("https://10.1.0.1:6444", "-----BEGIN CERTIFICATE-----\n", "t0ken")
    secret = istio_render.remote_secret("member2", reader)
    assert secret["metadata"]["name"] == "istio-remote-secret-member2"
    assert secret["metadata"]["labels"] == {"istio/multiCluster": "true"}
    assert secret["metadata"]["annotations"] == {"networking.istio.io/cluster": "member2"}
    config = yaml.safe_load(base64.b64decode(secret["data"]["member2"]))
    assert config["clusters"][0]["cluster"]["server"] == "https://10.1.0.1:6444"
    assert config["users"][0]["user"] == {"token": "t0ken"}
    assert config["current-context"] == "member2"


def test_the_mesh_is_complete_once_every_remote_has_its_reader_and_istiod_an_address() -> None:
    mesh = _mesh()
    assert not mesh.complete
    readers = {r: istio.Reader("s", "c", "t") for r in mesh.remotes}
    assert not _mesh(readers=readers).complete
    assert _mesh(readers=readers, pilot_address="10.0.0.5").complete


def test_a_remotes_token_secret_waits_for_its_account_and_its_remote_secret_for_the_token() -> None:
    from kurator.components.istio import mesh as istio_mesh

    fresh = _mesh(given_address=True, pilot_address="10.0.0.5")
    assert istio_mesh._lacking(fresh) == [
        f"{istio.READER} on member2, member3 yet (its token Secret follows)"
    ]
    accounts = _mesh(given_address=True, pilot_address="10.0.0.5", accounts=frozenset({"member2"}))
    assert istio_mesh._renders_more(fresh, accounts)
    assert not istio_mesh._renders_more(accounts, accounts)
    reader = istio.Reader("s", "c", "t")
    tokens = _mesh(
        given_address=True,
        pilot_address="10.0.0.5",
        accounts=frozenset({"member2"}),
        readers={"member2": reader},
    )
    assert istio_mesh._renders_more(accounts, tokens)
    assert istio_mesh._lacking(tokens) == [f"{istio.READER} on member3 yet (its token Secret follows)"]


def test_a_remote_is_expected_synced_only_once_its_remote_secret_is_made() -> None:
    import asyncio

    from kurator.components.istio import health as istio_health
    from kurator.fleet.component import Target

    class Empty:
        async def get(self, *_: object, **__: object) -> None:
            return None

        async def list(self, *_: object, **__: object) -> list[object]:
            return []

    mesh = _mesh(readers={"member2": istio.Reader("https://127.0.0.1:1", "", "t")})
    states = {
        c: asyncio.run(istio_health.check(Target(c, (), Empty()), mesh))  # type: ignore[arg-type]
        for c in mesh.clusters
    }
    assert [c.ok for c in states["member1"]] == [False]  # istiod controls the primary first
    assert [c.ok for c in states["member2"]] == [False]  # its remote secret is there: istiod must sync it
    assert states["member3"] == []  # a later pass makes its remote secret
