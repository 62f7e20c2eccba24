"""Where each artefact of a training run lives, and the fingerprints recorded with it.

A run directory holds: config.json (the resolved config), run.json (seed, data hash, class
names, versions), losses.csv, checkpoints/, samples_<class>.png, and generator/ (the trained
generator as .keras, as plain weights and with its metadata).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def config_path(run_dir: Path) -> Path:
    return run_dir / "config.json"


def run_info_path(run_dir: Path) -> Path:
    return run_dir / "run.json"


def losses_path(run_dir: Path) -> Path:
    return run_dir / "losses.csv"


def checkpoints_dir(run_dir: Path) -> Path:
    return run_dir / "checkpoints"


def samples_plot_path(run_dir: Path, class_name: str) -> Path:
    return run_dir / f"samples_{class_name}.png"


def generator_dir(run_dir: Path) -> Path:
    return run_dir / "generator"


def hash_arrays(*arrays: np.ndarray, extra: str = "") -> str:
    """sha256 (hex) of the arrays' dtypes, shapes and bytes, plus an extra string (e.g. classes)."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    digest.update(extra.encode())
    return digest.hexdigest()


def hash_file(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """sha256 (hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()
