"""Small helpers for integration tests: clients of the local fleet and bounded waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lightkube import Client

from kurator.kube.client import client
from kurator.kube.errors import NotFound
from kurator.local.fleet import UpResult
from kurator.local.kubeconfigs import context_name


def cluster_client(fleet: UpResult, cluster: str) -> Client:
    return client(fleet.layout.kubeconfig(cluster), context_name(fleet.config, cluster))


def wait_for(check: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; bounded in time."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"{what} did not hold within {timeout}s (last: {last!r})")


def kurator(
    *args: str,
    home: Path | None = None,
    check: bool = False,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the kurator CLI as a user would, in a subprocess (``env`` added to this process's)."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "kurator", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"kurator {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


# The CLI with Ctrl-C restored: a shell starts a background job's commands with SIGINT ignored, and Python
# keeps an ignored SIGINT ignored, so without this a test run from a background job could not interrupt it.
INTERRUPTIBLE = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'kurator'; from kurator.cli.main import run; run()"
)


def interruptible(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The kurator CLI started so that ``send_signal(SIGINT)`` interrupts it as Ctrl-C would, however this
    test run was started."""
    return subprocess.Popen(
        [sys.executable, "-c", INTERRUPTIBLE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )


def karmada_args(fleet: UpResult) -> list[str]:
    return ["--kubeconfig", str(fleet.layout.kubeconfig("karmada"))]


def join(fleet: UpResult, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return kurator(
        *karmada_args(fleet), "join", name, "--cluster-kubeconfig", str(fleet.layout.kubeconfig(name)), *extra
    )


def gone(api: Client, kind: Any, name: str, namespace: str | None = None) -> bool:
    try:
        api.get(kind, name, namespace=namespace) if namespace else api.get(kind, name)
    except NotFound:
        return True
    return False


def module_zip(module: str) -> Path:
    """A Go module's zip (``path@version``) in Go's module cache, downloaded there first if it is missing:
    the bytes proxy.golang.org serves, which a test's or a bench's offline bundle holds, so that no path
    fetches them."""
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    proc = subprocess.run(
        ["go", "mod", "download", "-json", module],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"go mod download {module}: {proc.stdout}{proc.stderr}")
    return Path(json.loads(proc.stdout)["Zip"])


def istio_module_zip() -> Path:
    """The pinned Istio module zip (the istio component's artifact)."""
    from kurator.components import istio

    return module_zip(f"istio.io/istio@{istio.MODULE_VERSION}")
