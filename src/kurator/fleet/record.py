"""What kurator installed, kept on Karmada's API server (ConfigMap ``kube-system/kurator-component-<name>``,
a namespace Karmada never propagates) so uninstall and upgrades know exactly what to remove, even without
the artifact at hand."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kurator.core import inputs
from kurator.core.errors import InvalidInput, KuratorError
from kurator.fleet.desired import MANAGED_BY, Ref
from kurator.kube import ops
from kurator.kube.client import Client
from kurator.kube.records import read_data
from kurator.kube.resources import ConfigMap, ObjectMeta

NAMESPACE = "kube-system"
RECORD_LABEL = "kurator.dev/record-of"
INSTALLED, INSTALLING, FAILED = "installed", "installing", "failed"


@dataclass
class Record:
    component: str
    version: str
    refs: list[Ref] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    placement: str = "members"  # "host": applied straight to the cluster that holds this record
    # Values given with --set, kept so that a re-run without them changes nothing (--reset-values drops
    # them). Only what people typed: values kurator derives (object stores, fleets) are never kept here.
    values: dict[str, Any] = field(default_factory=dict)
    state: str = INSTALLED
    """INSTALLING while a run writes (a run cut short leaves it so), FAILED when one did not finish."""
    reason: str = ""
    """Why the last run failed."""
    # What each member holds, for a component whose members differ (Component.variants); empty when every
    # member holds every template.
    per_member: dict[str, list[Ref]] = field(default_factory=dict)

    def data(self) -> dict[str, str]:
        data = {
            "version": self.version,
            "placement": self.placement,
            "objects": json.dumps([r.to_json() for r in sorted(set(self.refs))], indent=1),
            "targets": json.dumps(sorted(self.targets)),
            "state": self.state,
        }
        if self.values:
            data["values"] = json.dumps(self.values, sort_keys=True)
        if self.reason:
            data["reason"] = self.reason
        if self.per_member:
            data["per-member"] = json.dumps(
                {m: [r.to_json() for r in sorted(set(refs))] for m, refs in sorted(self.per_member.items())}
            )
        return data

    def held_by(self, member: str) -> list[Ref]:
        """What ``member`` holds of this install (policies included, as the record lists them)."""
        if self.per_member:
            return list(self.per_member.get(member, []))
        return list(self.refs)


def name_of(component: str) -> str:
    return f"kurator-component-{component}"


def load(api: Client, component: str) -> Record | None:
    data = read_data(api, NAMESPACE, name_of(component))
    return None if data is None else parse(component, data)


def parse(component: str, data: dict[str, str]) -> Record:
    """A record from its ConfigMap's data; a damaged one is named as such."""
    label = f"the record of {component} ({NAMESPACE}/{name_of(component)})"
    try:
        return Record(
            component,
            data.get("version", ""),
            [Ref.from_json(r) for r in inputs.load_json(data.get("objects", "[]"), label)],
            list(inputs.load_json(data.get("targets", "[]"), label)),
            data.get("placement", "members"),
            dict(inputs.load_json(data.get("values", "{}"), label)),
            data.get("state", INSTALLED),  # records of earlier versions were written once installed
            data.get("reason", ""),
            {
                m: [Ref.from_json(r) for r in refs]
                for m, refs in dict(inputs.load_json(data.get("per-member", "{}"), label)).items()
            },
        )
    except (InvalidInput, KeyError, TypeError, ValueError, AttributeError) as exc:
        why = exc.message if isinstance(exc, InvalidInput) else f"{label} lacks {exc}"
        raise KuratorError(
            f"{why}: it was edited or damaged", f"restore it, or delete it and remove {component}'s objects"
        ) from None


def list_all(api: Client) -> list[Record]:
    out = []
    for cm in api.list(ConfigMap, namespace=NAMESPACE, labels={RECORD_LABEL: None}):
        component = (cm.metadata.labels or {}).get(RECORD_LABEL) if cm.metadata else None
        if component and (rec := load(api, component)):
            out.append(rec)
    return sorted(out, key=lambda r: r.component)


def save(api: Client, record: Record) -> bool:
    """Write the record if it differs from what is stored; returns whether it wrote."""
    current = load(api, record.component)
    if current is not None and current.data() == record.data():
        return False
    cm = ConfigMap(
        metadata=ObjectMeta(
            name=name_of(record.component),
            namespace=NAMESPACE,
            labels={MANAGED_BY: "kurator", RECORD_LABEL: record.component},
        ),
        data=record.data(),
    )
    api.apply(cm, force=True)
    return True


def delete(api: Client, component: str) -> None:
    ops.delete_if_present(api, ConfigMap, name_of(component), namespace=NAMESPACE)
