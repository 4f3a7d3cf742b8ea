"""The fleet namespace's private hosts file (``/etc/netns/<namespace>/hosts``, which ``ip netns exec``
bind-mounts over ``/etc/hosts`` for the processes that resolve names there). Edited in place under a lock:
a bind mount holds the file's inode, so a replaced file would go unseen."""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path

HEADER = "# names resolved inside the kurator fleet's network namespace\n127.0.0.1 localhost\n"


def _edit(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    with path.open("r+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        lines = change(fh.read().splitlines())
        fh.seek(0)
        fh.write("\n".join(lines) + "\n")
        fh.truncate()


def _name(line: str) -> str | None:
    parts = line.split()
    return parts[1] if len(parts) > 1 and not line.startswith("#") else None


def map_names(path: Path, names: dict[str, str]) -> None:
    """Resolve each of ``names`` (DNS name -> address)."""
    _edit(
        path,
        lambda lines: (
            [ln for ln in lines if _name(ln) not in names] + [f"{a} {n}" for n, a in sorted(names.items())]
        ),
    )


def unmap_names(path: Path, names: list[str]) -> None:
    gone = set(names)
    _edit(path, lambda lines: [ln for ln in lines if _name(ln) not in gone])


def mapped(path: Path) -> dict[str, str]:
    """Name -> address of every mapping."""
    out = {}
    for line in path.read_text().splitlines():
        if (name := _name(line)) is not None:
            out[name] = line.split()[0]
    return out
