"""AWS Clusters through Cluster API on a local fleet of its own: the real Cluster API and CAPA managers, the
real operator process, moto as the AWS stand-in, the machines played (tests/integration/aws_machines.py).

Prints, for 1 and for N clusters made at once (each 1 master and --workers workers): the time from the
Clusters' creation to infrastructure-ready in the stand-in and to every Machine running (median and max
over the clusters); the resident memory of Cluster API's three managers and CAPA's, idle and with the N
clusters; the time to delete them all and what is left on AWS (tagging API and EC2), which must be nothing.

    sudo .venv/bin/python bench/aws_clusters.py --clusters 10 --workers 2   # root: the fleet's namespace
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Secret

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import aws_cluster_cases as cases
from tests.integration.aws_machines import playing
from tests.integration.capi_helpers import aws, left_on_aws
from tests.integration.helpers import cluster_client
from tests.integration.operatorbed import install_crds
from tests.integration.test_aws_clusters import NetnsOperator

from kurator.binaries import SUPPORTED_KUBERNETES_VERSIONS, resolve
from kurator.local import fleet
from kurator.local.fleet import UpResult, load_records
from kurator.local.processes import rss_bytes

KuratorCluster = create_namespaced_resource("cluster.kurator.dev", "v1alpha1", "Cluster", "clusters")
NS = "bench"
MANAGERS = ("host/capi", "host/capi-kubeadm-bootstrap", "host/capi-kubeadm-control-plane", "host/capa")
ALLOW = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'


def _memory(up: UpResult) -> dict[str, float]:
    records = load_records(up.layout)
    return {name: rss_bytes(records[name]) / 2**20 for name in MANAGERS}


def _status(api: Any, name: str) -> dict[str, Any]:
    st: dict[str, Any] = api.get(KuratorCluster, name, namespace=NS).get("status") or {}
    return st


def _infra_ready(st: dict[str, Any]) -> bool:
    return any(
        c["type"] == "InfrastructureReady" and c["status"] == "True" for c in st.get("conditions") or []
    )


def _round(up: UpResult, count: int, workers: int, tag: str) -> dict[str, Any]:
    api = cluster_client(up, "host")
    names = [f"{tag}-{i}" for i in range(count)]
    with playing(up) as player:
        for name in names:
            player.prepare(NS, name)
        began = time.monotonic()
        for name in names:
            doc = cases.aws(
                name, credential={"secretRef": "bench-aws"}, workers=[cases.worker(replicas=workers)]
            )
            doc["metadata"]["namespace"] = NS
            api.create(KuratorCluster(doc))  # type: ignore[arg-type]
        infra: dict[str, float] = {}
        running: dict[str, float] = {}
        deadline = began + 1800
        while len(running) < count and time.monotonic() < deadline:
            for name in names:
                st = _status(api, name)
                if name not in infra and _infra_ready(st):
                    infra[name] = time.monotonic() - began
                if name not in running and st.get("masters") == 1 and st.get("workers") == workers:
                    running[name] = time.monotonic() - began
            time.sleep(0.5)
        busy = _memory(up)
        t = time.monotonic()
        for name in names:
            api.delete(KuratorCluster, name, namespace=NS)
        while any(c for c in api.list(KuratorCluster, namespace=NS)) and time.monotonic() - t < 1800:
            time.sleep(1)
        deleted = time.monotonic() - t
    left = [f"{name}: {item}" for name in names for item in left_on_aws(up, name)]
    return {"infra": infra, "running": running, "memory": busy, "deleted": deleted, "left": left}


def _spread(values: dict[str, float], count: int) -> str:
    if len(values) < count:
        return f"only {len(values)} of {count} within the deadline"
    return f"median {statistics.median(values.values()):.1f} s, max {max(values.values()):.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="kurator-bench-aws-")) / "fleet"
    up = fleet.up(
        fleet.UpOptions(
            name="benchaws",
            home=home,
            members=1,
            nodes=1,
            karmada=False,
            monitoring=False,
            cluster_api=True,
            api_port=6442,  # member1 answers on 6443, the port a cluster's load balancer forwards to
        ),
        lambda v, k, m: resolve(v, source="build", karmada=k, monitoring=m),
        SUPPORTED_KUBERNETES_VERSIONS,
    )
    operator = None
    try:
        api = cluster_client(up, "host")
        install_crds(api)
        api.create(Namespace(metadata=ObjectMeta(name=NS)))
        iam = aws(up, "iam")
        iam.create_user(UserName="bench")
        iam.put_user_policy(UserName="bench", PolicyName="all", PolicyDocument=ALLOW)
        key = iam.create_access_key(UserName="bench")["AccessKey"]
        data = {"AccessKeyID": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
        api.create(
            Secret(
                metadata=ObjectMeta(name="bench-aws", namespace=NS),
                data={k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
            )
        )
        operator = NetnsOperator(
            up, home.parent / "operator.log", "--namespace", NS, "--operator-namespace", NS
        ).start()
        operator.wait_caught_up(120)
        idle = _memory(up)
        print("idle memory: " + ", ".join(f"{k.split('/')[1]} {v:.0f} MiB" for k, v in idle.items()))
        print(f"  Cluster API's three + CAPA: {sum(idle.values()):.0f} MiB")
        for count in (1, args.clusters):
            r = _round(up, count, args.workers, f"c{count}")
            print(f"{count} cluster(s), 1 master + {args.workers} workers each:")
            print(f"  created -> infrastructure ready: {_spread(r['infra'], count)}")
            print(f"  created -> every Machine running: {_spread(r['running'], count)}")
            print(
                "  memory with them: "
                + ", ".join(f"{k.split('/')[1]} {v:.0f} MiB" for k, v in r["memory"].items())
                + f" (together {sum(r['memory'].values()):.0f} MiB)"
            )
            print(f"  deleted in {r['deleted']:.1f} s; AWS resources left: {len(r['left'])}")
            for item in r["left"]:  # what is left is named, so that it can be looked for
                print(f"    left: {item}")
    finally:
        if operator is not None:
            operator.stop()
        fleet.down("benchaws", home, purge=True)


if __name__ == "__main__":
    main()
