"""PAMAP2 Physical Activity Monitoring (UCI 231, CC BY 4.0): subject .dat files -> Windows in g.

Format: 54 space-separated numbers per line, no header, one line every 0.01 s (100 Hz):
timestamp (s), activityID, heart rate (bpm), then three 17-column IMU blocks (hand, chest,
ankle), each: temperature, acceleration +-16 g (x, y, z; m/s^2), acceleration +-6 g (m/s^2),
gyroscope, magnetometer, orientation. Only the timestamp, the activityID and the three columns
of the chosen accelerometer are parsed (pandas' C engine, in chunks, so memory stays small).

Rules, in the order they apply:

- Checks: line 1 must hold 54 numbers; a non-numeric value in a parsed column is a DataError
  naming its line. A last line with fewer than 54 fields (an interrupted download) is dropped
  and counted in ``SubjectTable.dropped_lines``.
- Labels: activity 0 (transient) and every activity mapped to no class become UNLABELLED. Their
  samples stay in the signal but no window is labelled by them.
- Cuts: a timestamp step outside 0.5..1.5 sample periods (the recordings were spliced) starts a
  new segment.
- Dropouts: a row with NaN in any of the three acceleration columns is missing. A run of n
  missing rows lasts n * 10 ms. A run of at most ``max_gap_s`` (default 0.1 s) with valid rows
  on both sides is linearly interpolated, axis by axis. Longer runs, and runs at either end of a
  segment, are removed and cut the segment in two.
- Each segment: m/s^2 -> g, resampled from 100 Hz to the requested rate (polyphase
  anti-aliasing), labels taken from the nearest original sample; then cut into windows with
  the majority label. Windows never straddle a cut.
- Groups: the subject id from the file name (``subject101``), so splits are by subject.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import pandas as pd

from synth.core.errors import DataError
from synth.core.transforms import ms2_to_g
from synth.core.windows import Windows
from synth.data.recordings import (
    ClassMapping, Recording, find_files, first_non_number, label_array, resolve_classes, windows_from_recordings,
)

log = logging.getLogger(__name__)

RATE_HZ = 100.0
N_COLUMNS = 54
CHUNK_ROWS = 200_000
FORMAT = "a PAMAP2 .dat line holds 54 space-separated numbers"
IMUS = {"hand": 3, "chest": 20, "ankle": 37}  # 0-based column of each block's temperature
ACCELEROMETERS = {"16g": 1, "6g": 4}  # first acceleration column after the temperature
ACTIVITIES = {
    1: "lying", 2: "sitting", 3: "standing", 4: "walking", 5: "running", 6: "cycling",
    7: "nordic walking", 9: "watching tv", 10: "computer work", 11: "car driving",
    12: "ascending stairs", 13: "descending stairs", 16: "vacuum cleaning", 17: "ironing",
    18: "folding laundry", 19: "house cleaning", 20: "playing soccer", 24: "rope jumping",
}
DEFAULT_CLASSES = {"stationary": [1, 2, 3], "walk": [4], "run": [5]}


@dataclass(frozen=True)
class SubjectTable:
    """The parsed rows of one subject file.

    time_s: (S,) seconds; activity: (S,) int activity IDs; acc_ms2: (S, 3) m/s^2, NaN where
    the IMU dropped out; dropped_lines: truncated lines left out (0 or 1).
    """

    time_s: np.ndarray
    activity: np.ndarray
    acc_ms2: np.ndarray
    dropped_lines: int


def load_pamap2(
    path: str | Path,
    rate_hz: float,
    window: int,
    stride: Optional[int] = None,
    classes: Optional[ClassMapping] = None,
    imu: str = "ankle",
    accelerometer: str = "16g",
    max_gap_s: float = 0.1,
) -> Windows:
    """Windows (N, window, 3) in g at ``rate_hz`` from one subject file or a folder of them.

    ``classes`` maps class names to activity IDs (default DEFAULT_CLASSES); ``stride`` defaults
    to ``window``; groups are subject ids.
    """
    names, lookup = resolve_classes(classes, DEFAULT_CLASSES, activity_id)
    recordings: list[Recording] = []
    for file in subject_files(path):
        table = read_subject(file, imu, accelerometer)
        recordings += subject_recordings(table, label_array(table.activity, lookup), file.stem, max_gap_s)
    return windows_from_recordings(recordings, names, rate_hz, window, stride, source=str(path))


def subject_files(path: str | Path) -> list[Path]:
    """The file itself, or every ``subject*.dat`` in a folder (e.g. Protocol/), sorted."""
    return find_files(path, "subject*.dat", "PAMAP2 data")


def activity_id(label: int | str) -> int:
    """The PAMAP2 activity ID a class mapping names, by number (4, "4") or name ("walking")."""
    by_name = {name: number for number, name in ACTIVITIES.items()}
    if isinstance(label, str):
        label = int(label) if label.strip().isdigit() else by_name.get(label.strip().lower(), label)
    if label == 0:
        raise DataError("PAMAP2 activity 0 (transient) cannot belong to a class")
    if label not in ACTIVITIES:
        allowed = ", ".join(f"{k} {v}" for k, v in ACTIVITIES.items())
        raise DataError(f"unknown PAMAP2 activity {label!r} (allowed: {allowed})")
    return int(label)


def acc_columns(imu: str, accelerometer: str) -> list[int]:
    """0-based columns (x, y, z) of one IMU's accelerometer.

    ``imu``: hand, chest or ankle; ``accelerometer``: 16g (recommended) or 6g (saturates above 6 g).
    """
    if imu not in IMUS:
        raise DataError(f"unknown PAMAP2 IMU {imu!r} (allowed: {', '.join(IMUS)})")
    if accelerometer not in ACCELEROMETERS:
        raise DataError(f"unknown PAMAP2 accelerometer {accelerometer!r} (allowed: {', '.join(ACCELEROMETERS)})")
    first = IMUS[imu] + ACCELEROMETERS[accelerometer]
    return [first, first + 1, first + 2]


def read_subject(
    path: str | Path, imu: str = "ankle", accelerometer: str = "16g", chunk_rows: int = CHUNK_ROWS
) -> SubjectTable:
    """Parse timestamp, activityID and one accelerometer (m/s^2) from a subject file."""
    path = Path(path)
    columns = [0, 1, *acc_columns(imu, accelerometer)]
    _check_first_line(path)
    truncated = _last_line_is_truncated(path)
    chunks = list(_chunks(path, columns, chunk_rows))
    if truncated:
        chunks[-1] = chunks[-1].iloc[:-1]  # before the numeric check: a cut value may be text
        log.warning("%s: dropped a truncated last line", path)
    values = np.concatenate([_numeric(chunk, path) for chunk in chunks])
    activity = np.nan_to_num(values[:, 1], nan=0.0).astype(np.int64)
    return SubjectTable(values[:, 0], activity, values[:, 2:], dropped_lines=int(truncated))


def _check_first_line(path: Path) -> None:
    """Raise DataError unless line 1 holds exactly 54 numbers."""
    with path.open("rb") as handle:
        fields = handle.readline(1 << 16).decode("latin-1").split()  # latin-1: any byte decodes
    if not fields:
        raise DataError(f"{path}: line 1 is empty; {FORMAT}")
    if len(fields) != N_COLUMNS:
        raise DataError(f"{path}: line 1 has {len(fields)} fields; {FORMAT}")
    for column, field in enumerate(fields, start=1):
        try:
            float(field)
        except ValueError:
            raise DataError(f"{path}: line 1, column {column}: {field[:20]!r} is not a number; {FORMAT}") from None


def _last_line_is_truncated(path: Path) -> bool:
    """True when the last line has fewer than 54 fields; DataError when it has more."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 8192))
        last = handle.read().rstrip().rsplit(b"\n", 1)[-1]
    count = len(last.split())
    if count > N_COLUMNS:
        raise DataError(f"{path}: last line has {count} fields; {FORMAT}")
    return count < N_COLUMNS


def _chunks(path: Path, columns: list[int], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The chosen columns, ``chunk_rows`` rows at a time; the index is the 0-based line number."""
    try:
        yield from pd.read_csv(
            path, sep=r"\s+", header=None, usecols=columns, engine="c", chunksize=chunk_rows
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: not in PAMAP2 format ({FORMAT}): {exc}") from None


def _numeric(chunk: pd.DataFrame, path: Path) -> np.ndarray:
    """The chunk as float64 (rows, 5); DataError naming the first line with text in a column."""
    for name in chunk.columns:
        row = first_non_number(chunk[name])
        if row is not None:
            value = chunk[name].loc[row]
            raise DataError(f"{path}: line {row + 1}, column {name + 1}: {value!r} is not a number; {FORMAT}")
    return chunk.to_numpy(np.float64)


def subject_recordings(
    table: SubjectTable, labels: np.ndarray, group: str, max_gap_s: float = 0.1
) -> list[Recording]:
    """One Recording (samples in g, 100 Hz) per gap-free segment of a subject's table."""
    return [
        Recording(ms2_to_g(_interpolate(table.acc_ms2[start:stop])), labels[start:stop], group, RATE_HZ)
        for start, stop in segments(table.time_s, table.acc_ms2, max_gap_s)
    ]


def segments(time_s: np.ndarray, acc: np.ndarray, max_gap_s: float = 0.1) -> list[tuple[int, int]]:
    """Row ranges [start, stop) kept together: split at timestamp jumps and at dropouts longer
    than ``max_gap_s``; the NaN rows left inside a range are short gaps to interpolate."""
    missing = np.isnan(acc).any(axis=1)
    max_missing = int(np.floor(max_gap_s * RATE_HZ + 1e-6))
    spans: list[tuple[int, int]] = []
    for start, stop in _time_blocks(time_s):
        spans += [(start + a, start + b) for a, b in _split_at_long_gaps(missing[start:stop], max_missing)]
    return spans


def _time_blocks(time_s: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges whose timestamps advance by one sample period (+- half a period) each row."""
    step = np.diff(time_s)
    jumps = np.flatnonzero((step < 0.5 / RATE_HZ) | (step > 1.5 / RATE_HZ)) + 1
    edges = [0, *jumps.tolist(), len(time_s)]
    return list(zip(edges[:-1], edges[1:]))


def _split_at_long_gaps(missing: np.ndarray, max_missing: int) -> list[tuple[int, int]]:
    """Ranges between the runs of missing rows that are too long, or touch an end, to bridge."""
    padded = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    run_starts, run_stops = np.flatnonzero(padded == 1), np.flatnonzero(padded == -1)
    long = (run_stops - run_starts > max_missing) | (run_starts == 0) | (run_stops == len(missing))
    starts = np.concatenate([[0], run_stops[long]])
    stops = np.concatenate([run_starts[long], [len(missing)]])
    return [(int(a), int(b)) for a, b in zip(starts, stops) if b > a]


def _interpolate(acc: np.ndarray) -> np.ndarray:
    """acc (S, 3) with every row holding a NaN replaced by linear interpolation between the
    nearest complete rows (the caller guarantees both ends are complete)."""
    missing = np.isnan(acc).any(axis=1)
    if not missing.any():
        return acc
    rows = np.arange(len(acc))
    out = acc.copy()
    for axis in range(acc.shape[1]):
        out[missing, axis] = np.interp(rows[missing], rows[~missing], acc[~missing, axis])
    return out
