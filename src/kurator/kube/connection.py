"""How a long-running process (the cluster operator) reaches its API server: a kubeconfig and context, or,
in a Pod, its ServiceAccount. The same credentials serve its clients
(:class:`kurator.kube.client.AsyncClient`) and kopf's watches (:meth:`Connection.kopf_credentials`, read
afresh each time: a ServiceAccount token is rotated in its file)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightkube.config.kubeconfig import KubeConfig, SingleConfig

from kurator.core import inputs
from kurator.core.errors import InvalidInput
from kurator.kube import client as kube_client
from kurator.kube.client import AsyncClient

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True)
class Connection:
    kubeconfig: Path | None = None
    """None: the Pod's ServiceAccount."""
    context: str | None = None

    @staticmethod
    def choose(kubeconfig: str | None, context: str | None) -> Connection:
        """An explicit kubeconfig, else the ServiceAccount in a Pod, else ``~/.kube/config``."""
        if kubeconfig:
            return Connection(Path(kubeconfig).expanduser(), context)
        if os.environ.get("KUBERNETES_SERVICE_HOST") and (SERVICE_ACCOUNT / "token").exists():
            return Connection(None, None)
        return Connection(Path.home() / ".kube" / "config", context)

    def config(self) -> SingleConfig:
        if self.kubeconfig is None:
            single = KubeConfig.from_service_account(SERVICE_ACCOUNT).get()
            assert single is not None
            return single
        return kube_client.config(self.kubeconfig, self.context)

    def async_client(self, timeout: float = 30.0, connections: int = 64) -> AsyncClient:
        """A client keeping up to ``connections`` connections open: httpx keeps 20 by default and closes
        the others after each request, so a burst of concurrent calls paid a TLS handshake for most of
        them (on both sides)."""
        return AsyncClient(self.config(), timeout, connections)

    def kopf_credentials(self) -> dict[str, Any]:
        """Keyword arguments of ``kopf.ConnectionInfo`` for the same server and user (read afresh on each
        call: a ServiceAccount token is rotated in its file)."""
        single = self.config()
        cluster, user = single.cluster, single.user
        out: dict[str, Any] = {"server": cluster.server, "insecure": cluster.insecure or None}
        if cluster.certificate_auth_data:
            out["ca_data"] = base64.b64decode(cluster.certificate_auth_data)
        elif cluster.certificate_auth:
            out["ca_path"] = str(single.abs_file(cluster.certificate_auth))
        if user is None:
            return out
        if user.exec or user.auth_provider:
            raise InvalidInput(
                "the operator cannot use a kubeconfig whose user authenticates with a plugin",
                "give it a kubeconfig with a token or a client certificate",
            )
        if user.token_file:
            out["token"] = inputs.read_text(
                single.abs_file(user.token_file), "token file", inputs.MiB
            ).strip()
        elif user.token:
            out["token"] = user.token
        if user.client_cert_data:
            out["certificate_data"] = base64.b64decode(user.client_cert_data)
        elif user.client_cert:
            out["certificate_path"] = str(single.abs_file(user.client_cert))
        if user.client_key_data:
            out["private_key_data"] = base64.b64decode(user.client_key_data)
        elif user.client_key:
            out["private_key_path"] = str(single.abs_file(user.client_key))
        if user.username:
            out["username"], out["password"] = user.username, user.password
        return out
