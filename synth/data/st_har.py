"""ST "Human activities dataset" (BSD-3-Clause, shipped in synth/assets/st_har_bsd3) -> Windows in g.

Layout: ``<folder>/{stationary,walking,running}/*.csv``, one recording per file, one headerless
``x, y, z`` line per sample: integers in mg (gravity included), LSM6DSL at 26 Hz, +-4 g. The
class of a recording is the name of its folder. Groups are file stems, so splits are by
recording (the subjects are not documented).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from synth.core.errors import DataError
from synth.core.transforms import mg_to_g
from synth.core.windows import Windows
from synth.data.recordings import ClassMapping, Recording, resolve_classes, windows_from_recordings

RATE_HZ = 26.0
LABELS = ("stationary", "walking", "running")  # folder names, in the class order of ST's model
DEFAULT_CLASSES = {name: [name] for name in LABELS}
DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / "assets" / "st_har_bsd3" / "dataset"
LAYOUT = "headerless 'x, y, z' lines of numbers in mg"


def load_st_har(
    folder: str | Path = DEFAULT_FOLDER,
    rate_hz: float = RATE_HZ,
    window: int = 24,
    stride: Optional[int] = None,
    classes: Optional[ClassMapping] = None,
) -> Windows:
    """Windows (N, window, 3) in g at ``rate_hz``; ``classes`` maps class names to folder names
    or their indices in LABELS (default: one class per folder); ``stride`` defaults to ``window``."""
    names, lookup = resolve_classes(classes, DEFAULT_CLASSES, label_name)
    recordings = [
        _recording(file, index) for label, index in lookup.items() for file in recording_files(Path(folder), label)
    ]
    return windows_from_recordings(recordings, names, rate_hz, window, stride, source=str(folder))


def label_name(label: int | str) -> str:
    """The folder a class mapping names, by name ("walking") or index in LABELS (1)."""
    if isinstance(label, int) and 0 <= label < len(LABELS):
        return LABELS[label]
    if isinstance(label, str) and label.strip().lower() in LABELS:
        return label.strip().lower()
    allowed = ", ".join(f"{i} {name}" for i, name in enumerate(LABELS))
    raise DataError(f"unknown ST HAR label {label!r} (allowed: {allowed})")


def recording_files(folder: Path, label: str) -> list[Path]:
    """The sorted CSV recordings of one class folder; DataError if there are none."""
    if not folder.is_dir():
        raise DataError(f"ST HAR folder not found: {folder} (expected {'/, '.join(LABELS)}/ inside it)")
    files = sorted((folder / label).glob("*.csv"))
    if not files:
        raise DataError(f"no .csv recordings in {folder / label} (expected {LAYOUT})")
    return files


def read_recording(path: Path) -> np.ndarray:
    """Samples (S, 3) float64 in mg from one recording file."""
    try:
        frame = pd.read_csv(path, header=None, skipinitialspace=True, dtype=np.float64)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: expected {LAYOUT}: {exc}") from None
    values = frame.to_numpy()
    if values.shape[1] != 3 or np.isnan(values).any():
        raise DataError(f"{path}: expected {LAYOUT}; found {values.shape[1]} columns or empty fields")
    return values


def _recording(file: Path, class_index: int) -> Recording:
    """One file as a Recording in g, every sample labelled ``class_index``."""
    samples = mg_to_g(read_recording(file))
    return Recording(samples, np.full(len(samples), class_index, np.int64), file.stem, RATE_HZ)
