"""Validation rules written once: each is a CEL rule that the API server enforces
(``x-kubernetes-validations`` in the generated CRD) and the same check in Python with the same message, so
the CLI can refuse bad input before sending it. The API server is the boundary; Python is a courtesy.

A rule is attached to a field (or a model) as ``Annotated`` metadata, ``Cel(rule, ...)``: pydantic then runs
its Python check after the field's own validation and writes its CEL into the field's JSON schema.
Transition rules (those using ``oldSelf``) need the stored object, so Python runs them only through
:func:`update_problems`.
"""

from __future__ import annotations

import ipaddress
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# DNS-1123 names as Kubernetes checks them; the same text is a valid RE2 (CEL) and Python pattern.
DNS1123_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS1123_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
LABEL_VALUE = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
IP_MAX = 45  # the longest textual IPv6 address
CIDR_MAX = IP_MAX + 4


@dataclass(frozen=True)
class Say:
    """A message that names values, written once: each ``{placeholder}`` of ``template`` is a CEL expression
    for the API server (``messageExpression``) and a Python function of the checked value(s) for kurator.

    The API server estimates a message's cost from the longest string it can produce, so a placeholder must
    be a string field with a maxLength: a converted value (``string(...)``) has no bound and is refused."""

    template: str
    values: dict[str, tuple[str, Callable[..., Any]]]

    def cel(self) -> str:
        parts = re.split(r"\{(\w+)\}", self.template)
        out = []
        for i, part in enumerate(parts):
            if i % 2:
                out.append(self.values[part][0])
            elif part:
                out.append('"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"')
        return " + ".join(out)

    def text(self, *args: Any) -> str:
        return self.template.format(**{k: fn(*args) for k, (_, fn) in self.values.items()})


def says(template: str, **values: tuple[str, Callable[..., Any]]) -> Say:
    """A message about ``{self}`` (the checked value) and any other named values."""
    return Say(template, {"self": ("self", lambda v: v), **values})


def says_of_update(template: str, **values: tuple[str, Callable[..., Any]]) -> Say:
    """A message about an update: ``{old}`` is the stored value, ``{new}`` the one sent."""
    return Say(
        template, {"old": ("oldSelf", lambda old, _: old), "new": ("self", lambda _, new: new), **values}
    )


@dataclass(frozen=True)
class Rule:
    """A rule on one value (``self`` in CEL); ``check`` is its Python twin (true: the value passes).
    ``message`` is the API server's fallback when ``say`` (the message naming values) cannot be evaluated."""

    cel: str
    message: str
    check: Callable[[Any], bool]
    say: Say | None = None
    field_path: str | None = None

    def problem(self, value: Any) -> str | None:
        if self.check(value):
            return None
        return self.say.text(value) if self.say else self.message

    def openapi(self) -> dict[str, str]:
        return _openapi(self.cel, self.message, self.say, self.field_path)


@dataclass(frozen=True)
class TransitionRule:
    """A rule on an update: ``self`` is the new value, ``oldSelf`` the stored one; the API server applies it
    only when both exist. Python functions of ``say`` take (old, new)."""

    cel: str
    message: str
    check: Callable[[Any, Any], bool]
    say: Say | None = None
    field_path: str | None = None

    def problem(self, old: Any, new: Any) -> str | None:
        if self.check(old, new):
            return None
        return self.say.text(old, new) if self.say else self.message

    def openapi(self) -> dict[str, str]:
        return _openapi(self.cel, self.message, self.say, self.field_path)


def _openapi(rule: str, message: str, say: Say | None, field_path: str | None) -> dict[str, str]:
    out = {"rule": rule, "message": message}
    if say:
        out["messageExpression"] = say.cel()
    if field_path:
        out["fieldPath"] = field_path
    return out


class Cel:
    """``Annotated`` metadata carrying the rules of a field or a model."""

    def __init__(self, *rules: Rule | TransitionRule) -> None:
        self.rules = rules

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = dict(handler(schema))
        out["x-kubernetes-validations"] = [
            *out.get("x-kubernetes-validations", []),
            *(r.openapi() for r in self.rules),
        ]
        return out

    def _validate(self, value: Any) -> Any:
        if value is None:  # the API server skips rules on absent fields
            return value
        problems = [p for r in self.rules if isinstance(r, Rule) and (p := r.problem(value))]
        if problems:
            raise PydanticCustomError("kubernetes_rule", "{problems}", {"problems": "; ".join(problems)})
        return value


def _cels(info: FieldInfo) -> list[Cel]:
    """The ``Cel`` metadata of a field, also when it sits inside ``Annotated[...] | None``."""
    found = [m for m in info.metadata if isinstance(m, Cel)]
    if isinstance(info.annotation, types.UnionType) or typing.get_origin(info.annotation) is typing.Union:
        for arg in typing.get_args(info.annotation):
            if typing.get_origin(arg) is typing.Annotated:
                found += [m for m in arg.__metadata__ if isinstance(m, Cel)]
    return found


def update_problems(old: BaseModel, new: BaseModel, path: str = "") -> list[str]:
    """What the API server's transition rules would refuse in changing ``old`` into ``new``, each as
    ``<field path>: <message>``."""
    out: list[str] = []
    for name, info in type(new).model_fields.items():
        before, after = getattr(old, name, None), getattr(new, name)
        where = f"{path}.{info.alias or name}".lstrip(".")
        if before is not None and after is not None:
            for cel in _cels(info):
                for rule in cel.rules:
                    if isinstance(rule, TransitionRule) and (problem := rule.problem(before, after)):
                        out.append(f"{where}: {problem}")
        if isinstance(before, BaseModel) and isinstance(after, BaseModel):
            out += update_problems(before, after, where)
    return out


# Python twins of the CEL functions the rules use (Kubernetes' IP and CIDR libraries, 1.31+).


def is_ip(value: str) -> bool:
    """CEL ``isIP``: no zone, no IPv4-mapped IPv6, no leading zeros."""
    if "%" in value:
        return False
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not (isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None)


def is_cidr(value: str) -> bool:
    """CEL ``isCIDR``: an address, a slash and a prefix length."""
    address, _, prefix = value.partition("/")
    if not (is_ip(address) and re.fullmatch(r"0|[1-9][0-9]{0,2}", prefix)):
        return False
    return int(prefix) <= ipaddress.ip_address(address).max_prefixlen


def is_reachable_ip(value: str) -> bool:
    """An address another machine could use: not loopback, not unspecified."""
    if not is_ip(value):
        return True  # another rule reports it
    addr = ipaddress.ip_address(value)
    return not (addr.is_loopback or addr.is_unspecified)


def host_bits_clear(value: str) -> bool:
    """CEL ``cidr(v) == cidr(v).masked()``."""
    network = ipaddress.ip_network(value, strict=False)
    return network.network_address == ipaddress.ip_address(value.partition("/")[0])


def overlap(a: str, b: str) -> bool:
    return ipaddress.ip_network(a, strict=False).overlaps(ipaddress.ip_network(b, strict=False))


# Rules several fields share; ``field`` names the field in the message.

_SUBDOMAIN_CHARS = "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
_LABEL_CHARS = "lowercase letters, digits and '-', starting and ending with a letter or digit"


def dns_subdomain(field: str, what: str) -> Rule:
    return Rule(
        cel=f"self.matches('{DNS1123_SUBDOMAIN}')",
        message=f"{field} must be {what}: {_SUBDOMAIN_CHARS}",
        check=lambda v: re.fullmatch(DNS1123_SUBDOMAIN, v) is not None,
        say=says(f"{field} '{{self}}' is not {what}: {_SUBDOMAIN_CHARS}"),
    )


def dns_label(field: str, what: str) -> Rule:
    return Rule(
        cel=f"self.matches('{DNS1123_LABEL}')",
        message=f"{field} must be {what}: {_LABEL_CHARS}",
        check=lambda v: re.fullmatch(DNS1123_LABEL, v) is not None,
        say=says(f"{field} '{{self}}' is not {what}: {_LABEL_CHARS}"),
    )


def ip_address(field: str) -> tuple[Rule, Rule]:
    """A valid IPv4 or IPv6 address that other machines can reach."""
    examples = "an IPv4 address such as 192.0.2.10 or an IPv6 address such as 2001:db8::10"
    return (
        Rule(
            cel="isIP(self)",
            message=f"{field} must be {examples}",
            check=is_ip,
            say=says(f"{field} '{{self}}' is not an IP address: write {examples}"),
        ),
        Rule(
            cel="!isIP(self) || !(ip(self).isLoopback() || ip(self).isUnspecified())",
            message=f"{field} must not be a loopback or unspecified address: other machines must reach it",
            check=is_reachable_ip,
            say=says(
                f"{field} {{self}} is a loopback or unspecified address, which other hosts cannot reach"
            ),
        ),
    )


def cidr(field: str, example: str) -> tuple[Rule, Rule]:
    """A valid CIDR whose host bits are zero."""
    return (
        Rule(
            cel="isCIDR(self)",
            message=f"{field} must be an address range such as {example}",
            check=is_cidr,
            say=says(f"{field} '{{self}}' is not an address range: write one such as {example}"),
        ),
        Rule(
            cel="!isCIDR(self) || cidr(self) == cidr(self).masked()",
            message=f"{field} must not have bits set after its prefix length",
            check=lambda v: not is_cidr(v) or host_bits_clear(v),
            say=says(
                f"{field} {{self}} has bits set after its prefix length: start the range at its network "
                f"address, as {example} does"
            ),
        ),
    )


def immutable(field: str, why: str) -> TransitionRule:
    return TransitionRule(
        cel="self == oldSelf",
        message=f"{field} cannot be changed once set: {why}",
        check=lambda old, new: old == new,
    )
