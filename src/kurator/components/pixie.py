"""``pixie``: Pixie's Vizier on every member, through Pixie's operator chart (OLM, the Vizier operator's
catalog and subscription, and the ``Vizier`` resource), pinned to the release Pixie publishes, each member's
``Vizier`` named after the member.

The deploy key links the Viziers to a Pixie Cloud account: it is kept only in a Secret (``deploy-key`` of
``pixie-deploy-key`` in the Pixie namespace, which the chart's ``customDeployKeySecret`` names), never in
the chart's values, the Vizier resource, the install record, a plan, a message or a log."""

from __future__ import annotations

import base64
import dataclasses
import re
from pathlib import Path
from typing import Any

from kurator.core.errors import InvalidInput
from kurator.fleet.component import Artifact, Check, Component, PerCluster, Target

VERSION = "0.1.7"
CHART = "pixie-operator-chart"
SOURCE = (
    f"https://github.com/pixie-io/pixie/releases/download/release/operator/v{VERSION}/{CHART}-{VERSION}.tgz"
)
# The digest Pixie's Helm repository index (gh-pages: helm_charts/operator/index.yaml) publishes for it.
SHA256 = "ccce762b13a883bf63ebc7a084424a362b77a9dad21b2ef20506c3f1f4db0443"
SECRET = "pixie-deploy-key"  # noqa: S105 (the Secret's name, not a credential)
SECRET_KEY = "deploy-key"  # noqa: S105 (the key in that Secret, as Pixie's operator reads it)
DEFAULT_CLOUD = "withpixie.ai:443"
# Pixie Cloud makes deploy keys as "px-dep-" and a UUID.
KEY_FORMAT = re.compile(r"px-dep-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CLOUD_ADDR = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?:[0-9]{1,5}")
FAKE_NODE = ("kwok.x-k8s.io/node", "fake")

ARTIFACT = Artifact(name=CHART, version=VERSION, kind="helm-chart", source=SOURCE, sha256=SHA256)


def check_key(key: str | None, where: str) -> str:
    """The deploy key, checked; a message never shows it (nor any part of it)."""
    if key is None or not key.strip():
        raise InvalidInput(
            "Pixie needs a deploy key, and none was given",
            "create one in Pixie Cloud (`px deploy-key create`), then pass --deploy-key-file FILE, "
            "--deploy-key KEY or PX_DEPLOY_KEY",
        )
    key = key.strip()
    if not KEY_FORMAT.fullmatch(key):
        raise InvalidInput(
            f"the deploy key from {where} is not a Pixie deploy key (px-dep- and a UUID); it is not shown",
            "copy it again from `px deploy-key create` or Pixie Cloud's admin page",
        )
    return key


def read_key_file(path: Path) -> str:
    from kurator.core import inputs

    return inputs.read_text(path, "deploy-key file", 4096)


def check_cloud(addr: str) -> str:
    if not _CLOUD_ADDR.fullmatch(addr) or not 0 < int(addr.rsplit(":", 1)[1]) < 65536:
        raise InvalidInput(f"--cloud-addr {addr[:80]!r} is not host:port", f"e.g. {DEFAULT_CLOUD}")
    return addr


def _without_hooks(key: str, namespace: str) -> Any:
    """The rendered chart without Helm's hooks (its pre-delete Jobs run only under `helm uninstall`), and
    with the Secret that holds the deploy key."""

    def adapt(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = [d for d in docs if "helm.sh/hook" not in ((d.get("metadata") or {}).get("annotations") or {})]
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SECRET, "namespace": namespace},
            "type": "Opaque",
            "data": {SECRET_KEY: base64.b64encode(key.encode()).decode()},
        }
        return [*kept, secret]

    return adapt


async def _health(target: Target) -> list[Check]:
    """The Vizier the operator reports Healthy (it is connected to Pixie Cloud); on fake kwok nodes, where
    no Pixie pod runs, what does not run is said."""
    nodes = await target.read.list("v1", "Node")
    key, value = FAKE_NODE
    if nodes and all(((n.get("metadata") or {}).get("annotations") or {}).get(key) == value for n in nodes):
        return [Check("vizier", True, "fake kwok nodes: Pixie's pods never run there, so no Vizier connects")]
    viziers = [r for r in target.objects if r.kind == "Vizier"]
    if not viziers:
        return [Check("vizier", False, "no Vizier installed")]
    live = await target.read.get(viziers[0].api_version, "Vizier", viziers[0].name, viziers[0].namespace)
    phase = ((live or {}).get("status") or {}).get("vizierPhase") or "not reported yet"
    return [Check("vizier", phase == "Healthy", f"phase {phase}")]


COMPONENT = Component(
    name="pixie",
    description=f"Pixie's Vizier through its operator chart {VERSION} (OLM, the operator, a Vizier each)",
    artifact=ARTIFACT,
    namespace="px",
    health=_health,
)


def component(
    key: str, cloud_addr: str = DEFAULT_CLOUD, namespace: str = "px", chart: Path | None = None
) -> Component:
    """Pixie for these options. ``chart``: a chart folder or archive on this machine instead of the pinned
    release (its sha256 is taken now and checked when it is used)."""
    from kurator.fleet import artifacts

    artifact = ARTIFACT
    if chart is not None:
        if not chart.exists():
            raise InvalidInput(f"--chart {chart} does not exist")
        digest = artifacts.digest(chart)
        artifact = Artifact(
            CHART, f"local-{digest[:12]}", "helm-chart", f"{artifacts.FILE_PREFIX}{chart}", digest
        )
    # clusterName rendered (so that each member's OverridePolicy has a value to replace), "unset" on Karmada.
    values = {
        "cloudAddr": cloud_addr,
        "customDeployKeySecret": SECRET,
        "deployKey": "",
        "clusterName": "unset",
    }
    return dataclasses.replace(
        COMPONENT,
        artifact=artifact,
        namespace=namespace,
        values=values,
        per_cluster=(PerCluster("px.dev/v1alpha1", "Vizier", "pixie", "/spec/clusterName", lambda m: m),),
        adapt=_without_hooks(key, namespace),
    )
