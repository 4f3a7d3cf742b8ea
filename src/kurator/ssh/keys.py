"""The private key a cluster's hosts accept, read once from a Secret's bytes, and the guard that keeps its
text out of every message built from it.

asyncssh never puts key material into its exceptions or logs; ``PrivateKey.redact`` is a second guard for
text that comes from elsewhere (a server's disconnect reason, an unexpected exception).
"""

from __future__ import annotations

import asyncssh

from kurator.core.errors import InvalidInput

REDACTED = "<redacted>"
# Shorter lines of a key file are armour ("-----BEGIN ...") or padding, not key material.
_MIN_FRAGMENT = 16


class PrivateKey:
    """An imported private key. Its ``repr`` names only the algorithm and the public fingerprint."""

    __slots__ = ("_fragments", "key")

    def __init__(self, key: asyncssh.SSHKey, material: str) -> None:
        self.key = key
        lines = [line.strip() for line in material.splitlines()]
        fragments = {line for line in lines if len(line) >= _MIN_FRAGMENT and not line.startswith("-----")}
        if material.strip():
            fragments.add(material.strip())
        self._fragments = tuple(sorted(fragments, key=len, reverse=True))

    @property
    def fingerprint(self) -> str:
        return self.key.get_fingerprint()

    def redact(self, text: str) -> str:
        for fragment in self._fragments:
            text = text.replace(fragment, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"PrivateKey({self.key.get_algorithm()}, {self.fingerprint})"


def _problem(exc: Exception, text: str) -> str:
    """Why the import failed, from asyncssh's message (which names the format problem, never the key)."""
    reason = str(exc)
    if isinstance(exc, asyncssh.KeyEncryptionError) or "ncrypt" in reason or "assphrase" in reason:
        return "it is protected by a passphrase"
    if text.lstrip().startswith(("ssh-", "ecdsa-", "sk-", "-----BEGIN PUBLIC", "---- BEGIN SSH2 PUBLIC")):
        return "it is a public key; the Secret must hold the private one"
    return "it is not an OpenSSH, PEM or PKCS#8 private key"


def load_private_key(material: bytes | str) -> PrivateKey:
    """``material`` as stored in the Secret (OpenSSH, PEM or PKCS#8, unencrypted: the operator has nobody
    to ask for a passphrase); InvalidInput that never quotes it."""
    text = material.decode("utf-8", "replace") if isinstance(material, bytes) else material
    problem = ""
    try:
        key = asyncssh.import_private_key(material)
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
        problem = _problem(exc, text)
    if problem:
        # Raised outside the except block, so no exception chain carries anything of the material along.
        raise InvalidInput(
            f"the SSH private key cannot be read: {problem}",
            "store an unencrypted OpenSSH or PEM private key in the Secret (`ssh-keygen -t ed25519 -N ''`)",
        )
    return PrivateKey(key, text)
