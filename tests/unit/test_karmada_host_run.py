"""karmadactl runs under a deadline even when it prints nothing: a silent, stuck installer must not make
`kurator install karmada` wait forever."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kurator.fleet.karmada_host import _run


@pytest.mark.timeout(60)
def test_a_silent_stuck_installer_is_stopped_at_its_deadline(tmp_path: Path) -> None:
    seen: list[str] = []
    argv = [sys.executable, "-c", "import time; time.sleep(600)"]
    code, tail = _run(argv, tmp_path / "karmadactl.log", 0.5, seen.append)
    assert code != 0
    assert tail == ["stopped after 0.5s"]
    assert seen == []


def test_output_is_logged_redacted_and_the_exit_code_kept(tmp_path: Path) -> None:
    seen: list[str] = []
    script = "print('step one'); print('--token=abc'); raise SystemExit(3)"
    code, tail = _run([sys.executable, "-c", script], tmp_path / "k.log", 60, seen.append)
    assert code == 3
    assert seen[0] == "step one" and "abc" not in "".join(tail)
    assert "abc" not in (tmp_path / "k.log").read_text()
