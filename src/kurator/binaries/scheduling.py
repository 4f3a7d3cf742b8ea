"""How many Go builds run at once, which goes next, and how their progress reads."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from kurator.binaries.gobuild import Progress

# Peak resident memory of one module group's `go build`: 4.0 GiB for Cluster API + CAPA (CAPA's AWS SDK
# packages), 1.5 GiB for Kubernetes + Karmada + helm (measured with /usr/bin/time, cold).
GIB = 2**30
MEMORY_PER_BUILD = 4 * GIB


def available_memory(meminfo: Path = Path("/proc/meminfo")) -> int:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def parallel_builds(memory: int | None = None, cpus: int | None = None) -> int:
    """Two builds at a time when memory allows (``$KURATOR_BUILD_JOBS`` overrides): each `go build`
    already compiles on every CPU, so a second one only fills the first's quiet stretches (downloads, a
    last big package, links); more would only add memory."""
    if env := os.environ.get("KURATOR_BUILD_JOBS", "").strip():
        return max(1, int(env)) if env.isdigit() else 1
    mem = available_memory() if memory is None else memory
    cpu = (os.cpu_count() or 1) if cpus is None else cpus
    return 2 if cpu > 1 and mem >= 2 * MEMORY_PER_BUILD + GIB else 1


class Slots:
    """At most ``n`` holders at a time; when one leaves, the waiting one of the largest weight goes next."""

    def __init__(self, n: int) -> None:
        self._free = n
        self._waiting: list[tuple[int, int]] = []
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def taken(self, weight: int) -> Iterator[None]:
        me = (-weight, threading.get_ident())
        with self._changed:
            self._waiting.append(me)
            while not (self._free and min(self._waiting) == me):
                self._changed.wait()
            self._waiting.remove(me)
            self._free -= 1
        try:
            yield
        finally:
            with self._changed:
                self._free += 1
                self._changed.notify_all()


def short(key: str) -> str:
    """``kubernetes-1.35.4`` -> ``kubernetes``."""
    return key.rsplit("-", 1)[0]


def describe(progress: Mapping[str, Progress], elapsed: float | None = None) -> str:
    """One line for every build under way: packages compiled of those known, who compiles, who
    downloads, e.g. ``2130/9800 packages (kubernetes, thanos compiling; helm downloading)``."""
    compiled = sum(p.compiled for p in progress.values())
    total = sum(max(p.total, p.compiled) for p in progress.values())
    by_phase: dict[str, list[str]] = {}
    for key, p in progress.items():
        by_phase.setdefault(p.phase, []).append(short(key))
    phases = ("compiling", "downloading", "queued")
    parts = [f"{', '.join(by_phase[ph])} {ph}" for ph in phases if by_phase.get(ph)]
    counted = f"{compiled}/{total} packages" if total else f"{compiled} packages"
    so_far = f"; {int(elapsed) // 60}m {int(elapsed) % 60:02d}s in all" if elapsed is not None else ""
    return counted + (f" ({'; '.join(parts)}{so_far})" if parts else "")
