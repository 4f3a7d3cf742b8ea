"""`kurator install pixie vizier` against the local fleet's real Karmada and member API servers. The chart is
the stand-in described in tests/fixtures/pixie-operator-chart-0.1.7/README.md (Pixie's own files from its
release tag; the published archive cannot be fetched here), given with --chart. Pixie's pods are kwok's: no
Vizier ever connects to Pixie Cloud here.

The deploy key must never show: not in output (--verbose included), dry-run plans, the install record,
errors or Events; only in the Secret that Pixie's operator reads."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.core_v1 import ConfigMap, Event, Namespace, Secret

from kurator.components import pixie
from kurator.fleet import record
from kurator.local.fleet import UpResult
from tests.integration.helpers import cluster_client, gone, join, karmada_args, kurator

pytestmark = pytest.mark.e2e

MEMBERS = ("member1", "member2")
CHART = Path(__file__).resolve().parents[1] / "fixtures" / "pixie-operator-chart-0.1.7" / "chart"
KEY = f"px-dep-{uuid.uuid4()}"
Vizier = create_namespaced_resource("px.dev", "v1alpha1", "Vizier", "viziers")


@pytest.fixture(scope="module")
def fleet(local_fleet: UpResult) -> Iterator[UpResult]:
    for member in MEMBERS:
        proc = join(local_fleet, member)
        assert proc.returncode == 0 or "already joined" in proc.stderr, proc.stderr
    yield local_fleet
    kurator(*karmada_args(local_fleet), "uninstall", "pixie", "vizier", "--wait-timeout", "120")


def _pixie(fleet: UpResult, *extra: str, env: dict[str, str] | None = None) -> Any:
    args = [*karmada_args(fleet), "install", "pixie", "vizier", "--chart", str(CHART), *extra]
    full = {k: v for k, v in os.environ.items() if k != "PX_DEPLOY_KEY"}
    full |= {"NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "kurator", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=400,
        check=False,
    )


def _no_key(*texts: str) -> None:
    encoded = base64.b64encode(KEY.encode()).decode()
    for text in texts:
        assert KEY not in text and encoded not in text and KEY[7:] not in text


def _absent(fleet: UpResult) -> None:
    """Pixie not installed, whichever test ran before."""
    proc = kurator(*karmada_args(fleet), "uninstall", "pixie", "vizier", "--wait-timeout", "180")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_missing_or_malformed_key_is_refused_before_anything_is_written(fleet: UpResult) -> None:
    _absent(fleet)
    missing = _pixie(fleet)
    assert missing.returncode == 2 and "needs a deploy key" in missing.stderr, missing.stderr
    bad_key = KEY[:-1] + "z"
    bad = _pixie(fleet, "--verbose", env={"PX_DEPLOY_KEY": bad_key})
    assert bad.returncode == 2 and "not a Pixie deploy key" in bad.stderr, bad.stderr
    assert bad_key not in bad.stdout + bad.stderr
    assert record.load(cluster_client(fleet, "karmada"), "pixie") is None


def test_dry_run_shows_the_secret_but_not_the_key(fleet: UpResult, tmp_path: Path) -> None:
    _absent(fleet)
    key_file = tmp_path / "deploy-key"
    key_file.write_text(KEY + "\n")
    for output in ("table", "json"):
        proc = _pixie(fleet, "--deploy-key-file", str(key_file), "--dry-run", "-o", output)
        assert proc.returncode == 0, proc.stderr
        _no_key(proc.stdout, proc.stderr)
    assert (
        f"+ create Secret px/{pixie.SECRET}"
        in _pixie(fleet, "--deploy-key-file", str(key_file), "--dry-run").stdout
    )
    assert gone(cluster_client(fleet, "karmada"), Namespace, "px")


def test_install_keeps_the_key_in_a_secret_only(fleet: UpResult) -> None:
    proc = _pixie(fleet, "--verbose", "--wait-timeout", "300", env={"PX_DEPLOY_KEY": KEY})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _no_key(proc.stdout, proc.stderr)
    karmada = cluster_client(fleet, "karmada")
    rec = karmada.get(ConfigMap, record.name_of("pixie"), namespace=record.NAMESPACE)
    _no_key(json.dumps(rec.data))
    for member in MEMBERS:
        api = cluster_client(fleet, member)
        secret = api.get(Secret, pixie.SECRET, namespace="px")
        assert base64.b64decode(secret.data[pixie.SECRET_KEY]).decode() == KEY  # type: ignore[index]
        vizier = api.get(Vizier, "pixie", namespace="px")
        assert vizier.spec["clusterName"] == member
        assert vizier.spec["customDeployKeySecret"] == pixie.SECRET and "deployKey" not in vizier.spec
        _no_key(json.dumps(vizier.to_dict()))
        events = [e.to_dict() for e in api.list(Event, namespace="*")]
        _no_key(json.dumps(events, default=str))
    listed = kurator(*karmada_args(fleet), "get", "components", "-o", "json", check=True).stdout
    _no_key(listed)
    health = next(c for c in json.loads(listed) if c["name"] == "pixie")["health"]
    for member in MEMBERS:
        assert health[member]["healthy"], health[member]
    again = _pixie(fleet, "--wait-timeout", "120", env={"PX_DEPLOY_KEY": KEY})
    assert again.returncode == 0 and "nothing was written" in again.stdout, again.stdout + again.stderr


def test_uninstall_removes_pixie_and_its_secret(fleet: UpResult) -> None:
    if record.load(cluster_client(fleet, "karmada"), "pixie") is None:
        assert _pixie(fleet, "--wait-timeout", "300", env={"PX_DEPLOY_KEY": KEY}).returncode == 0
    proc = kurator(*karmada_args(fleet), "uninstall", "pixie", "vizier", "--wait-timeout", "180")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for cluster in ("karmada", *MEMBERS):
        assert gone(cluster_client(fleet, cluster), Secret, pixie.SECRET, "px"), cluster
    assert record.load(cluster_client(fleet, "karmada"), "pixie") is None
