"""What kurator installed, kept on Karmada's API server (ConfigMap ``kube-system/kurator-component-<name>``,
a namespace Karmada never propagates) so uninstall and upgrades know exactly what to remove, even without
the artifact at hand."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kurator.fleet.desired import MANAGED_BY, Ref
from kurator.kube import ops
from kurator.kube.client import Client
from kurator.kube.records import read_data
from kurator.kube.resources import ConfigMap, ObjectMeta

NAMESPACE = "kube-system"
RECORD_LABEL = "kurator.dev/record-of"


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

    def data(self) -> dict[str, str]:
        data = {
            "version": self.version,
            "placement": self.placement,
            "objects": json.dumps([r.to_json() for r in sorted(set(self.refs))], indent=1),
            "targets": json.dumps(sorted(self.targets)),
        }
        if self.values:
            data["values"] = json.dumps(self.values, sort_keys=True)
        return data


def name_of(component: str) -> str:
    return f"kurator-component-{component}"


def load(api: Client, component: str) -> Record | None:
    data = read_data(api, NAMESPACE, name_of(component))
    if data is None:
        return None
    return Record(
        component,
        data.get("version", ""),
        [Ref.from_json(r) for r in json.loads(data.get("objects", "[]"))],
        json.loads(data.get("targets", "[]")),
        data.get("placement", "members"),
        json.loads(data.get("values", "{}")),
    )


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
