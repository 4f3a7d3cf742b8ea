#!/usr/bin/env bash
# What can be checked of the operator image without a container engine: the build context the Dockerfile
# sees (.dockerignore applied: pyproject.toml, README.md, src/) is copied alone, installed with `pip install .`
# into a fresh virtualenv of this machine's python3 (the image uses python:3.11-slim), and the image's
# entrypoint, `kurator operator run`, is run with --help from there. Needs PyPI (the dependencies).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/context"
cp "$root/pyproject.toml" "$root/README.md" "$work/context/"
(cd "$root" && tar --exclude=__pycache__ --exclude='*.pyc' -cf - src) | tar -xf - -C "$work/context"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --no-cache-dir "$work/context"
cd "$work"  # not the repository: nothing of it may be imported but what was installed
help="$("$work/venv/bin/kurator" operator run --help)"
for flag in --operator-namespace --listen --leader-elect --retries --delete-timeout; do
    grep -q -- "$flag" <<<"$help" || { echo "kurator operator run --help lacks $flag" >&2; exit 1; }
done
"$work/venv/bin/python" - <<'PY'
from importlib import resources
chart = resources.files("kurator") / "components" / "charts" / "cluster-operator"
crds = sorted(p.name for p in (chart / "crds").iterdir())
assert crds == ["cluster.kurator.dev_customclusters.yaml", "cluster.kurator.dev_custommachines.yaml"], crds
assert (chart / "templates" / "_helpers.tpl").is_file()
print("installed package carries the chart:", ", ".join(crds))
PY
echo "ok: a fresh install of the image's build context runs \`kurator operator run --help\`"
