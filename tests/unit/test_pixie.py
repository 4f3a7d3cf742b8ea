"""Pixie: the deploy key (checked, never shown, only in a Secret), what is installed from the operator chart,
and the chart files kept in tests/fixtures (Pixie's, from its release tag)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path

import pytest

from kurator.components import pixie
from kurator.core.errors import InvalidInput
from kurator.fleet import desired, render

CHART = Path(__file__).resolve().parents[1] / "fixtures" / "pixie-operator-chart-0.1.7" / "chart"
KEY = f"px-dep-{uuid.uuid4()}"
# git blob ids at Pixie's tag release/operator/v0.1.7 (k8s/operator/helm/..., the CRD from crd/base).
UPSTREAM = {
    "values.yaml": "d04230b9845171acb3ee0963eaa82d0592e63f42",
    "templates/01_px_olm.yaml": "2c2921958e34f6d2d50d0aad4dcd872f634b6764",
    "templates/02_catalog.yaml": "389eb7f2c07a44ded6e389e27aaf3737717aa8f1",
    "templates/03_subscription.yaml": "47cf4e24998f5c86e185c7acbf72009b1aecf38d",
    "templates/04_vizier.yaml": "7c8ca65ad2cbccf2659ea07d474f85aa0a7258c1",
    "templates/deleter-role.yaml": "73e5ec7e481e3acfcc392d472a390b3c8d0a9ad2",
    "templates/deleter.yaml": "1d13b1a28999759d4392c9b02f61b12c5a20726c",
    "crds/olm_crd.yaml": "3f5429f78922c10879593fc04da1ab34b08997ac",
    "crds/vizier_crd.yaml": "b25d7b59240a504ff14ce28971138490078dce04",
}


def test_the_chart_files_are_pixies_own() -> None:
    for name, blob in UPSTREAM.items():
        data = (CHART / name).read_bytes()
        assert hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest() == blob, name
    assert (CHART / "Chart.yaml").read_text() == (
        "apiVersion: v2\nname: pixie-operator-chart\ntype: application\nversion: 0.1.7\n"
    )
    assert "HELM_DEPLOY_OLM_PLACEHOLDER" not in (CHART / "templates" / "00_olm.yaml").read_text()
    assert pixie.ARTIFACT.sha256 == "ccce762b13a883bf63ebc7a084424a362b77a9dad21b2ef20506c3f1f4db0443"


@pytest.mark.parametrize(
    "bad", ["", "   ", "px-dep-nope", "px-dep-" + "x" * 36, KEY + "\nextra", KEY.upper()]
)
def test_a_missing_or_malformed_key_is_refused_without_showing_it(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        pixie.check_key(bad, "--deploy-key")
    shown = f"{info.value.message} {info.value.hint}"
    assert bad.strip() == "" or bad.strip() not in shown
    assert pixie.check_key(f"  {KEY}\n", "f") == KEY  # a file's newline is not part of it


def test_the_key_is_only_in_a_secret_and_each_member_names_its_vizier(helm_in_cache: None) -> None:
    comp = pixie.component(KEY, "cloud.example:443", "px", CHART)
    assert KEY not in repr(comp.values)
    docs = render.render(comp, CHART, comp.values)
    assert comp.adapt is not None
    docs = comp.adapt(docs)
    assert not [d for d in docs if "helm.sh/hook" in (d["metadata"].get("annotations") or {})]
    holding = [d for d in docs if KEY in repr(d) or base64.b64encode(KEY.encode()).decode() in repr(d)]
    assert [(d["kind"], d["metadata"]["name"]) for d in holding] == [("Secret", pixie.SECRET)]
    vizier = next(d for d in docs if d["kind"] == "Vizier")
    assert vizier["spec"]["customDeployKeySecret"] == pixie.SECRET and "deployKey" not in vizier["spec"]
    assert vizier["spec"]["cloudAddr"] == "cloud.example:443" and vizier["spec"]["clusterName"] == "unset"
    want = desired.build(comp, docs, ["m1", "m2"])
    m2 = next(d for d in desired.for_member(comp, want, "m2") if d["kind"] == "Vizier")
    assert m2["spec"]["clusterName"] == "m2"
    with pytest.raises(InvalidInput, match="not host:port"):
        pixie.check_cloud("https://withpixie.ai")
