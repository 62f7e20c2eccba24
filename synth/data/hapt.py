"""UCI HAPT (Smartphone-Based Recognition of Human Activities and Postural Transitions, UCI 341,
CC BY 4.0): the raw accelerometer recordings of ``RawData/`` -> Windows in g.

Format (UCI's own ``RawData/`` layout; ``path`` is the folder holding ``RawData/`` or
``RawData/`` itself):

- ``acc_expEE_userUU.txt``: one sample per line, ``x y z`` in g (gravity included) separated by
  spaces, 50 Hz; one file per experiment (61 in the full set, 30 subjects). The gyroscope files
  (``gyro_*.txt``) are not read.
- ``labels.txt``: one labelled segment per line, 5 integers ``experiment user activity start
  end``. ``start`` and ``end`` are line numbers of the sample in that experiment's file,
  counting from 1, both inclusive (UCI's MATLAB convention: ``acc(start:end, :)``). The full
  set agrees: every segment starts at 1 or later and ends at or before its file's last line
  (the nearest end is 631 lines short of it), and consecutive segments meet as ``end + 1``.
- Activity ids: 1 walking, 2 walking_upstairs, 3 walking_downstairs, 4 sitting, 5 standing,
  6 laying, 7-12 postural transitions (stand_to_sit ... lie_to_stand).

Rules:

- Each labelled segment becomes its own Recording, so no window straddles two activities.
- Samples outside every segment are unlabelled and dropped; so are segments whose activity no
  class lists. That is how postural transitions (7-12) are dropped by default: a class map that
  lists them (e.g. ``{"stationary": [4, 5, 6, 7, 8, 9, 10, 11, 12], ...}``) keeps them as that class.
- Default classes: stationary = sitting, standing, laying; walking = walking and both stairs.
  Labels are given as ids (4) or names ("walking_upstairs", case-insensitive).
- Each segment is resampled from 50 Hz to the requested rate (polyphase anti-aliasing) and cut
  into windows. Groups are subjects (``user01``), so splits are by subject.
- Checks, each a DataError of one line: a missing or empty folder, no labels.txt, a labels.txt
  line that is not 5 integers (or names an activity outside 1-12, or an empty range), an
  experiment file it names that is missing, a segment that ends past its file, an acc file
  whose lines are not 3 numbers, and no segment of a requested class.

``check_layout`` runs the same checks on the labels and the file lengths only (no values
parsed); ``synth data fetch hapt`` uses it to accept a download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Hashable, Optional

import numpy as np
import pandas as pd

from synth.core.errors import DataError, first_line
from synth.core.windows import Windows
from synth.data.recordings import ClassMapping, Recording, first_non_number, resolve_classes, windows_from_recordings

RATE_HZ = 50.0
RAW_DATA = "RawData"
LABELS_FILE = "labels.txt"
ACC_PATTERN = "acc_exp*_user*.txt"
ACTIVITIES = {
    1: "walking", 2: "walking_upstairs", 3: "walking_downstairs", 4: "sitting", 5: "standing",
    6: "laying", 7: "stand_to_sit", 8: "sit_to_stand", 9: "sit_to_lie", 10: "lie_to_sit",
    11: "stand_to_lie", 12: "lie_to_stand",
}
DEFAULT_CLASSES = {"stationary": [4, 5, 6], "walking": [1, 2, 3]}
LABELS_FORMAT = "5 integers 'experiment user activity start end'"
ACC_FORMAT = "lines of 3 numbers 'x y z' in g"
INDEXING = "sample indices count from 1, end inclusive"
BLOCK_BYTES = 1 << 20  # line counting reads 1 MiB at a time


@dataclass(frozen=True)
class Segment:
    """One labels.txt line (number ``line``): samples ``start``..``end`` (1-based, inclusive) of
    experiment ``experiment``'s file are activity ``activity``, performed by subject ``user``."""

    experiment: int
    user: int
    activity: int
    start: int
    end: int
    line: int

    @property
    def file_name(self) -> str:
        """The experiment's accelerometer file, e.g. ``acc_exp01_user01.txt``."""
        return f"acc_exp{self.experiment:02d}_user{self.user:02d}.txt"

    @property
    def rows(self) -> slice:
        """The segment's 0-based rows of that file."""
        return slice(self.start - 1, self.end)

    @property
    def subject(self) -> str:
        """The group id of the subject, e.g. ``user01``."""
        return f"user{self.user:02d}"


def load_hapt(
    path: str | Path,
    rate_hz: float,
    window: int,
    stride: Optional[int] = None,
    classes: Optional[ClassMapping] = None,
) -> Windows:
    """Windows (N, window, 3) in g at ``rate_hz`` from a HAPT folder.

    ``classes`` maps class names to activity ids or names (default DEFAULT_CLASSES; activities
    no class lists, postural transitions included, are dropped); ``stride`` defaults to
    ``window``; groups are subjects.
    """
    names, lookup = resolve_classes(classes, DEFAULT_CLASSES, activity_id)
    folder = raw_data_folder(path)
    by_file = segments_by_file(read_labels(folder))
    _require_labelled(folder, [segment for group in by_file.values() for segment in group], lookup)
    recordings = [rec for segments in by_file.values() for rec in _experiment_recordings(folder, segments, lookup)]
    return windows_from_recordings(recordings, names, rate_hz, window, stride, source=str(path))


def check_layout(path: str | Path) -> None:
    """Raise DataError unless ``path`` holds a HAPT folder ``load_hapt`` can use: labels.txt
    parses, every experiment file it names is present and long enough for its segments, and
    there is at least one acc file. Only lines are counted, values are not parsed."""
    folder = raw_data_folder(path)
    for segments in segments_by_file(read_labels(folder)).values():
        file = experiment_file(folder, segments[0])
        check_segments(segments, file, count_lines(file))


def activity_id(label: int | str) -> int:
    """The HAPT activity id a class mapping names, by id (2, "2") or name ("Walking_Upstairs")."""
    by_name = {name: number for number, name in ACTIVITIES.items()}
    if isinstance(label, str):
        text = label.strip().lower().replace(" ", "_")
        label = int(text) if text.isdigit() else by_name.get(text, label)
    if label not in ACTIVITIES:
        allowed = ", ".join(f"{k} {v}" for k, v in ACTIVITIES.items())
        raise DataError(f"unknown HAPT activity {label!r} (allowed: {allowed})")
    return int(label)


def raw_data_folder(path: str | Path) -> Path:
    """The folder holding labels.txt and the acc files: ``path/RawData`` if present, else ``path``."""
    path = Path(path)
    expected = f"a folder holding {RAW_DATA}/, or {RAW_DATA}/ itself, with {LABELS_FILE} and {ACC_PATTERN} files"
    if not path.is_dir():
        raise DataError(f"HAPT folder not found: {path} (expected {expected})")
    folder = path / RAW_DATA if (path / RAW_DATA).is_dir() else path
    if not any(folder.iterdir()):
        raise DataError(f"HAPT folder {folder} is empty (expected {expected})")
    if not (folder / LABELS_FILE).is_file():
        raise DataError(f"no {LABELS_FILE} in HAPT folder {folder} (expected {expected})")
    if not any(folder.glob(ACC_PATTERN)):
        raise DataError(f"no {ACC_PATTERN} files in HAPT folder {folder} (expected {expected})")
    return folder


def read_labels(folder: Path) -> list[Segment]:
    """Every segment of ``folder/labels.txt``, in file order; blank lines are skipped."""
    path = folder / LABELS_FILE
    with path.open(encoding="latin-1") as handle:  # latin-1: any byte decodes, so junk fails as a non-integer
        segments = [_segment(path, number, line) for number, line in enumerate(handle, start=1) if line.strip()]
    if not segments:
        raise DataError(f"{path} holds no segment (expected lines of {LABELS_FORMAT})")
    return segments


def _segment(path: Path, number: int, line: str) -> Segment:
    """Line ``number`` of labels.txt as a Segment; DataError naming the line if it is not one."""
    try:
        values = [int(field) for field in line.split()]
    except ValueError:
        values = []
    if len(values) != 5:
        raise DataError(f"{path} line {number}: expected {LABELS_FORMAT}, found {line.strip()[:60]!r}")
    segment = Segment(*values, line=number)
    if segment.activity not in ACTIVITIES:
        raise DataError(f"{path} line {number}: activity {segment.activity} is not a HAPT activity (allowed: 1-12)")
    if not 1 <= segment.start <= segment.end:
        raise DataError(f"{path} line {number}: {segment.start}-{segment.end} is not a range of samples ({INDEXING})")
    return segment


def segments_by_file(segments: list[Segment]) -> dict[str, list[Segment]]:
    """The segments grouped by the experiment file they point into, in file-name order."""
    groups: dict[str, list[Segment]] = {}
    for segment in segments:
        groups.setdefault(segment.file_name, []).append(segment)
    return dict(sorted(groups.items()))


def experiment_file(folder: Path, segment: Segment) -> Path:
    """The acc file ``segment`` points into; DataError naming the labels line when it is missing."""
    file = folder / segment.file_name
    if not file.is_file():
        raise DataError(
            f"{folder / LABELS_FILE} line {segment.line}: experiment file {segment.file_name} is missing from {folder}"
        )
    return file


def check_segments(segments: list[Segment], file: Path, length: int) -> None:
    """DataError naming the first of ``segments`` that ends past the ``length`` samples of ``file``."""
    for segment in segments:
        if segment.end > length:
            raise DataError(
                f"{file.parent / LABELS_FILE} line {segment.line}: segment end {segment.end} is past the end of "
                f"{file.name}, which holds {length} samples ({INDEXING})"
            )


def read_acc(path: Path) -> np.ndarray:
    """Samples (S, 3) float64 in g from one acc file; DataError naming the first bad line."""
    try:
        # skip_blank_lines=False: a blank line stays a (NaN) row, so row i is line i + 1
        frame = pd.read_csv(path, sep=r"\s+", header=None, engine="c", skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty (expected {ACC_FORMAT})") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: expected {ACC_FORMAT} ({first_line(exc)})") from None
    if frame.shape[1] != 3:
        raise DataError(f"{path} line 1: {frame.shape[1]} values; expected {ACC_FORMAT}")
    for column in frame.columns:
        row = first_non_number(frame[column])
        if row is not None:
            value = frame[column].loc[row]
            raise DataError(f"{path} line {row + 1}: {value!r} is not a number; expected {ACC_FORMAT}")
    values = frame.to_numpy(np.float64)
    missing = np.isnan(values).any(axis=1)
    if missing.any():
        raise DataError(f"{path} line {int(missing.argmax()) + 1}: fewer than 3 values or a NaN; expected {ACC_FORMAT}")
    return values


def count_lines(path: Path) -> int:
    """The lines of ``path`` (one sample each); a last line without a newline counts too."""
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(BLOCK_BYTES):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def _require_labelled(folder: Path, segments: list[Segment], lookup: dict[Hashable, int]) -> None:
    """DataError when no segment has an activity of a requested class: every sample would be unlabelled."""
    if not any(segment.activity in lookup for segment in segments):
        ids = ", ".join(str(activity) for activity in sorted(lookup))
        raise DataError(
            f"{folder / LABELS_FILE}: no segment has an activity of the requested classes ({ids}); "
            "every sample is unlabelled"
        )


def _experiment_recordings(folder: Path, segments: list[Segment], lookup: dict[Hashable, int]) -> list[Recording]:
    """One Recording per segment of a requested class in one experiment file (``segments`` all
    point into it). Every segment is checked against the file's length, requested or not."""
    file = experiment_file(folder, segments[0])
    samples = read_acc(file)
    check_segments(segments, file, len(samples))
    wanted = [segment for segment in segments if segment.activity in lookup]
    return [_recording(samples, segment, lookup[segment.activity]) for segment in wanted]


def _recording(samples: np.ndarray, segment: Segment, class_index: int) -> Recording:
    """One segment of an experiment's samples (S, 3) in g as a Recording of one class."""
    part = samples[segment.rows]
    return Recording(part, np.full(len(part), class_index, np.int64), segment.subject, RATE_HZ)
