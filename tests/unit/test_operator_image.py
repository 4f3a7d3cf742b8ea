"""The operator image's Dockerfile, checked without a container engine (none runs here, so the image is never
built in this project's runs): what it copies exists and is let through by .dockerignore, its user is the one
the chart runs as, its entrypoint is `kurator operator run`. scripts/check-operator-image.sh installs the same
build context into a fresh virtualenv and runs the entrypoint."""

from __future__ import annotations

import fnmatch
import json
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART_VALUES = ROOT / "src" / "kurator" / "components" / "charts" / "cluster-operator" / "values.yaml"


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _ignored(path: str) -> bool:
    """.dockerignore's verdict on ``path`` (its last matching pattern wins; ``!`` lets a path back in)."""
    verdict = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        keep = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/").removeprefix("**/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatchcase(p, pattern) for p in prefixes) or fnmatch.fnmatchcase(parts[-1], pattern):
            verdict = not keep
    return verdict


def test_every_file_the_image_copies_exists_and_reaches_the_build() -> None:
    copies = [args.split() for op, args in _instructions() if op == "COPY" and not args.startswith("--from")]
    sources = [src for *srcs, _dest in copies for src in srcs]
    assert sources == ["pyproject.toml", "README.md", "src"]
    for src in sources:
        assert (ROOT / src).exists(), src
        assert not _ignored(src), f"{src} is excluded by .dockerignore"
    for package_file in (ROOT / "src").rglob("*"):
        if package_file.is_file() and "__pycache__" not in package_file.parts:
            assert not _ignored(package_file.relative_to(ROOT).as_posix()), package_file
    assert _ignored("tests/unit/test_operator_image.py") and _ignored(".venv/bin/python")
    assert _ignored("src/kurator/__pycache__/x.pyc")
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["readme"]
    assert readme in sources  # `pip install .` reads it


def test_the_image_runs_the_operator_as_the_user_the_chart_expects() -> None:
    steps = _instructions()
    bases = [args for op, args in steps if op == "FROM"]
    assert all(b.startswith("python:3.11-slim") for b in bases)
    (user,) = [args for op, args in steps if op == "USER"]
    values = yaml.safe_load(CHART_VALUES.read_text())
    assert user == f"{values['runAsUser']}:{values['runAsUser']}"
    (entrypoint,) = [args for op, args in steps if op == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["kurator", "operator", "run"]
    (expose,) = [args for op, args in steps if op == "EXPOSE"]
    assert int(expose) == values["port"]
    assert 'kurator = "kurator.cli.main:run"' in (ROOT / "pyproject.toml").read_text()
