"""What every real-data loader shares: a ``Recording`` (one contiguous stretch of samples in g
with per-sample class indices), the mapping of source labels to output classes, and the path
from recordings to windows (resample to the requested rate, cut, majority-label).

NumPy only to import (``synth data fetch`` checks a HAPT download with the HAPT loader): SciPy is
imported only when a recording is actually resampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Hashable, Mapping, Optional, Sequence

import numpy as np

from synth.core.errors import DataError
from synth.core.windows import UNLABELLED, Windows, concat, cut_windows

ClassMapping = Mapping[str, Sequence[int | str]]


@dataclass(frozen=True)
class Recording:
    """One contiguous, evenly sampled recording.

    samples: (S, 3) float in g; labels: (S,) int class indices (UNLABELLED for samples of no
    class); group: the recording or subject id it belongs to; rate_hz: samples per second.
    """

    samples: np.ndarray
    labels: np.ndarray
    group: str
    rate_hz: float


def find_files(path: str | Path, pattern: str, what: str) -> list[Path]:
    """``path`` itself when it is a file, else the files matching ``pattern`` in the folder
    ``path``, sorted; DataError naming ``what`` when the path is missing or the folder empty."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob(pattern))
        if not files:
            raise DataError(f"no {pattern} files in {what} folder {path}")
        return files
    if not path.is_file():
        raise DataError(f"{what} not found: {path} (expected a file or a folder of {pattern} files)")
    return [path]


def resolve_classes(
    classes: Optional[ClassMapping], default: ClassMapping, canonical: Callable[[int | str], Hashable]
) -> tuple[tuple[str, ...], dict[Hashable, int]]:
    """Output class names and a lookup {source label: class index}.

    ``classes`` (or ``default`` when None) maps each output class to the source labels it
    gathers; ``canonical`` turns a user's label (int or name) into the source's own key and
    raises DataError for a label the source does not have.
    """
    mapping = default if classes is None else classes
    if not mapping:
        raise DataError("classes must name at least one class with its source labels")
    lookup: dict[Hashable, int] = {}
    for index, (name, labels) in enumerate(mapping.items()):
        if not labels:
            raise DataError(f"class {name!r} lists no source labels")
        for label in labels:
            key = canonical(label)
            if key in lookup:
                raise DataError(f"source label {label!r} is mapped to more than one class")
            lookup[key] = index
    return tuple(mapping), lookup


def windows_from_recordings(
    recordings: Sequence[Recording],
    classes: Sequence[str],
    to_hz: float,
    length: int,
    stride: Optional[int] = None,
    source: str = "data",
) -> Windows:
    """Resample each recording to ``to_hz`` and cut it into windows of ``length`` samples
    every ``stride`` samples (default: ``length``, no overlap).

    Windows never cross from one recording into the next. Raises DataError naming ``source``
    when no labelled window results.
    """
    stride = length if stride is None else stride
    parts = [_recording_windows(rec, classes, to_hz, length, stride) for rec in recordings]
    windows = concat(parts) if parts else None
    if windows is None or len(windows) == 0:
        raise DataError(f"{source}: no labelled window of {length} samples at {to_hz:g} Hz")
    return windows


def _recording_windows(rec: Recording, classes: Sequence[str], to_hz: float, length: int, stride: int) -> Windows:
    """The windows of one recording (possibly none), in g."""
    samples, labels = resample_recording(rec.samples, rec.labels, rec.rate_hz, to_hz)
    x, y = cut_windows(samples, labels, length, stride)
    groups = np.full(len(y), rec.group, dtype=object).astype(str)
    return Windows(x=x, y=y, classes=tuple(classes), rate_hz=float(to_hz), units="g", groups=groups)


def resample_recording(
    samples: np.ndarray, labels: np.ndarray, from_hz: float, to_hz: float
) -> tuple[np.ndarray, np.ndarray]:
    """Resample samples (S, C) with ``synth.core.transforms.resample``; labels (S,) follow the
    nearest original sample. Returns (samples (S', C) float64, labels (S',) int64).

    The recording is padded with copies of its end samples before filtering and the padding is
    trimmed afterwards: the polyphase filter would otherwise see zeros beyond each end and pull
    the first and last few samples (gravity included) towards 0 g.
    """
    from synth.core.transforms import resample  # SciPy loads only when a recording is resampled (see above)

    ratio = Fraction(to_hz / from_hz).limit_denominator(1000)  # the ratio resample() uses
    if ratio == 1 or len(samples) == 0:
        return np.asarray(samples, np.float64), np.asarray(labels, np.int64)
    pad = _edge_padding(ratio)
    padded = np.pad(samples, ((pad, pad), (0, 0)), mode="edge")
    out_pad = pad * ratio.numerator // ratio.denominator
    n_out = math.ceil(len(samples) * ratio)
    out = resample(padded, from_hz, to_hz)[out_pad : out_pad + n_out]
    # output sample j lies at input position j * down / up; round it in integers
    nearest = (2 * np.arange(n_out) * ratio.denominator + ratio.numerator) // (2 * ratio.numerator)
    return out, np.asarray(labels, np.int64)[np.minimum(nearest, len(labels) - 1)]


def _edge_padding(ratio: Fraction) -> int:
    """Input samples of padding that cover the filter's half-length and map to a whole number
    of output samples (a multiple of the ratio's denominator)."""
    up, down = ratio.numerator, ratio.denominator
    half_length = 10 * max(up, down) / up  # scipy's resample_poly filter half-length, input samples
    return down * math.ceil(half_length / down)


def label_array(keys: np.ndarray, lookup: Mapping[Hashable, int]) -> np.ndarray:
    """Class index (S,) int64 of each source label in ``keys``; UNLABELLED where unmapped."""
    out = np.full(len(keys), UNLABELLED, np.int64)
    for key, index in lookup.items():
        out[keys == key] = index
    return out


def first_non_number(column: "pandas.Series") -> Optional[int]:
    """Index label of the first value in a parsed column that is text rather than a number
    (missing values do not count), or None when the column is numeric."""
    import pandas as pd  # callers already hold a DataFrame; keeps this module NumPy-only to import

    if column.dtype.kind in "fiu":
        return None
    bad = pd.to_numeric(column, errors="coerce").isna() & column.notna()
    return int(bad.idxmax()) if bad.any() else None
