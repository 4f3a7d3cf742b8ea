"""The README's guides, run as written: every shell command of the guides to the local fleet, the fleet,
monitoring and the cluster operator runs here, in order, on a fleet of this test's own (its name and home
are the only things that differ: set through ``KURATOR_FLEET`` and ``KURATOR_HOME``, and the ``kurator-``
prefix of the README's context names becomes this fleet's name); the AWS guide's run in test_readme_aws.py,
on a fleet with Cluster API and CAPA, from steps held here. A documented command that stops working
fails this test; so does a command added to or changed in those guides without being added here.

A few lines cannot run as written and are named below with the reason (a placeholder the reader fills in,
a watch that never ends, a cluster that only Kubespray on real machines would build)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kurator.binaries import kubectl_path
from kurator.core.paths import cache_home
from kurator.local import config as fleet_config
from kurator.local.layout import FleetLayout
from kurator.local.teardown import link_of
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BUNDLE = FIXTURES / "artifacts"  # Volcano's release file, as an offline bundle (no internet here)
PIXIE_CHART = FIXTURES / "pixie-operator-chart-0.1.7" / "chart"  # Pixie's release files (see its README)
FLEET = f"rd{os.getpid()}"
STEP_TIMEOUT = 600


@dataclass(frozen=True)
class Step:
    readme: str  # the command as the README writes it (comment stripped, continuation lines joined)
    run: str | None = None  # what runs instead, when it cannot run as written (``why`` says why)
    why: str = ""
    code: int = 0  # the exit code the README promises
    expect: str = ""  # text the output must contain
    until: bool = False  # run again until ``expect`` is in the output (what the reader waits to see)


# --- the README, as a reader copies it ----------------------------------------------------------------


def section(text: str, heading: str) -> str:
    """The body of the section with this heading, up to the next heading of the same or a higher level
    (lines inside code blocks are never headings: a shell comment starts with ``#`` too)."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = text.splitlines()
    start = lines.index(heading) + 1
    fenced = False
    for i in range(start, len(lines)):
        fenced = fenced != lines[i].startswith("```")
        if not fenced and re.match(rf"#{{1,{level}}} ", lines[i]):
            return "\n".join(lines[start:i])
    return "\n".join(lines[start:])


def strip_comment(line: str) -> str:
    """``line`` without a trailing shell comment (a ``#`` outside quotes, at the start or after a blank)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def commands(body: str, lang: str = "bash") -> list[str]:
    out = []
    for block in re.findall(rf"```{lang}\n(.*?)```", body, re.S):
        joined = re.sub(r"\\\n\s*", "", block)
        out += [c for c in (strip_comment(line).strip() for line in joined.splitlines()) if c]
    return out


def yaml_block(body: str) -> str:
    return re.findall(r"```yaml\n(.*?)```", body, re.S)[0]


def as_fleet(command: str) -> str:
    """The README's context names are the default fleet's (``kurator-host``, …): this fleet's instead."""
    return re.sub(r"\bkurator-(host|karmada|member\d+)\b", rf"{FLEET}-\1", command)


# --- the guides, step by step --------------------------------------------------------------------------

LOCAL = "## The local fleet"
FLEET_GUIDE = "## The fleet"
MONITORING = "## Monitoring the fleet"
MONITORING_INSTALL = "### Installing monitoring into a fleet"
VOLCANO = "## Volcano (batch scheduling)"
PIXIE = "## Pixie (eBPF application monitoring)"
CLUSTERS = "## Clusters on your own machines"
OPERATOR = "## Installing the cluster operator"
AWS = "## Clusters on AWS"  # run by tests/e2e/test_readme_aws.py, on a fleet with Cluster API and CAPA

PROMETHEUS = (
    "kurator install prometheus --object-store-config objstore.yml --replicas 2 "
    "[--cluster-label member1=prod-eu] [--sidecar-service-type LoadBalancer|NodePort] [--block-duration 2h]"
)
THANOS = (
    "kurator install thanos --object-store-config objstore.yml --host-context <host> "
    "[--sidecar-endpoint M=HOST:PORT]"
)
NO_INTERNET = (
    "the release file comes from the offline bundle in tests/fixtures (this machine reaches no GitHub)"
)
PIXIE_KEY = "px-dep-6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b"
OPTIONAL = "the README shows optional flags in brackets; this runs them with one choice each"
FEDERATED = (
    "kurator install prometheus --primary member1 [--service-type LoadBalancer|NodePort] "
    "[--federate-endpoint M=HOST:PORT]"
)
THANOS_ONE = (
    "kurator install thanos --object-store-config objstore.yml "
    "--host-kubeconfig host.config --host-context host"
)

GUIDES: dict[str, list[Step]] = {
    LOCAL: [
        Step("kurator local fetch"),
        # In the suite the tests' background build (scripts/test.sh) or an earlier test built them already.
        Step("kurator local fetch --cluster-api --istiod", expect="pilot-discovery"),
        Step("kurator local up", expect="next (copy into your shell):"),
        Step("kurator local status", expect="processes up"),
        Step("export KUBECONFIG=$(kurator local kubeconfig --path)"),
        Step(
            "kubectl --context kurator-member1 create deployment web --image=nginx --replicas=3",
            expect="deployment.apps/web created",
        ),
        Step("kurator local down", expect="data kept"),
    ],
    FLEET_GUIDE: [
        Step("export KUBECONFIG=$(kurator local kubeconfig karmada --path)"),
        Step("kurator join member1 --cluster-kubeconfig $(kurator local kubeconfig member1 --path)"),
        Step("kurator join member2 --cluster-kubeconfig $(kurator local kubeconfig member2 --path)"),
        Step("kurator get clusters", expect="member2"),
        Step("kurator install standin --dry-run", expect="+ create Deployment standin/standin"),
        Step("kurator install standin", expect="installed on member1, member2"),
        Step("kurator install standin", expect="nothing was written"),
        Step("kurator get components", expect="standin"),
        Step("kurator uninstall standin", expect="standin uninstalled from member1, member2"),
        Step("kurator unjoin member2", expect="cluster member2 unjoined"),
    ],
    VOLCANO: [
        Step(
            "kurator install volcano --dry-run",
            run=f"kurator install volcano --dry-run --artifacts-dir {BUNDLE}",
            why=NO_INTERNET,
            expect="+ create Deployment volcano-system/volcano-scheduler",
        ),
        Step(
            "kurator install volcano [--clusters member1,member2]",
            run=f"kurator install volcano --clusters member1 --artifacts-dir {BUNDLE}",
            why=OPTIONAL + " (member1: the fleet guide left member2 unjoined); " + NO_INTERNET,
            expect="volcano 1.15.1 installed on member1",
        ),
        Step("kurator get components", expect="volcano"),
        Step(
            "kubectl --context kurator-member1 get queue default",
            code=1,
            expect='queues.scheduling.volcano.sh "default" not found',
        ),
        Step("kurator uninstall volcano", expect="volcano uninstalled from member1"),
    ],
    PIXIE: [
        Step(
            "px deploy-key create > deploy-key",
            run=f"echo {PIXIE_KEY} > deploy-key",
            why="Pixie Cloud's CLI and account are not here: a key of the right form stands in",
        ),
        Step(
            "kurator install pixie vizier --deploy-key-file deploy-key [--cloud-addr withpixie.ai:443] "
            "[--px-namespace px]",
            run=f"kurator install pixie vizier --deploy-key-file deploy-key --cloud-addr withpixie.ai:443 "
            f"--px-namespace px --chart {PIXIE_CHART}",
            why=OPTIONAL + "; Pixie's published archive cannot be fetched here: its release files instead",
            expect="installed on member1",
        ),
        Step("kurator get components", expect="pixie"),
        Step("kurator uninstall pixie vizier", expect="pixie uninstalled from member1"),
    ],
    MONITORING: [
        Step("kurator local up --prometheus-replicas 2 --block-duration 2m"),
        Step("export KUBECONFIG=$(kurator local kubeconfig karmada --path)"),
        Step("kurator join member1 --cluster-kubeconfig $(kurator local kubeconfig member1 --path)"),
        Step("kurator query 'up'"),
        Step("kurator query 'up{job=\"kube-apiserver\"}' --no-dedup"),
        Step("kurator query 'sum by (cluster) (rate(apiserver_request_total[5m]))' --range 1h -o json"),
        Step("kurator get clusters", expect="METRICS"),
    ],
    MONITORING_INSTALL: [
        Step(
            FEDERATED,
            run="kurator install prometheus --primary member1 --service-type NodePort",
            why=OPTIONAL + " (NodePort: kwok's fake nodes get no load balancer)",
            expect="prometheus",
        ),
        Step(
            THANOS_ONE,
            run=f"kurator install thanos --object-store-config objstore.yml --host-context {FLEET}-host "
            "--sidecar-service-type NodePort",
            why="host.config and host are the reader's host cluster's kubeconfig and context: here the "
            "fleet's merged kubeconfig has it; NodePort as the guide says for the local fleet (kwok's fake "
            "nodes get no load balancer)",
            expect="thanos",
        ),
        Step(
            PROMETHEUS,
            run="kurator install prometheus --object-store-config objstore.yml --replicas 2 "
            "--cluster-label member1=prod-eu --sidecar-service-type NodePort --block-duration 2h",
            why=OPTIONAL + " (NodePort: kwok's fake nodes get no load balancer)",
        ),
        Step(
            THANOS,
            run=f"kurator install thanos --object-store-config objstore.yml --host-context {FLEET}-host",
            why=OPTIONAL + "; <host> is the host cluster's context",
        ),
        Step(
            "kurator uninstall thanos --host-context <host>; kurator uninstall prometheus",
            run=f"kurator uninstall thanos --host-context {FLEET}-host; kurator uninstall prometheus",
            why="<host> is the host cluster's context",
            expect="prometheus uninstalled",
        ),
    ],
    OPERATOR: [
        Step(
            "kurator --kubeconfig host.kubeconfig install cluster-operator --dry-run "
            "--fleet prod=karmada.kubeconfig",
            expect="dry run: nothing was written",
        ),
        Step(
            "kurator --kubeconfig host.kubeconfig install cluster-operator --fleet prod=karmada.kubeconfig "
            "--set image.repository=registry.example/kurator/cluster-operator",
            expect="fleets registered: prod",
        ),
        Step(
            "kurator --kubeconfig host.kubeconfig install cluster-operator",
            expect="nothing was written",
        ),
    ],
    CLUSTERS: [
        Step("export KUBECONFIG=host.kubeconfig"),
        Step("kubectl create secret generic cluster-secret --from-file=ssh-privatekey=$HOME/.ssh/id_ed25519"),
        Step("kurator cluster plan -f cluster.yaml", expect="runs cluster.yml"),
        Step("kubectl apply -f cluster.yaml", expect="customcluster.cluster.kurator.dev/prod created"),
        Step(
            "kubectl get cc -w",
            run="kubectl get cc",
            why="-w watches until interrupted",
            expect="prod",
        ),
        # The operator's SSH preflight answers within seconds: wait for its condition, as the reader does.
        Step("kubectl describe cc prod", expect="HostsReady", until=True),
        Step(
            "kubectl get secret prod-kubeconfig -o jsonpath='{.data.value}' | base64 -d > prod.kubeconfig",
            run="",
            why="only Kubespray on real machines builds the cluster this Secret holds the kubeconfig of",
        ),
        Step("kurator --kubeconfig karmada.kubeconfig get clusters"),
    ],
    AWS: [
        # The local fleet's Cluster API and CAPA are `kurator local up --cluster-api`'s processes (README
        # `## Cluster API and the AWS stand-in`), not kurator's install: the install is refused, as the
        # guide's "Cluster API installed by another tool is refused" says; the releases' managers run.
        Step(
            "kurator --kubeconfig host.kubeconfig install cluster-api --infrastructure aws [--dry-run]",
            run="kurator --kubeconfig host.kubeconfig install cluster-api --infrastructure aws --dry-run",
            why=OPTIONAL + "; the local fleet's managers are `local up --cluster-api`'s, so it is refused",
            code=2,
            expect="Cluster API is already installed on this cluster by another tool: nothing was changed",
        ),
        Step(
            "kurator --kubeconfig host.kubeconfig install cluster-operator --fleet prod=karmada.kubeconfig",
            expect="left as they are",
        ),
        Step(
            "clusterawsadm bootstrap iam create-cloudformation-stack",
            run="",
            why="the AWS stand-in's account already holds the roles and instance profiles it makes "
            "(README `## Cluster API and the AWS stand-in`), and moto has no CloudFormation here",
        ),
        Step(
            "kubectl create secret generic aws-prod --from-literal=AccessKeyID=AKIA... "
            "--from-literal=SecretAccessKey=...",
            run="kubectl create secret generic aws-prod --from-literal=AccessKeyID=$AWS_KEY_ID "
            "--from-literal=SecretAccessKey=$AWS_SECRET",
            why="AKIA... and ... are placeholders: the key of an IAM user of the AWS stand-in (the test's)",
            expect="secret/aws-prod created",
        ),
        Step("kurator cluster plan -f cluster.yaml", expect="KubeadmControlPlane"),
        Step("kubectl apply -f cluster.yaml", expect="cluster.cluster.kurator.dev/prod created"),
        Step(
            "kubectl get kcl -w",
            run="kubectl get kcl prod -o jsonpath='{.status.conditions[?(@.type==\"FleetJoined\")].status}'",
            why="-w watches until interrupted; this waits, as the reader watching does, until it joined",
            expect="True",
            until=True,
        ),
        Step("kubectl describe kcl prod", expect="FleetJoined"),
        Step("kubectl get secret prod-kubeconfig -o jsonpath='{.data.value}' | base64 -d > prod.kubeconfig"),
        Step("kubectl --kubeconfig karmada.kubeconfig get clusters", expect="prod"),
    ],
    "uninstall": [
        Step(
            "kurator --kubeconfig host.kubeconfig uninstall cluster-operator",
            code=2,
            expect="CustomClusters exist (default/prod)",
        ),
    ],
}


def readme_commands(text: str) -> dict[str, list[str]]:
    found = {
        h: commands(section(text, h)) for h in (LOCAL, FLEET_GUIDE, VOLCANO, PIXIE, MONITORING, CLUSTERS, AWS)
    }
    # The monitoring guide's subsection is a guide of its own; its parent stops where it starts.
    found[MONITORING] = commands(section(text, MONITORING).split(MONITORING_INSTALL)[0])
    found[MONITORING_INSTALL] = commands(section(text, MONITORING_INSTALL))
    operator = commands(section(text, OPERATOR))
    found[OPERATOR], found["uninstall"] = operator[:-1], operator[-1:]
    return found


def test_every_guide_command_is_run_here() -> None:
    """The README's guides and this test's steps name the same commands, in the same order."""
    found = readme_commands(README.read_text())
    for heading, steps in GUIDES.items():
        assert found[heading] == [s.readme for s in steps], (
            f"README section {heading!r} changed: run its new or changed commands in {__file__}"
        )


# --- running them --------------------------------------------------------------------------------------


class Shell:
    """Runs steps as the reader's shell would: ``export`` lines stay in effect for the steps after them."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env
        self.exports: list[str] = []
        self.said = ""  # what the last step printed

    def run(self, heading: str, step: Step) -> None:
        command = as_fleet(step.readme) if step.run is None else step.run
        if not command:
            return
        if command.startswith("export "):
            self.exports.append(command)
        if step.until:
            wait_for(
                lambda: step.expect in self._run(command).stdout,
                timeout=STEP_TIMEOUT,
                what=f"README {heading!r}: {step.readme} showing {step.expect!r}",
            )
        proc = self._run(command)
        said = proc.stdout
        where = f"README {heading!r}: {step.readme}"
        assert proc.returncode == step.code, f"{where}\nexit {proc.returncode}, expected {step.code}:\n{said}"
        assert step.expect in said, f"{where}\nexpected {step.expect!r} in:\n{said}"
        # A table's last line is never run into by what follows it (a summary, the next table).
        assert not re.search(r"[┘╯│]\S", said), f"{where}\ntext runs into a table's edge:\n{said}"
        self.said = said

    def _run(self, command: str) -> subprocess.CompletedProcess[str]:
        script = "\n".join(["set -o pipefail", *self.exports, command])
        # Both streams into one pipe, as `cmd 2>&1 | less` sees them.
        return subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    (home / ".ssh" / "id_ed25519").write_bytes(key)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "kubectl").symlink_to(kubectl_path())
    # Go's caches stay the machine's: the reader's HOME holds them, this temporary one would build cold.
    go_caches = subprocess.run(
        ["go", "env", "-json", "GOCACHE", "GOMODCACHE"], capture_output=True, text=True, check=True
    )
    env = {
        **os.environ,
        **json.loads(go_caches.stdout),
        "HOME": str(home),
        "KURATOR_HOME": str(tmp_path / "kurator"),
        "KURATOR_CACHE": str(cache_home()),
        "KURATOR_FLEET": FLEET,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(tools), os.environ.get("PATH", "")]),
        "NO_COLOR": "1",
        "COLUMNS": "80",
    }
    env.pop("KUBECONFIG", None)
    work = tmp_path / "work"
    work.mkdir()
    sh = Shell(work, env)
    try:
        yield sh
    finally:
        subprocess.run(["kurator", "local", "down", "--purge"], env=env, capture_output=True, check=False)


def test_the_readme_guides_run_as_written(shell: Shell) -> None:
    assert kubectl_path().is_file(), "kubectl is built with the fleet's binaries"
    layout = Path(shell.env["KURATOR_HOME"]) / "local" / FLEET

    def guide(heading: str, exports: tuple[str, ...] = ()) -> None:
        shell.exports = list(exports)
        for step in GUIDES[heading]:
            shell.run(heading, step)

    guide(LOCAL)  # ends with the fleet stopped
    shell.run("between guides", Step("kurator local up"))
    # With the merged kubeconfig (current context: the host), fleet commands find the host's Karmada,
    # and an empty fleet says how to join.
    flag = f"--name {FLEET}"
    shell.run(
        "between guides",
        Step(
            "KUBECONFIG=$(kurator local kubeconfig --path) kurator get clusters",
            expect="no member clusters in the fleet yet; join one with:\n  kurator join member1 "
            f"--cluster-kubeconfig $(kurator local kubeconfig member1 {flag} --path)",
        ),
    )
    guide(FLEET_GUIDE)
    # Volcano and Pixie on the member the fleet guide left joined; their pods are kwok's (the guides say what
    # does not run). kubectl needs the members' contexts: the merged kubeconfig, whose host finds Karmada.
    merged = ("export KUBECONFIG=$(kurator local kubeconfig --path)",)
    guide(VOLCANO, merged)
    guide(PIXIE, merged)
    # The monitoring guide brings up a fleet of another shape (an HA pair per member), so a new one.
    shell.run("between guides", Step("kurator local down --purge"))
    guide(MONITORING)
    shutil.copy(layout / "monitoring" / "objstore.yml", shell.cwd / "objstore.yml")
    # That guide is for any fleet: its reader's KUBECONFIG names the fleet's clusters (here the local
    # fleet's merged file, whose current context is the host: fleet commands use the host's Karmada).
    guide(MONITORING_INSTALL, ("export KUBECONFIG=$(kurator local kubeconfig --path)",))
    shutil.copy(layout / "clusters" / "host" / "admin.kubeconfig", shell.cwd / "host.kubeconfig")
    shutil.copy(layout / "clusters" / "karmada" / "admin.kubeconfig", shell.cwd / "karmada.kubeconfig")
    # The guide's hosts are documentation addresses (192.0.2.0/24) standing for the reader's machines; here
    # they are the two ends of the fleet's own link, so the operator's SSH preflight stays on this machine
    # and the fleet's namespace (nothing answers SSH there: HostsReady says so, which the guide shows).
    cfg = fleet_config.load(FleetLayout(layout).config, "")
    link = link_of(cfg) if cfg else None
    assert link is not None, "the cluster guide needs the fleet's namespace (run as root)"
    cluster = yaml_block(section(README.read_text(), CLUSTERS))
    cluster = cluster.replace("192.0.2.11", link.ns_addr).replace("192.0.2.21", link.host_addr)
    (shell.cwd / "cluster.yaml").write_text(cluster)
    guide(OPERATOR)
    # The installed operator's Pods are kwok's: the operator runs as the guide's local process instead.
    operator = subprocess.Popen(
        ["kurator", "--kubeconfig", "host.kubeconfig", "operator", "run", "--listen", ""],
        cwd=shell.cwd,
        env=shell.env,
        stdout=(shell.cwd / "operator.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        guide(CLUSTERS)
        guide("uninstall")  # refused while the guide's CustomCluster exists
        # Its hosts never answer, so a reset could not run: delete without one, as the guide says.
        for cleanup in (
            "kubectl --kubeconfig host.kubeconfig annotate cc prod kurator.dev/force-delete=true",
            "kubectl --kubeconfig host.kubeconfig delete -f cluster.yaml --wait=true",
        ):
            shell.run("cleanup", Step(cleanup, run=cleanup))
    finally:
        operator.terminate()
        operator.wait(timeout=60)
    uninstall = "kurator --kubeconfig host.kubeconfig uninstall cluster-operator"
    shell.run("cleanup", Step(uninstall, run=uninstall, expect="uninstalled"))
