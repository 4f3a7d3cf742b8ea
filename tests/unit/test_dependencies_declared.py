"""Every library the product imports is one it declares: a dependency that only arrives through another
one's requirements (as httpx2 did, through lightkube) can disappear with that one's next release."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported(package: Path) -> set[str]:
    names: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"kurator", "__future__"}


def _declared(*extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *(d for e in extras for d in project["optional-dependencies"][e])]
    return {_normal(re.split(r"[\[<>=!~; ]", d, maxsplit=1)[0]) for d in wanted}


def _undeclared(imported: set[str], declared: set[str]) -> list[str]:
    dists = packages_distributions()
    return sorted(
        f"{module} (from {', '.join(dists.get(module, ['?']))})"
        for module in imported
        if not {_normal(d) for d in dists.get(module, [module])} & declared
    )


def test_every_library_src_imports_is_declared() -> None:
    # The worker runs inside Kubespray's image with that image's Ansible: not a dependency of kurator.
    imported = _imported(ROOT / "src" / "kurator") - {"ansible"}
    assert imported and _undeclared(imported, _declared()) == []


def test_every_library_the_tests_and_benchmarks_import_is_declared() -> None:
    imported = (_imported(ROOT / "tests") | _imported(ROOT / "bench")) - {"tests"}
    assert imported and _undeclared(imported, _declared("dev")) == []
