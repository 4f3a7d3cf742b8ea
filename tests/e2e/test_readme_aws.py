"""The README's guide `## Clusters on AWS`, run as written (its steps and the lines that cannot run as
written, each with its reason, are ``GUIDES[AWS]`` in test_readme.py, whose guard test holds them to the
README): from a stand-in IAM user's key to a cluster joined to the fleet, then deleted with nothing left on
the stand-in.

On the local fleet with the real Cluster API and CAPA managers and the AWS stand-in (moto), as the guide's
"On the local fleet" bullet says: the operator runs inside the fleet's network namespace (it reaches the
cluster's API server by its load balancer's name), and since no machine boots in moto,
tests/integration/aws_machines.py plays what booted machines would do."""

from __future__ import annotations

import base64
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from lightkube import ApiError
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.core_v1 import Secret

from kurator.binaries import kubectl_path
from kurator.core.paths import cache_home
from kurator.kube.errors import KubeError
from kurator.kube.karmada import Cluster as KarmadaCluster
from kurator.local.fleet import UpResult
from tests.integration.aws_machines import playing
from tests.integration.capi_helpers import aws, left_on_aws
from tests.integration.helpers import cluster_client, gone, wait_for
from tests.integration.test_aws_clusters import _ALLOW_ALL, NetnsOperator

from .test_readme import AWS, GUIDES, README, Shell, Step, section, yaml_block

pytestmark = pytest.mark.e2e

KuratorCluster = create_namespaced_resource("cluster.kurator.dev", "v1alpha1", "Cluster", "clusters")

# What the local fleet needs changed in the guide's cluster.yaml (nothing else is):
LOCAL_FLEET_NEEDS = (
    "one master and one worker instead of 3 and 3: every machine is played on the fleet's one member and "
    "Cluster API waits on each; one of each shows every kind of machine the guide makes"
)


def cluster_yaml() -> str:
    """The guide's yaml block as written, but for the replicas (``LOCAL_FLEET_NEEDS``)."""
    text = yaml_block(section(README.read_text(), AWS))
    for shape in ("master: {replicas: 3,", "- {replicas: 3,"):
        assert shape in text, f"the guide's cluster.yaml changed: {shape!r} is not in it"
        text = text.replace(shape, shape.replace("3", "1"))
    doc = yaml.safe_load(text)
    assert doc["spec"]["master"]["replicas"] == doc["spec"]["workers"][0]["replicas"] == 1
    return text


@pytest.fixture
def shell(cluster_api_fleet: UpResult, tmp_path: Path) -> Iterator[Shell]:
    fleet = cluster_api_fleet
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "kubectl").symlink_to(kubectl_path())
    work = tmp_path / "work"
    work.mkdir()
    # The reader's files: the host cluster's and Karmada's kubeconfigs (kubectl without --kubeconfig talks to
    # the host, where the guide's objects go).
    for name, cluster in (("host", "host"), ("karmada", "karmada")):
        (work / f"{name}.kubeconfig").write_text(fleet.layout.kubeconfig(cluster).read_text())
    (work / "cluster.yaml").write_text(cluster_yaml())
    env = {
        **os.environ,
        "KUBECONFIG": str(work / "host.kubeconfig"),
        "KURATOR_CACHE": str(cache_home()),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(tools), os.environ.get("PATH", "")]),
        "NO_COLOR": "1",
        "COLUMNS": "80",
    }
    yield Shell(work, env)


def test_the_aws_guide_runs_as_written(cluster_api_fleet: UpResult, shell: Shell, tmp_path: Path) -> None:
    fleet = cluster_api_fleet
    api = cluster_client(fleet, "host")
    # The credential: an IAM user of the stand-in allowed everything, as a reader's user would be.
    iam = aws(fleet, "iam")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName="readme-prod")
    iam.put_user_policy(UserName="readme-prod", PolicyName="all", PolicyDocument=_ALLOW_ALL)
    key = iam.create_access_key(UserName="readme-prod")["AccessKey"]
    secrets = [key["AccessKeyId"], key["SecretAccessKey"]]
    shell.env = {**shell.env, "AWS_KEY_ID": secrets[0], "AWS_SECRET": secrets[1]}
    log = tmp_path / "operator.log"
    said = ""
    with playing(fleet) as player:
        player.prepare("default", "prod")  # what kubeadm would make on the cluster's first master
        steps = iter(GUIDES[AWS])
        for step in steps:  # up to the operator's install
            shell.run(AWS, step)
            said += shell.said
            if "install cluster-operator" in step.readme:
                break
        # The installed operator's Pods are kwok's: it runs as the guide's local process, inside the fleet's
        # network namespace (the guide's "On the local fleet"), with the host.kubeconfig of the guide.
        operator = NetnsOperator(fleet, log, kubeconfig=shell.cwd / "host.kubeconfig").start()
        try:
            operator.wait_caught_up(120)
            for step in steps:
                shell.run(AWS, step)
                said += shell.said
            karmada = cluster_client(fleet, "karmada")
            assert not gone(karmada, KarmadaCluster, "prod"), "prod is not in the fleet"
            # The guide's "Delete:" bullet: the cluster leaves the fleet, then everything CAPA made goes.
            delete = "kubectl delete kcl prod"
            shell.run("delete", Step(delete, run=delete, expect="deleted"))
            wait_for(lambda: gone(api, KuratorCluster, "prod", "default"), 300, "the Cluster deleted")
            assert gone(karmada, KarmadaCluster, "prod"), "prod still in the fleet"
            wait_for(lambda: not left_on_aws(fleet, "prod"), 120, "nothing of prod left on the stand-in")
            shown = said + log.read_text(errors="replace")
            for s in secrets:
                assert s not in shown, "a key was shown"
                assert base64.b64encode(s.encode()).decode() not in shown, "a key was shown"
        finally:
            with contextlib.suppress(ApiError, KubeError):
                api.delete(KuratorCluster, "prod", namespace="default")
            with contextlib.suppress(AssertionError):
                wait_for(lambda: gone(api, KuratorCluster, "prod", "default"), 300, "the Cluster deleted")
            operator.stop()
            with contextlib.suppress(ApiError, KubeError):
                api.delete(Secret, "aws-prod", namespace="default")
            uninstall = "kurator --kubeconfig host.kubeconfig uninstall cluster-operator"
            shell.run("cleanup", Step(uninstall, run=uninstall, expect="uninstalled"))
            iam.delete_access_key(UserName="readme-prod", AccessKeyId=key["AccessKeyId"])
