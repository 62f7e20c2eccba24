"""Pick the loader a ``DataConfig`` names and call it with the config's settings.

Relative paths are resolved against the config file's folder. For ``st_har`` the path
``builtin`` means the dataset shipped in synth/assets/st_har_bsd3/dataset. For ``csv``, when
``classes`` names exactly one class, captures without a label column belong to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from synth.core.config import DataConfig
from synth.core.windows import Windows
from synth.data.csv_capture import load_captures
from synth.data.hapt import load_hapt
from synth.data.pamap2 import load_pamap2
from synth.data.st_har import DEFAULT_FOLDER, load_st_har
from synth.data.st_mobility import load_st_mobility

BUILTIN = "builtin"


def load_windows(data: DataConfig, rate_hz: float, base_dir: Path) -> Windows:
    """Windows (N, data.window, 3) in g at ``rate_hz`` from the source ``data`` describes.

    ``base_dir`` is the folder of the config file; the stride defaults to the window length.
    """
    return _LOADERS[data.source](data, resolve_path(data, base_dir), rate_hz)


def resolve_path(data: DataConfig, base_dir: Path) -> Path:
    """``data.path`` made absolute against ``base_dir`` (the shipped folder for st_har 'builtin')."""
    if data.source == "st_har" and data.path == BUILTIN:
        return DEFAULT_FOLDER
    path = Path(data.path).expanduser()
    return path if path.is_absolute() else Path(base_dir) / path


def _pamap2(data: DataConfig, path: Path, rate_hz: float) -> Windows:
    return load_pamap2(
        path, rate_hz, data.window, data.stride, data.classes, data.imu, data.accelerometer, data.max_gap_s
    )


def _st_mobility(data: DataConfig, path: Path, rate_hz: float) -> Windows:
    return load_st_mobility(path, rate_hz, data.window, data.stride, data.classes)


def _st_har(data: DataConfig, path: Path, rate_hz: float) -> Windows:
    return load_st_har(path, rate_hz, data.window, data.stride, data.classes)


def _hapt(data: DataConfig, path: Path, rate_hz: float) -> Windows:
    return load_hapt(path, rate_hz, data.window, data.stride, data.classes)


def _csv(data: DataConfig, path: Path, rate_hz: float) -> Windows:
    only_class = next(iter(data.classes)) if data.classes and len(data.classes) == 1 else None
    return load_captures(path, rate_hz, data.window, data.stride, data.classes, unlabelled_class=only_class)


_LOADERS: dict[str, Callable[[DataConfig, Path, float], Windows]] = {
    "pamap2": _pamap2,
    "st_mobility": _st_mobility,
    "st_har": _st_har,
    "csv": _csv,
    "hapt": _hapt,
}
