"""Short-lived ServiceAccount tokens from a cluster's TokenRequest API (what the kubelet mounts into a Pod),
for a process kurator runs in a Pod's stead."""

from __future__ import annotations

from lightkube.models.authentication_v1 import TokenRequestSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ServiceAccount

from kurator.kube.client import Client


def request(api: Client, account: str, namespace: str, audience: str | None, seconds: int) -> str:
    """A token of ServiceAccount ``namespace/account`` valid for ``seconds`` (for ``audience`` when given)."""
    spec = TokenRequestSpec(audiences=[audience] if audience else [], expirationSeconds=seconds)
    body = ServiceAccount.Token(metadata=ObjectMeta(name=account, namespace=namespace), spec=spec)
    got = api.create(body, name=account, namespace=namespace)
    if got.status is None:
        raise ValueError(f"the TokenRequest of {namespace}/{account} came back without a token")
    return str(got.status.token)
