"""CSV captures: the text format ``synth stream`` records, a writer and a loader.

Format (UTF-8, one sample per line, comma-separated, no spaces)::

    # rate_hz=26 sensor=lsm6dsl_4g
    time_s,x_mg,y_mg,z_mg,label
    0.000000,-16,-12,1036,stationary
    0.038462,-15,-13,1035,stationary

- Optional leading comment lines start with ``#`` and hold ``key=value`` pairs separated by
  spaces. ``rate_hz`` (samples per second) is the one the loader reads; others are kept for
  people (sensor, profile, firmware ...).
- The header is required: ``time_s,x_mg,y_mg,z_mg`` and, optionally, ``label``.
- time_s: seconds since the start of the capture; x_mg, y_mg, z_mg: acceleration in mg with
  gravity included, in the sensor's axes; label: the class name of the sample, or empty for a
  sample of no class.
- Samples are evenly spaced. The rate is ``rate_hz`` from the comment line or, without it,
  1 / the median time step.

Loading gives one recording per file (groups = file stem); a capture without a label column
takes the class the caller names (``unlabelled_class``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from synth.core.atomic import open_atomic
from synth.core.errors import DataError
from synth.core.transforms import mg_to_g
from synth.core.windows import Windows
from synth.data.recordings import (
    ClassMapping, Recording, find_files, first_non_number, label_array, resolve_classes, windows_from_recordings,
)

COLUMNS = ("time_s", "x_mg", "y_mg", "z_mg")
LABEL = "label"
HEADER = ",".join(COLUMNS) + f"[,{LABEL}]"


@dataclass(frozen=True)
class Capture:
    """One capture file: samples_mg (S, 3) float64 in mg, labels (S,) str ("" = no class) or
    None when the file has no label column, rate_hz samples per second."""

    samples_mg: np.ndarray
    labels: Optional[np.ndarray]
    rate_hz: float


def write_capture(
    path: str | Path,
    samples_mg: np.ndarray,
    rate_hz: float,
    labels: Optional[Sequence[str]] = None,
    start_time: float = 0.0,
    metadata: Optional[Mapping[str, object]] = None,
) -> Path:
    """Write samples (S, 3) in mg (and optional per-sample class names) as a capture, atomically.

    ``start_time`` is the time_s of the first sample; ``metadata`` adds key=value pairs to the
    comment line after rate_hz. Returns the path.
    """
    samples_mg = np.asarray(samples_mg, dtype=np.float64)
    if samples_mg.ndim != 2 or samples_mg.shape[1] != 3:
        raise DataError(f"capture samples must have shape (S, 3) in mg, got {samples_mg.shape}")
    if not rate_hz > 0:
        raise DataError(f"capture rate_hz must be positive, got {rate_hz}")
    times = start_time + np.arange(len(samples_mg)) / rate_hz
    rows = [f"{t:.6f},{x:.6g},{y:.6g},{z:.6g}" for t, (x, y, z) in zip(times, samples_mg)]
    if labels is not None:
        rows = [f"{row},{label}" for row, label in zip(rows, _checked_labels(labels, len(rows)))]
    with open_atomic(Path(path), "w") as handle:
        header = ",".join(COLUMNS) + ("" if labels is None else f",{LABEL}")
        handle.write(_comment(rate_hz, metadata or {}) + header + "\n")
        handle.write("".join(row + "\n" for row in rows))
    return Path(path)


def _comment(rate_hz: float, metadata: Mapping[str, object]) -> str:
    """The ``# rate_hz=.. key=value`` line; keys and values may not hold spaces, '=' or newlines."""
    pairs = {"rate_hz": f"{rate_hz:g}", **{str(k): str(v) for k, v in metadata.items()}}
    for key, value in pairs.items():
        if any(c in key + value for c in " =\n\r") or not key:
            raise DataError(f"capture metadata {key}={value!r}: keys and values may not hold spaces, '=' or newlines")
    return "# " + " ".join(f"{k}={v}" for k, v in pairs.items()) + "\n"


def _checked_labels(labels: Sequence[str], count: int) -> list[str]:
    """Labels as strings, one per sample, none holding a comma, quote or newline."""
    labels = [str(label) for label in labels]
    if len(labels) != count:
        raise DataError(f"capture labels: got {len(labels)} for {count} samples")
    bad = [label for label in labels if any(c in label for c in ',"\n\r')]
    if bad:
        raise DataError(f"capture label {bad[0]!r} holds a comma, quote or newline")
    return labels


def read_capture(path: str | Path) -> Capture:
    """Parse one capture file (see the module docstring for the format)."""
    path = Path(path)
    metadata, skip = _read_comments(path)
    frame = _read_table(path, skip)
    samples = frame[list(COLUMNS[1:])].to_numpy(np.float64)
    labels = frame[LABEL].to_numpy(str) if LABEL in frame.columns else None
    return Capture(samples, labels, _rate(path, metadata, frame["time_s"].to_numpy(np.float64)))


def read_metadata(path: str | Path) -> dict[str, str]:
    """The ``key=value`` pairs of a capture's leading comment lines (e.g. rate_hz, sensor)."""
    return _read_comments(Path(path))[0]


def _read_comments(path: Path) -> tuple[dict[str, str], int]:
    """The key=value pairs of the leading ``#`` lines, and how many such lines there are."""
    metadata: dict[str, str] = {}
    lines = 0
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.startswith("#"):
                    break
                lines += 1
                metadata.update(pair.split("=", 1) for pair in line[1:].split() if "=" in pair)
    except FileNotFoundError:
        raise DataError(f"capture not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read capture {path}: {exc}") from None
    return metadata, lines


def _read_table(path: Path, skip: int) -> pd.DataFrame:
    """The header and sample lines, checked: the four numeric columns, label optional."""
    try:
        frame = pd.read_csv(path, skiprows=skip, dtype={LABEL: str}, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataError(f"{path}: not a capture (header {HEADER}, then one sample a line): {exc}") from None
    missing = [name for name in COLUMNS if name not in frame.columns]
    if missing or len(frame) == 0:
        found = ",".join(map(str, frame.columns))
        raise DataError(f"{path}: expected header {HEADER} and at least one sample; found {found}")
    for name in COLUMNS:
        _check_numbers(path, frame[name], first_line=skip + 2)
    if LABEL in frame.columns:
        frame[LABEL] = frame[LABEL].fillna("")
    return frame


def _check_numbers(path: Path, column: pd.Series, first_line: int) -> None:
    """DataError naming the line of the first text or empty value in a numeric column."""
    row = first_non_number(column)
    if row is None and column.isna().any():
        row = int(column.isna().idxmax())
    if row is not None:
        raise DataError(f"{path}: line {first_line + row}, column {column.name}: {column.loc[row]!r} is not a number")


def _rate(path: Path, metadata: Mapping[str, str], time_s: np.ndarray) -> float:
    """rate_hz from the metadata, else 1 / the median time step."""
    if "rate_hz" in metadata:
        try:
            rate = float(metadata["rate_hz"])
        except ValueError:
            rate = 0.0
        if not rate > 0:
            raise DataError(f"{path}: rate_hz={metadata['rate_hz']!r} is not a positive number")
        return rate
    steps = np.diff(time_s)
    if len(steps) == 0 or not np.median(steps) > 0:
        raise DataError(f"{path}: cannot tell the rate: add '# rate_hz=...' or at least two increasing time_s values")
    return float(1.0 / np.median(steps))


def capture_files(paths_or_folder: str | Path | Sequence[str | Path]) -> list[Path]:
    """A folder's ``*.csv`` files (sorted), or the given file(s)."""
    if isinstance(paths_or_folder, (str, Path)):
        return find_files(paths_or_folder, "*.csv", "capture")
    return [Path(p) for p in paths_or_folder]


def load_captures(
    paths_or_folder: str | Path | Sequence[str | Path],
    rate_hz: float,
    window: int,
    stride: Optional[int] = None,
    classes: Optional[ClassMapping] = None,
    unlabelled_class: Optional[str] = None,
) -> Windows:
    """Windows (N, window, 3) in g at ``rate_hz`` from capture files or a folder of them.

    Captures at another rate are resampled. ``classes`` maps class names to capture labels
    (default: one class per label found, sorted); every sample of a capture without a label
    column belongs to the class ``unlabelled_class``. Groups are file stems.
    """
    files = capture_files(paths_or_folder)
    captures = [read_capture(file) for file in files]
    unlabelled = [f for f, c in zip(files, captures) if c.labels is None]
    if unlabelled and unlabelled_class is None:
        raise DataError(f"{unlabelled[0]} has no label column: name the class of unlabelled captures")
    found = _labels_found(captures, unlabelled_class)
    labelled = len(unlabelled) < len(captures)
    names, lookup = resolve_classes(
        classes, {label: [label] for label in found}, lambda label: _known_label(label, found, labelled)
    )
    recordings = [
        Recording(mg_to_g(c.samples_mg), _class_indices(c, names, lookup, unlabelled_class), f.stem, c.rate_hz)
        for f, c in zip(files, captures)
    ]
    return windows_from_recordings(recordings, names, rate_hz, window, stride, source=str(paths_or_folder))


def _labels_found(captures: Sequence[Capture], unlabelled_class: Optional[str]) -> list[str]:
    """Sorted distinct non-empty labels of the captures, with ``unlabelled_class`` if given."""
    found = {str(label) for c in captures if c.labels is not None for label in np.unique(c.labels)}
    found |= {unlabelled_class} if unlabelled_class is not None else set()
    return sorted(found - {""})


def _known_label(label: int | str, found: Sequence[str], check: bool) -> str:
    """A class mapping's label as a capture label; DataError if ``check`` and no capture holds it
    (without any label column the mapping's labels match nothing, so there is nothing to check)."""
    if check and str(label) not in found:
        raise DataError(f"no capture has label {label!r} (labels found: {', '.join(found) or 'none'})")
    return str(label)


def _class_indices(
    capture: Capture, names: Sequence[str], lookup: Mapping[str, int], unlabelled_class: Optional[str]
) -> np.ndarray:
    """(S,) class index of every sample: from its label, or ``unlabelled_class`` for a capture without labels."""
    if capture.labels is not None:
        return label_array(capture.labels, lookup)
    if unlabelled_class not in names:
        raise DataError(f"class {unlabelled_class!r} for unlabelled captures is not one of: {', '.join(names)}")
    return np.full(len(capture.samples_mg), names.index(unlabelled_class), np.int64)
