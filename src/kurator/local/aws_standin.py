"""The local fleet's stand-in for AWS: moto's server (EC2, ELB, ELBv2, tagging, Secrets Manager, STS, SSM,
S3, IAM, Auto Scaling on one port), with a thin layer of named corrections where moto 5.2 answers what AWS
documents otherwise. It is a stand-in: no instance ever boots, nothing is billed, and state lives in memory
for as long as the process runs.

What this layer adds to moto, each for a reason:

- ``CORRECTIONS``: where moto deviates from AWS in a way that blocks Cluster API Provider AWS's defaults.
  Each names AWS's documented behaviour; the unit tests call the AWS API as CAPA does.
- Authentication is enforced from the first request (moto's own IAM checks): requests must be signed with
  an access key of a user the stand-in knows, so revoked or wrong credentials fail as on AWS, and no
  local user reads the account's state anonymously. The admin user's key comes from a file the fleet made
  (mode 0600), so it survives a restart of this process.
- moto's management API (``/moto-api/``: dashboard, reset, seeding) is refused: it needs no credentials.
- ``published_images``: the machine images Cluster API Provider AWS looks up by default (its publisher's
  account, its name format), for the Kubernetes versions listed, with image-builder's 8 GiB root volume;
  moto ships none of them.
- The account is bootstrapped as ``clusterawsadm bootstrap iam create-cloudformation-stack`` leaves a
  real one: the roles and instance profiles CAPA's machines name by default exist (``INSTANCE_PROFILES``).
- Public DNS of load balancers (``--hosts-file``): on AWS a load balancer's DNS name resolves once it
  exists. Here each one made is written to the fleet namespace's private hosts file, resolving to the
  fleet's address (where a test may play the cluster's API server), and removed when it is deleted.

Run as ``python -m kurator.local.aws_standin --host H --port P --admin-key FILE``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import signal
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The account Cluster API Provider AWS's default image lookup asks for (ami.go DefaultMachineAMIOwnerID)
# and the names it looks for (DefaultAmiNameFormat "capa-ami-{{.BaseOS}}-?{{.K8sVersion}}-*").
IMAGE_OWNER = "819546954734"
IMAGE_OSES = ("ubuntu-24.04", "ubuntu-22.04")
# Kubernetes versions whose images the stand-in holds: the minors kurator's AWS clusters run (and 1.25,
# which Kurator v0.2.0's quickstart names), patches .0 to .12.
IMAGE_MINORS = (25, 32, 33, 34, 35)
IMAGE_PATCHES = range(13)
# image-builder's AMI template (images/capi/packer/ami/packer.json): "volume_size": "8", gp2.
IMAGE_ROOT_GIB = 8
ADMIN_USER = "kurator-admin"
# clusterawsadm's default roles and instance profiles (one of each per name).
INSTANCE_PROFILES = tuple(
    f"{role}.cluster-api-provider-aws.sigs.k8s.io" for role in ("control-plane", "controllers", "nodes")
)
EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
ADMIN_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


@dataclass(frozen=True)
class Correction:
    """One place where moto answers otherwise than AWS documents, and the patch that answers as AWS."""

    name: str
    aws: str  # what AWS documents, and where
    moto: str  # what moto 5.2 does instead
    apply: Callable[[], None]


def _once(fn: Callable[[], None]) -> Callable[[], None]:
    return functools.cache(fn)


@_once
def _any_protocol_rules() -> None:
    from moto.ec2.models import security_groups

    cls = security_groups.SecurityGroupRule
    original = cls.__init__
    with_ports = {"tcp", "6", "udp", "17", "icmp", "1", "icmpv6", "58", "-1", "all"}

    @functools.wraps(original)
    def init(self: Any, ec2_backend: Any, ip_protocol: str, *args: Any, **kwargs: Any) -> None:
        protocol = str(ip_protocol).lower() if ip_protocol else ""
        if protocol and protocol not in with_ports:
            # Ports do not apply: build the rule as for "all protocols", then keep the protocol asked for.
            original(self, ec2_backend, "-1", *args, **kwargs)
            self.ip_protocol = str(ip_protocol)
            return
        original(self, ec2_backend, ip_protocol, *args, **kwargs)

    cls.__init__ = init  # type: ignore[method-assign]


@_once
def _target_groups_of_a_load_balancer() -> None:
    from moto.elbv2 import models
    from moto.elbv2.exceptions import TargetGroupNotFoundError

    cls = models.ELBv2Backend
    original = cls.describe_target_groups

    @functools.wraps(original)
    def describe(self: Any, load_balancer_arn: str | None, *args: Any, **kwargs: Any) -> Iterable[Any]:
        try:
            return original(self, load_balancer_arn, *args, **kwargs)
        except TargetGroupNotFoundError:
            if load_balancer_arn and load_balancer_arn in self.load_balancers:
                return []
            raise

    cls.describe_target_groups = describe  # type: ignore[method-assign]


@_once
def _primary_interface_goes_with_its_instance() -> None:
    from moto.ec2.models.instances import Instance

    original = Instance.prep_nics

    @functools.wraps(original)
    def prep(self: Any, nic_spec: list[dict[str, Any]], *args: Any, **kwargs: Any) -> None:
        # The interfaces RunInstances makes itself (none named by NetworkInterfaceId), unless told otherwise.
        made = {
            int(n.get("DeviceIndex", 0))
            for n in nic_spec
            if not n.get("NetworkInterfaceId") and "DeleteOnTermination" not in n
        }
        if not nic_spec:
            made = {0}
        original(self, nic_spec, *args, **kwargs)
        for index, nic in self.nics.items():
            if index in made:
                nic.delete_on_termination = True

    Instance.prep_nics = prep  # type: ignore[method-assign]


@_once
def _nat_gateways_by_tag() -> None:
    from moto.ec2.models.nat_gateways import NatGatewayBackend

    original = NatGatewayBackend.describe_nat_gateways

    @functools.wraps(original)
    def describe(self: Any, filters: Any, *args: Any, **kwargs: Any) -> list[Any]:
        found: list[Any] = original(self, filters, *args, **kwargs)
        for name, values in (filters or {}).items():
            if name.startswith("tag:"):
                found = [g for g in found if g.get_filter_value(name) in values]
            elif name in ("tag-key", "tag-value"):
                found = [g for g in found if set(g.get_filter_value(name)) & set(values)]
        return found

    NatGatewayBackend.describe_nat_gateways = describe  # type: ignore[method-assign]


CORRECTIONS = (
    Correction(
        "ec2-ingress-rule-without-ports",
        aws="EC2 API reference, IpPermission.IpProtocol: a protocol number other than tcp, udp, icmp or "
        "icmpv6 (e.g. 4, IP-in-IP, which Calico needs, or 50, ESP) allows traffic on all ports, "
        "and FromPort/ToPort are not needed",
        moto="AuthorizeSecurityGroupIngress with such a protocol and no ports fails with HTTP 500",
        apply=_any_protocol_rules,
    ),
    Correction(
        "elbv2-target-groups-of-a-load-balancer",
        aws="Elastic Load Balancing API reference, DescribeTargetGroups: with LoadBalancerArn, the target "
        "groups of that load balancer (an empty TargetGroups list when it has none)",
        moto="answers TargetGroupNotFound for a load balancer with no target groups, which blocks "
        "creating and deleting a network load balancer",
        apply=_target_groups_of_a_load_balancer,
    ),
    Correction(
        "ec2-primary-interface-deleted-on-termination",
        aws="EC2 API reference, InstanceNetworkInterfaceSpecification.DeleteOnTermination, and the EC2 user "
        "guide (network interfaces): the primary network interface RunInstances creates is deleted when "
        "its instance is terminated",
        moto="keeps it (as detached and tagged) after the instance is terminated",
        apply=_primary_interface_goes_with_its_instance,
    ),
    Correction(
        "ec2-nat-gateways-filtered-by-tag",
        aws="EC2 API reference, DescribeNatGateways: the filters tag:<key> and tag-key select NAT gateways "
        "by their tags",
        moto="ignores both and answers every NAT gateway of the region (so a question for one cluster's "
        "gateways answers another cluster's too)",
        apply=_nat_gateways_by_tag,
    ),
)


def image_id(name: str) -> str:
    return "ami-" + hashlib.sha256(name.encode()).hexdigest()[:17]


def published_images() -> list[dict[str, Any]]:
    """moto's AMI records of the images CAPA's default lookup finds (one per OS and version)."""
    out = []
    for os_name in IMAGE_OSES:
        for minor in IMAGE_MINORS:
            for patch in IMAGE_PATCHES:
                name = f"capa-ami-{os_name}-v1.{minor}.{patch}-1700000000"
                out.append(
                    {
                        "ami_id": image_id(name),
                        "name": name,
                        "description": f"Cluster API AMI, Kubernetes v1.{minor}.{patch}, {os_name}",
                        "owner_id": IMAGE_OWNER,
                        "public": True,
                        "virtualization_type": "hvm",
                        "architecture": "x86_64",
                        "state": "available",
                        "platform": None,
                        "root_device_type": "ebs",
                        "root_device_name": "/dev/sda1",
                        "sriov": "simple",
                        "creation_date": "2023-11-14T22:13:20.000Z",
                        "hypervisor": "xen",
                    }
                )
    return out


def _add_images() -> None:
    from moto.ec2.models import amis

    known = {a["ami_id"] for a in amis.AMIS}
    amis.AMIS.extend(i for i in published_images() if i["ami_id"] not in known)
    _published_root_volumes()


@_once
def _published_root_volumes() -> None:
    """The published images' root volume is what image-builder makes (its AMI template's ``volume_size``,
    8 GiB gp2, deleted on termination), not moto's fixed 15 GiB for every image: CAPA refuses a machine
    whose root volume is smaller than its image's, so moto's size would refuse any root volume of 8 to 14
    GiB that AWS accepts."""
    from moto.ec2.models.amis import Ami

    original: Any = Ami.__dict__["block_device_mappings"]  # the property

    def mappings(self: Any) -> list[dict[str, Any]]:
        if self.owner_id != IMAGE_OWNER:
            return list(original.fget(self))
        ebs = {
            "SnapshotId": self.ebs_snapshot.id,
            "VolumeSize": IMAGE_ROOT_GIB,
            "DeleteOnTermination": True,
            "VolumeType": "gp2",
        }
        return [{"DeviceName": self.root_device_name, "Ebs": ebs}]

    Ami.block_device_mappings = property(mappings)  # type: ignore[method-assign,assignment]


def read_admin_key(path: Path) -> tuple[str, str]:
    """The admin user's access key pair from its file: ``{"AccessKeyID": ..., "SecretAccessKey": ...}``."""
    doc = json.loads(path.read_text())
    return str(doc["AccessKeyID"]), str(doc["SecretAccessKey"])


def _admin_user(key_id: str, secret: str) -> None:
    """An IAM user allowed everything, with the given key (moto would make a random one)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    iam = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    iam.create_user(region_name="us-east-1", user_name=ADMIN_USER)
    iam.put_user_policy(ADMIN_USER, "admin", ADMIN_POLICY)
    key = iam.create_access_key(ADMIN_USER)
    # Give the key the identity the fleet made for it; moto indexes keys by their id.
    iam.access_keys.pop(key.access_key_id, None)
    key.access_key_id, key.secret_access_key = key_id, secret
    iam.access_keys[key_id] = key


def _bootstrapped_account() -> None:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    iam = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    for name in INSTANCE_PROFILES:
        if name in iam.instance_profiles:
            continue
        iam.create_role(name, EC2_TRUST, "/", None, "clusterawsadm's default role", [], None)
        iam.create_instance_profile(name, "/", [name])


def _publish_load_balancers(hosts: Path, address: str) -> None:
    """Load balancers' names resolve (in the namespace's hosts file) from their creation to their deletion."""
    from moto.elb.models import ELBBackend
    from moto.elbv2.models import ELBv2Backend

    from kurator.local import hostsfile

    def wrap(cls: Any, key: Callable[[Any, Any], str | None]) -> None:
        create, delete = cls.create_load_balancer, cls.delete_load_balancer

        @functools.wraps(create)
        def created(self: Any, *args: Any, **kwargs: Any) -> Any:
            lb = create(self, *args, **kwargs)
            hostsfile.map_names(hosts, {lb.dns_name: address})
            return lb

        @functools.wraps(delete)
        def deleted(self: Any, ref: Any, *args: Any, **kwargs: Any) -> Any:
            name = key(self, ref)
            out = delete(self, ref, *args, **kwargs)
            if name:
                hostsfile.unmap_names(hosts, [name])
            return out

        cls.create_load_balancer, cls.delete_load_balancer = created, deleted

    wrap(ELBBackend, lambda b, name: getattr(b.load_balancers.get(name), "dns_name", None))
    wrap(ELBv2Backend, lambda b, arn: getattr(b.load_balancers.get(arn), "dns_name", None))


def _refuse_management(app: Any) -> Any:
    """moto's ``/moto-api/`` (dashboard, reset, state seeding) answers anyone: refused here."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        if str(environ.get("PATH_INFO", "")).startswith("/moto-api"):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"the AWS stand-in's management API is disabled\n"]
        return app(environ, start_response)

    return wrapped


def prepare(admin_key: tuple[str, str] | None, hosts: tuple[Path, str] | None = None) -> None:
    """Everything before serving: corrections, images, the bootstrapped account, the admin user and
    enforced authentication."""
    for correction in CORRECTIONS:
        correction.apply()
    _add_images()
    _bootstrapped_account()
    if hosts is not None:
        _publish_load_balancers(*hosts)
    if admin_key is not None:
        from moto import settings

        _admin_user(*admin_key)
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--admin-key", type=Path, help="JSON file: the admin's AccessKeyID, SecretAccessKey")
    parser.add_argument("--hosts-file", type=Path, help="where load balancers' names are published")
    parser.add_argument("--lb-address", help="the address load balancers' names resolve to")
    args = parser.parse_args(argv)
    hosts = (args.hosts_file, args.lb_address) if args.hosts_file and args.lb_address else None
    prepare(read_admin_key(args.admin_key) if args.admin_key else None, hosts)

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = _refuse_management(DomainDispatcherApplication(create_backend_app))
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
