"""What a healthy Istio mesh is on each cluster, beyond objects that report ready and webhooks that answer:
istiod has synced the cluster. istiod publishes the mesh's root (ConfigMap ``istio-ca-root-cert``) into every
namespace of every cluster it controls, the primary through its own account and each remote through that
remote's secret: its presence in a remote's ``istio-system`` is istiod reporting that remote synced."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kurator.fleet.component import Check, Target

if TYPE_CHECKING:
    from kurator.components.istio import Mesh

NAMESPACE = "istio-system"
ROOT_CONFIGMAP = "istio-ca-root-cert"


async def check(target: Target, mesh: Mesh | None = None) -> list[Check]:
    """With ``mesh`` (during an install), a remote whose remote secret a later pass makes is not yet
    expected to be synced."""
    if mesh is not None and target.name != mesh.primary and target.name not in mesh.readers:
        return []
    found = await target.read.get("v1", "ConfigMap", ROOT_CONFIGMAP, NAMESPACE)
    if found is None or not (found.get("data") or {}).get("root-cert.pem"):
        return [Check("istiod", False, f"has not synced this cluster yet (no {ROOT_CONFIGMAP} from it)")]
    return [Check("istiod", True, f"synced ({ROOT_CONFIGMAP} published)")]
