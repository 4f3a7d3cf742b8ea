"""The fleet's global view for fleet commands: where its Thanos Query serves (recorded on Karmada's API
server), the client certificate it asks for (recorded beside it, in a Secret), and a sender for
:mod:`kurator.monitoring.query`'s requests, each with an overall deadline."""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path

from kurator.core.errors import KuratorError
from kurator.kube import http
from kurator.kube.client import Client
from kurator.kube.deadline import DEFAULT_REQUEST_TIMEOUT
from kurator.kube.errors import NoAnswer
from kurator.kube.records import read_data, read_secret_data, record_doc
from kurator.monitoring import query


def query_url(api: Client) -> str | None:
    """Where the fleet's Thanos Query serves, as recorded on the Karmada API server; None if unknown."""
    data = read_data(api, query.RECORD_NAMESPACE, query.RECORD_NAME)
    return (data or {}).get(query.RECORD_KEY) or None


def record(url: str) -> dict[str, object]:
    """The ConfigMap that tells fleet commands where Thanos Query serves."""
    return record_doc(query.RECORD_NAMESPACE, query.RECORD_NAME, {query.RECORD_KEY: url})


def client_tls(api: Client) -> ssl.SSLContext | None:
    """TLS with the client certificate recorded for the fleet's Thanos Query (server checked against the
    recorded CA); ``None`` when none is recorded."""
    data = read_secret_data(api, query.RECORD_NAMESPACE, query.CLIENT_SECRET_NAME)
    if not data:
        return None
    try:
        return tls_from(data)
    except (KeyError, ValueError, ssl.SSLError) as exc:
        raise KuratorError(
            f"the Secret {query.RECORD_NAMESPACE}/{query.CLIENT_SECRET_NAME} on Karmada's API server does "
            f"not hold a usable client certificate ({type(exc).__name__})",
            "if it is a local fleet's, `kurator local up` writes it again",
        ) from None


def tls_from(data: Mapping[str, bytes]) -> ssl.SSLContext:
    """TLS from PEM data: the server checked against ``ca.crt``, ``tls.crt``/``tls.key`` presented."""
    tls = ssl.create_default_context(cadata=data["ca.crt"].decode())
    # ssl loads a client certificate from files only: a private folder that lives for this call.
    with tempfile.TemporaryDirectory(prefix="kurator-query-") as tmp:
        cert, key = Path(tmp) / "tls.crt", Path(tmp) / "tls.key"
        cert.write_bytes(data["tls.crt"])
        key.write_bytes(data["tls.key"])  # the folder is 0700: no one else reads it meanwhile
        tls.load_cert_chain(str(cert), str(key))
    return tls


def sender(timeout: float | None = DEFAULT_REQUEST_TIMEOUT, tls: ssl.SSLContext | None = None) -> query.Get:
    """Thanos Query's answers, whatever their status (the query module reads its error bodies); no answer
    at all, or none within ``timeout``, raises :mod:`kurator.kube.errors`'s exceptions. ``tls`` is what
    to check the server against and present to it (``client_tls``)."""
    verify: ssl.SSLContext | bool = tls if tls is not None else True

    def get(url: str, params: Mapping[str, str]) -> tuple[int, bytes]:
        try:
            answer = http.get(
                url, what="querying Thanos Query", params=params, timeout=timeout, check=False, verify=verify
            )
        except NoAnswer as exc:
            exc.hint = (
                "check that the fleet's monitoring runs (`kurator get components`; for a local fleet "
                "`kurator local status`), or name Thanos Query's address with --url"
            )
            raise
        return answer.status, answer.body

    return get
