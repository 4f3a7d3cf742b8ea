"""Thanos's object-store config file (``--objstore.config-file``): parsed and checked once, rendered for the
Secrets and files the components read, described without its secrets.

S3 (AWS, MinIO and other S3-compatible stores) is checked field by field (the model: ``s3store``), and its
bucket is asked for live (``bucketcheck``); every other type Thanos supports (GCS, AZURE, SWIFT, COS,
ALIYUNOSS, BOS, OBS, OCI, FILESYSTEM: ``objstore_types``) is checked for the fields its client needs and
passed through as written. A bad file fails at ``kurator install`` time with a sentence
a person understands, not later in a pod's log. No message built here ever holds a credential: messages name
the field and the rule, not the value, and every one passes through ``scrub`` as a second guard.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from kurator.core import inputs
from kurator.core.errors import InvalidInput
from kurator.monitoring import objstore_types
from kurator.monitoring.s3store import REDACTED, SECRET_FIELDS, ObjectStore, virtual_hosted

__all__ = [
    "ObjectStore",
    "OtherStore",
    "Store",
    "describe",
    "parse",
    "parse_s3",
    "render",
    "scrub",
    "to_dict",
]


class OtherStore(BaseModel):
    """A store of another type than S3, as written (its fields checked by ``objstore_types``)."""

    model_config = ConfigDict(frozen=True)

    type: str
    config: dict[str, Any]
    prefix: str = ""

    @property
    def secrets(self) -> list[str]:
        return objstore_types.secrets(objstore_types.TYPES[self.type], self.config)


Store = ObjectStore | OtherStore


def _other(data: dict[str, Any], source_name: str) -> OtherStore | None:
    """The store when ``data`` names a type other than S3 that Thanos supports; None for S3."""
    raw = data.get("type")
    name = raw.upper() if isinstance(raw, str) else ""
    name = objstore_types.ALIASES.get(name, name)
    if name == "S3":
        return None
    kind = objstore_types.TYPES.get(name)
    config = data.get("config")
    hidden = _raw_secrets(data) + (
        objstore_types.secrets(kind, config) if kind and isinstance(config, dict) else []
    )

    def refuse(problem: str, hint: str = _HINT) -> InvalidInput:
        return InvalidInput(scrub(f"{source_name}: {problem}", hidden), hint)

    if kind is None:
        shown = repr(raw)[:40] if isinstance(raw, str) else "missing" if raw is None else type(raw).__name__
        supported = ", ".join(["S3", *objstore_types.TYPES])
        raise refuse(f"type is {shown}, which Thanos does not support", f"supported: {supported}; {_HINT}")
    if not isinstance(config, dict):
        raise refuse(f"config must be a mapping of the {kind.title} store's fields")
    if extra := sorted(str(k) for k in set(data) - {"type", "config", "prefix"}):
        raise refuse(f"{', '.join(extra)[:60]} is not a field of an object-store config")
    prefix = data.get("prefix", "")
    if not isinstance(prefix, str):
        raise refuse("prefix must be a string")
    if found := objstore_types.problems(kind, config):
        problem = f"not a usable {kind.title} ({kind.name}) config: " + "; ".join(found)
        raise refuse(problem, objstore_types.hint(kind))
    return OtherStore(type=kind.name, config=config, prefix=prefix)


# ---- parsing ---------------------------------------------------------------------------------------------

_HINT = "the file is Thanos's object-store config: type: S3, config: {bucket, endpoint, access_key, ...}"


class _UniqueKeyLoader(yaml.SafeLoader):
    """Refuses duplicate keys, as Thanos's strict YAML parsing does (PyYAML would keep the last one)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            continue  # construct_mapping below reports it
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {str(key)[:40]} appears twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def scrub(text: str, secrets: Iterable[str]) -> str:
    # Values shorter than four characters are no real credential, and replacing them would garble words.
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _raw_secrets(data: Any) -> list[str]:
    """Whatever stands under a credential key, even in a file that fails validation."""
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        return []
    return [str(config[k]) for k in SECRET_FIELDS if config.get(k) not in (None, "")]


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _messages(exc: ValidationError) -> list[str]:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    missing = {_field(e["loc"]) for e in errors if e["type"] == "missing"}
    out: list[str] = []
    if {"config.access_key", "config.secret_key"} & missing:
        both = " and ".join(f for f in ("config.access_key", "config.secret_key") if f in missing)
        out.append(
            f"credentials are missing ({both}): kurator needs the store's access key and secret key in "
            "this file, as the same file serves pods and the local fleet"
        )
    for e in errors:
        where, kind = _field(e["loc"]), e["type"]
        if where in ("config.access_key", "config.secret_key") and kind == "missing":
            continue
        if kind == "missing":
            out.append(f"{where} is missing{_MISSING_HINT.get(where, '')}")
        elif kind == "extra_forbidden":
            out.append(f"{where[:60]} is not a field kurator knows (Thanos refuses unknown fields too)")
        elif kind == "value_error":
            out.append(f"{where} {e['msg'].removeprefix('Value error, ')}")
        else:
            msg = e["msg"]
            out.append(f"{where}: {msg[:1].lower()}{msg[1:]}")
    return out


_MISSING_HINT = {
    "type": ": it must be S3",
    "config": ": it holds bucket, endpoint, access_key and secret_key",
    "config.bucket": ": name the bucket Thanos keeps its blocks in",
    "config.endpoint": ": give the store's address as host or host:port",
}


def parse(text: str, source_name: str) -> Store:
    """The object store described by ``text`` (read from ``source_name``, which messages name).

    Raises InvalidInput with every problem found, in one message without any credential."""
    try:
        data = inputs.load_yaml(text, source_name, _UniqueKeyLoader)
    except InvalidInput as exc:  # its messages never quote the file (see inputs.yaml_problem)
        raise InvalidInput(exc.message, exc.hint or _HINT) from None
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{source_name} must be a mapping with the keys type and config, not "
            f"{'an empty file' if data is None else type(data).__name__}",
            _HINT,
        )
    if (other := _other(data, source_name)) is not None:
        return other
    try:
        return ObjectStore.model_validate(data)
    except ValidationError as exc:
        message = f"{source_name} is not a usable object-store config: " + "; ".join(_messages(exc))
        raise InvalidInput(scrub(message, _raw_secrets(data)), _HINT) from None


def parse_s3(text: str, source_name: str) -> ObjectStore:
    """As ``parse``, for a caller that serves S3 only (the local fleet's stand-in store)."""
    store = parse(text, source_name)
    if not isinstance(store, ObjectStore):
        raise InvalidInput(f"{source_name} must be an S3 store, not {store.type}")
    return store


# ---- rendering -------------------------------------------------------------------------------------------


def to_dict(store: Store) -> dict[str, Any]:
    """The file as Thanos reads it, credentials in clear. Only the fields that were given, so the rendered
    text stays what the user wrote, in kurator's key order."""
    if isinstance(store, OtherStore):
        return {
            "type": store.type,
            "config": store.config,
            **({"prefix": store.prefix} if store.prefix else {}),
        }
    data = store.model_dump(exclude_unset=True, exclude_none=True)
    config = data["config"]
    for key in SECRET_FIELDS:
        if isinstance(config.get(key), SecretStr):
            config[key] = config[key].get_secret_value()
    out = {"type": store.type, "config": config}
    if "prefix" in data:
        out["prefix"] = data["prefix"]
    return out


def render(store: Store) -> str:
    """The YAML Thanos reads, credentials included: only for a Secret or a file of mode 0600."""
    return yaml.safe_dump(to_dict(store), sort_keys=False, default_flow_style=False)


def describe(store: Store) -> str:
    """One line about the store that is safe to print or log."""
    if isinstance(store, OtherStore):
        kind = objstore_types.TYPES[store.type]
        where = next(
            (
                str(store.config[k])
                for k in ("bucket", "container", "container_name", "directory")
                if store.config.get(k)
            ),
            "",
        )
        prefix = f", prefix {store.prefix!r}" if store.prefix else ""
        return scrub(f"{kind.title} ({store.type}) {where!r}{prefix}; credentials hidden", store.secrets)
    c = store.config
    prefix = f", prefix {store.prefix!r}" if store.prefix else ""
    lookup = "virtual-hosted" if virtual_hosted(c) else "path-style"
    return scrub(
        f"S3 bucket {c.bucket!r} at {c.endpoint} ({'http' if c.insecure else 'https'}, {lookup}, region "
        f"{c.region or 'not set'}{prefix}; credentials hidden)",
        store.secrets,
    )
