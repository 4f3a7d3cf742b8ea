"""The kurator CLI run as a user runs it, in a subprocess, for the unit tests of what it prints: no colour, a
wide terminal, no KUBECONFIG from the environment, and a kurator home of the test's own when given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_kurator(
    *args: str, home: Path | None = None, cwd: Path | None = None, columns: int = 300
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": str(columns)}
    env.pop("KUBECONFIG", None)
    if home is not None:
        env["KURATOR_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "kurator", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=cwd,
        check=False,
    )
