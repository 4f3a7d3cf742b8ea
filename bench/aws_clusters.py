"""AWS Clusters through Cluster API on a local fleet of its own: the real Cluster API and CAPA managers, the
real operator process, moto as the AWS stand-in, the machines played (tests/integration/aws_machines.py).

Prints, for 1 and for N clusters made at once (each 1 master and --workers workers): the time from the
Clusters' creation to infrastructure-ready in the stand-in and to every Machine running (median and max
over the clusters); the resident memory of Cluster API's three managers and CAPA's, idle and with the N
clusters; the time to delete them all, what CAPA left that the operator deleted after it, and what is left
on AWS (tagging API and EC2), which must be nothing; any cluster that had more than one VPC while it ran.

    sudo .venv/bin/python bench/aws_clusters.py --clusters 10 --workers 2   # root: the fleet's namespace
"""

from __future__ import annotations

import argparse
import base64
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Event, Namespace, Secret

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import aws_cluster_cases as cases
from tests.integration.aws_machines import playing
from tests.integration.capi_helpers import OWNED, aws, left_on_aws
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
        # CAPA makes one VPC per cluster: more while they run is a leak before any deletion
        ec2 = aws(up, "ec2")
        vpcs = {
            name: [
                v["VpcId"]
                for v in ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": [OWNED.format(name)]}])[
                    "Vpcs"
                ]
            ]
            for name in names
        }
        t = time.monotonic()
        for name in names:
            api.delete(KuratorCluster, name, namespace=NS)
        while any(c for c in api.list(KuratorCluster, namespace=NS)) and time.monotonic() - t < 1800:
            time.sleep(1)
        deleted = time.monotonic() - t
    left = [f"{name}: {item}" for name in names for item in left_on_aws(up, name)]
    # what CAPA left and the operator deleted after it (operator/aws/leftovers.py): said, never hidden
    swept = [
        f"{e.involvedObject.name}: {e.message}"
        for e in api.list(Event, namespace=NS)
        if e.reason == "LeftoversDeleted" and e.involvedObject.name in names
    ]
    extra = {name: ids for name, ids in vpcs.items() if len(ids) != 1}
    return {
        "infra": infra,
        "running": running,
        "swept": swept,
        "memory": busy,
        "deleted": deleted,
        "left": left,
        "vpcs": extra,
    }


def _spread(values: dict[str, float], count: int) -> str:
    if len(values) < count:
        return f"only {len(values)} of {count} within the deadline"
    return f"median {statistics.median(values.values()):.1f} s, max {max(values.values()):.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--keep-logs",
        type=Path,
        help="copy the fleet's logs (managers, moto, operator) here when CAPA left anything or made two VPCs",
    )
    args = parser.parse_args()
    stranded = False
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
            print(f"  left by CAPA and deleted by the operator after it: {len(r['swept'])}")
            for item in r["swept"]:
                print(f"    {item}")
            for name, ids in r["vpcs"].items():
                print(f"    {name} had {len(ids)} VPCs while it ran: {', '.join(ids)}")
            stranded = stranded or any(r[k] for k in ("left", "vpcs", "swept"))
    finally:
        if operator is not None:
            operator.stop()
        if stranded and args.keep_logs is not None:
            shutil.copytree(up.layout.logs, args.keep_logs / "logs", dirs_exist_ok=True)
            shutil.copy2(home.parent / "operator.log", args.keep_logs / "operator.log")
            print(f"logs kept in {args.keep_logs}")
        fleet.down("benchaws", home, purge=True)


if __name__ == "__main__":
    main()
