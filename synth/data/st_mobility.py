"""ST "mobility_v1" recordings (STM32 model zoo public subset) -> Windows in g.

The file is a pickled dict ``{"files": list[str], "act": list[int], "acc": list[ndarray]}``:
one entry per recording, ``acc[i]`` of shape (N_i, 3) float64 in g (x, y, z), 26 Hz.
Labels: 0 stationary, 1 walking, 2 jogging, 3 biking, 4 vehicle (left out by default, as ST
does). Groups are the recording file names, so splits are by recording.

The data is under ST's SLA0044 licence: read it from where it lies, never copy it into the
repository. The pickle is read with an unpickler that builds only NumPy arrays and plain
containers, so a hostile file cannot run code.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Optional

import numpy as np

from synth.core.errors import DataError
from synth.core.windows import UNLABELLED, Windows
from synth.data.recordings import ClassMapping, Recording, resolve_classes, windows_from_recordings

RATE_HZ = 26.0
LABELS = {0: "stationary", 1: "walking", 2: "jogging", 3: "biking", 4: "vehicle"}
DEFAULT_CLASSES = {"stationary": [0], "walking": [1], "jogging": [2], "biking": [3]}
LAYOUT = "a pickled dict {files: list[str], act: list[int 0-4], acc: list of (N, 3) float arrays in g}"
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


def load_st_mobility(
    path: str | Path,
    rate_hz: float = RATE_HZ,
    window: int = 24,
    stride: Optional[int] = None,
    classes: Optional[ClassMapping] = None,
) -> Windows:
    """Windows (N, window, 3) in g at ``rate_hz``; ``classes`` maps class names to label ints
    or names (default DEFAULT_CLASSES, which leaves vehicle out); ``stride`` defaults to ``window``."""
    names, lookup = resolve_classes(classes, DEFAULT_CLASSES, label_id)
    recordings = [
        Recording(acc, np.full(len(acc), lookup.get(act, UNLABELLED), np.int64), name, RATE_HZ)
        for name, act, acc in read_st_mobility(path)
    ]
    return windows_from_recordings(recordings, names, rate_hz, window, stride, source=str(path))


def label_id(label: int | str) -> int:
    """The mobility_v1 label a class mapping names, by number (2) or name ("Jogging")."""
    by_name = {name: number for number, name in LABELS.items()}
    key = by_name.get(label.strip().lower()) if isinstance(label, str) else label
    if key not in LABELS:
        allowed = ", ".join(f"{k} {v}" for k, v in LABELS.items())
        raise DataError(f"unknown ST mobility label {label!r} (allowed: {allowed})")
    return int(key)


def read_st_mobility(path: str | Path) -> list[tuple[str, int, np.ndarray]]:
    """(file name, label, samples (N, 3) float64 in g) for every recording in the pickle."""
    raw = _unpickle(Path(path))
    if not isinstance(raw, dict) or not {"files", "act", "acc"} <= raw.keys():
        raise DataError(f"{path}: expected {LAYOUT}; got {type(raw).__name__}")
    files, acts, accs = raw["files"], raw["act"], raw["acc"]
    if not (isinstance(files, list) and isinstance(acts, list) and isinstance(accs, list)):
        raise DataError(f"{path}: expected {LAYOUT}; files, act and acc must be lists")
    if not len(files) == len(acts) == len(accs):
        raise DataError(f"{path}: expected {LAYOUT}; files, act and acc differ in length")
    return [_recording(path, i, files[i], acts[i], accs[i]) for i in range(len(files))]


def _recording(path: str | Path, index: int, name: object, act: object, acc: object) -> tuple[str, int, np.ndarray]:
    """One validated entry of the pickle."""
    where = f"{path}: recording {index}"
    if not isinstance(name, str):
        raise DataError(f"{where}: file name must be a string, got {type(name).__name__}")
    if not isinstance(act, (int, np.integer)) or int(act) not in LABELS:
        raise DataError(f"{where} ({name}): label {act!r} is not one of {sorted(LABELS)}")
    if not isinstance(acc, np.ndarray) or acc.ndim != 2 or acc.shape[1] != 3 or acc.dtype.kind not in "fiu":
        raise DataError(f"{where} ({name}): expected a numeric (N, 3) array in g, got {_describe(acc)}")
    if not np.isfinite(acc).all():
        raise DataError(f"{where} ({name}): samples contain NaN or infinity")
    return name, int(act), acc.astype(np.float64)


def _describe(value: object) -> str:
    """Type and shape of a value, for an error message."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


def _unpickle(path: Path) -> object:
    """Unpickle ``path`` with only NumPy array globals allowed; DataError on any failure."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"ST mobility file not found: {path} (expected {LAYOUT})") from None
    except OSError as exc:
        raise DataError(f"cannot read ST mobility file {path}: {exc.strerror}") from None
    try:
        return _ArraysOnly(io.BytesIO(data)).load()
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    except Exception as exc:  # a corrupt pickle can fail in many ways; all mean "not this file"
        reason = f"{type(exc).__name__}: {exc}"
        raise DataError(f"{path}: corrupt or truncated pickle ({reason}); expected {LAYOUT}") from None


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that refuses every global except what NumPy arrays need."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise DataError(f"pickle refers to {module}.{name}, which a data file has no need of; refusing to load it")
        if name == "_reconstruct":
            return np.zeros(0).__reduce__()[0]  # numpy's own _reconstruct, wherever this numpy keeps it
        if name == "scalar":
            return np.int64(0).__reduce__()[0]
        return getattr(np, name)
