"""What the pinned Kubespray release can install: the one place the API's rules (and later the operator)
take supported Kubernetes versions and network plugins from.

Versions are the keys of ``kubelet_checksums.amd64`` in Kubespray's
``roles/kubespray_defaults/vars/main/checksums.yml`` at the pinned tag; network plugins are the roles under
``roles/network_plugin/`` that install a CNI on their own (``cni``, ``custom_cni``, ``multus`` and
``ovn4nfv`` are left out: they need more configuration than a type name). Kurator's list also had canal and
weave, which Kubespray no longer ships.
"""

KUBESPRAY_VERSION = "v2.31.0"
KUBESPRAY_IMAGE_REPOSITORY = "quay.io/kubespray/kubespray"

KUBERNETES_VERSIONS: tuple[str, ...] = (
    *(f"v1.33.{p}" for p in range(12)),
    *(f"v1.34.{p}" for p in range(8)),
    *(f"v1.35.{p}" for p in range(5)),
)

NETWORK_PLUGINS: tuple[str, ...] = ("calico", "cilium", "flannel", "kube-ovn", "kube-router")

# The Kubespray release that installs (and upgrades to) each Kubernetes minor version. One release covers
# every version the API accepts today; when a newer pin is added, older minors keep the release that
# installed them, as Kurator did (v2.20.0 below 1.24, v2.22.1 from 1.24).
RELEASE_FOR_MINOR: dict[str, str] = {
    "v1.33": KUBESPRAY_VERSION,
    "v1.34": KUBESPRAY_VERSION,
    "v1.35": KUBESPRAY_VERSION,
}


def image_for(kubernetes_version: str) -> str:
    """The Kubespray image that installs ``kubernetes_version`` (``v1.35.4``); KeyError for a minor no
    pinned release installs (the API refuses those before they get here)."""
    minor = kubernetes_version.rsplit(".", 1)[0]
    return f"{KUBESPRAY_IMAGE_REPOSITORY}:{RELEASE_FOR_MINOR[minor]}"


def describe_versions(versions: tuple[str, ...] = KUBERNETES_VERSIONS) -> str:
    """The versions in few words: ``v1.33.0 to v1.33.11, v1.34.0 to v1.34.7 or v1.35.0 to v1.35.4``."""
    by_minor: dict[str, list[int]] = {}
    for v in versions:
        minor, patch = v.rsplit(".", 1)
        by_minor.setdefault(minor, []).append(int(patch))
    parts = []
    for minor, patches in by_minor.items():
        patches.sort()
        if patches == list(range(patches[0], patches[-1] + 1)) and len(patches) > 1:
            parts.append(f"{minor}.{patches[0]} to {minor}.{patches[-1]}")
        else:
            parts.extend(f"{minor}.{p}" for p in patches)
    return ", ".join(parts[:-1]) + f" or {parts[-1]}" if len(parts) > 1 else parts[0]
