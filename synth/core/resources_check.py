"""Whether this machine can hold and store an output of a given size, asked before the work starts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from synth.core.errors import ConfigError


def available_memory_bytes() -> int:
    """Memory the kernel can hand out now (MemAvailable), or physical memory where that is unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def free_disk_bytes(path: Path) -> int:
    """Free bytes on the file system that would hold ``path`` (its nearest existing parent)."""
    path = Path(path).resolve()
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


def check_fits(what: str, memory_bytes: int, disk_bytes: int, out: Path, fix: str) -> None:
    """ConfigError in one line when ``what`` needs more memory or disk than this machine has."""
    for need, have, where in ((memory_bytes, available_memory_bytes(), "memory"),
                              (disk_bytes, free_disk_bytes(out), f"free disk at {out}")):
        if need > have:
            raise ConfigError(f"{what} needs about {_size(need)} of {where} (available: {_size(have)}); {fix}")


def _size(n: int) -> str:
    """Bytes in the largest unit that keeps the figure >= 1 (B, KB, MB, GB, TB)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
