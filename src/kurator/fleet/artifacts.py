"""Component artifacts (charts, manifests): fetched once, proven by sha256 every time they are used.

The cache is ``~/.kurator/artifacts/<name>-<version>/<payload>``; an offline bundle made by
``kurator artifacts pull --to DIR`` has the same layout plus an ``index.json``, so an air-gapped machine
installs with ``--artifacts-dir DIR`` and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from kurator.core.errors import InvalidInput, KuratorError
from kurator.core.paths import kurator_home
from kurator.fleet.component import Artifact

PACKAGE_PREFIX = "package:"
FILE_PREFIX = "file:"  # a chart folder or archive on this machine, named by the user (digest taken at start)
INDEX = "index.json"


def artifacts_home() -> Path:
    return kurator_home() / "artifacts"


def digest(path: Path) -> str:
    """sha256 of a file's bytes; of a folder, sha256 of its sorted ``<sha256>  <relative path>`` lines
    (file modes and times do not count, so a copy or a checkout digests the same)."""
    if path.is_file():
        return _file_sha256(path)
    lines = sorted(
        f"{_file_sha256(f)}  {f.relative_to(path).as_posix()}\n"
        for f in path.rglob("*")
        if f.is_file() and "__pycache__" not in f.parts
    )
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def payload_name(artifact: Artifact) -> str:
    return artifact.source.rstrip("/").rsplit("/", 1)[-1].removeprefix(PACKAGE_PREFIX)


def _verify(artifact: Artifact, path: Path, where: str) -> Path:
    got = digest(path)
    if got != artifact.sha256:
        raise InvalidInput(
            f"checksum mismatch for artifact {artifact.key} in {where}: expected sha256 {artifact.sha256}, "
            f"found {got}; it was changed or damaged, so nothing was installed",
            f"remove {path.parent} and fetch it again (`kurator artifacts pull`), or use an intact bundle",
        )
    return path


def _package_folder(artifact: Artifact) -> Path:
    relative = artifact.source.removeprefix(PACKAGE_PREFIX)
    return Path(str(resources.files("kurator").joinpath(relative)))


def _fetch_into(artifact: Artifact, tmp: Path) -> Path:
    target = tmp / payload_name(artifact)
    if artifact.source.startswith(PACKAGE_PREFIX):
        shutil.copytree(_package_folder(artifact), target, ignore=shutil.ignore_patterns("__pycache__"))
        return target
    if not artifact.source.startswith("https://"):
        raise KuratorError(f"artifact {artifact.key} has an unsupported source {artifact.source!r}")
    # Only here: the HTTP stack is slow to import, and most installs use the cache.
    from kurator.binaries.download import stream_to

    with target.open("wb") as out:
        stream_to(artifact.source, out)
    return target


def obtain(artifact: Artifact, artifacts_dir: Path | None = None) -> Path:
    """The verified payload of ``artifact``: from ``artifacts_dir`` (never the network) when given, else
    from the cache, fetching it there first if missing. A digest mismatch is an error, never a re-fetch."""
    if artifact.source.startswith(FILE_PREFIX):  # a chart the user named on this machine: used in place
        local = Path(artifact.source.removeprefix(FILE_PREFIX))
        return _verify(artifact, local, str(local.parent))
    if artifacts_dir is not None:
        path = artifacts_dir / artifact.key / payload_name(artifact)
        if not path.exists():
            raise InvalidInput(
                f"artifact {artifact.key} is not in {artifacts_dir}",
                "build the bundle with `kurator artifacts pull <component>... --to DIR`",
            )
        return _verify(artifact, path, str(artifacts_dir))
    entry = artifacts_home() / artifact.key
    path = entry / payload_name(artifact)
    if path.exists():
        return _verify(artifact, path, str(artifacts_home()))
    entry.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=entry.parent, prefix=f".{artifact.key}-") as tmp:
        fetched = _verify(artifact, _fetch_into(artifact, Path(tmp)), artifact.source)
        staged = Path(tmp) / "entry"
        staged.mkdir()
        fetched.rename(staged / fetched.name)
        os.replace(staged, entry)  # the entry appears whole or not at all
    return path


def pull(artifacts: list[Artifact], to: Path) -> list[Path]:
    """Copy each verified artifact into the bundle folder ``to`` and (re)write its index."""
    from kurator.core import inputs

    if to.exists() and not to.is_dir():
        raise InvalidInput(f"--to {to} is a file, not a folder", "name a folder (it is created if missing)")
    try:
        to.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"--to {to}: the folder cannot be made: {exc.strerror or exc}") from None
    index_path = to / INDEX
    index: dict[str, dict[str, str]] = {}
    if index_path.exists():
        label = f"the bundle's index {index_path}"
        index = inputs.load_json(inputs.read_text(index_path, "the bundle's index", inputs.MiB), label)
        if not isinstance(index, dict):
            raise InvalidInput(f"{label} is damaged: it is not a mapping", "delete it or use another --to")
    # An entry the index does not list is not kurator's: refuse before anything is copied or replaced.
    theirs = [a.key for a in artifacts if (to / a.key).exists() and a.key not in index]
    if theirs:
        raise InvalidInput(
            f"{to / theirs[0]} exists but is not in the bundle's index: kurator did not make it; "
            "nothing was changed",
            "move it away or choose another --to",
        )
    out = []
    for artifact in artifacts:
        src = obtain(artifact)
        dest_entry = to / artifact.key
        dest = dest_entry / src.name
        if not (dest.exists() and digest(dest) == artifact.sha256):
            shutil.rmtree(dest_entry, ignore_errors=True)
            dest_entry.mkdir(parents=True)
            if src.is_dir():
                shutil.copytree(src, dest)
            else:
                shutil.copy2(src, dest)
        index[artifact.key] = {"sha256": artifact.sha256, "source": artifact.source, "kind": artifact.kind}
        out.append(dest)
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return out
