"""The one array convention shared by every stage: a labelled set of fixed-length windows.

``Windows.x`` has shape (N, T, C) float32 (N windows, T samples, C axes: x, y, z), ``y`` has
shape (N,) int64 with indices into ``classes``, and ``groups`` has shape (N,) str naming the
recording or subject each window came from, so that splits never leak one recording into both
sides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Sequence

import numpy as np

from synth.core.errors import DataError

UNITS = ("g", "mg", "m/s^2")
UNLABELLED = -1  # per-sample label of samples that belong to no class (e.g. PAMAP2 activity 0)


@dataclass(frozen=True)
class Windows:
    """Fixed-length labelled windows.

    x: (N, T, C) float32 in ``units``; y: (N,) int64 class indices; classes: class names;
    rate_hz: samples per second; units: one of UNITS; groups: (N,) recording or subject ids.
    """

    x: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    rate_hz: float
    units: str
    groups: np.ndarray

    def __post_init__(self) -> None:
        if self.x.ndim != 3:
            raise DataError(f"windows must have shape (N, T, C), got {self.x.shape}")
        if not (len(self.x) == len(self.y) == len(self.groups)):
            raise DataError("windows, labels and groups must have the same length")
        if self.units not in UNITS:
            raise DataError(f"unknown units {self.units!r} (allowed: {', '.join(UNITS)})")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def length(self) -> int:
        """Samples per window (T)."""
        return int(self.x.shape[1])

    def subset(self, mask: np.ndarray) -> "Windows":
        """The windows selected by a boolean mask or an index array."""
        return replace(self, x=self.x[mask], y=self.y[mask], groups=self.groups[mask])

    def class_counts(self) -> dict[str, int]:
        """Number of windows per class name (every class listed, zeros included)."""
        counts = np.bincount(self.y, minlength=len(self.classes))
        return {name: int(n) for name, n in zip(self.classes, counts)}

    def split_by_group(self, test_groups: Iterable[str]) -> tuple["Windows", "Windows"]:
        """(train, test): every window of a group listed in ``test_groups`` goes to test."""
        is_test = np.isin(self.groups, np.asarray(list(test_groups), dtype=str))
        return self.subset(~is_test), self.subset(is_test)

    def to_units(self, units: str) -> "Windows":
        """The same windows converted to ``units`` (g, mg or m/s^2; 1 g = 9.80665 m/s^2)."""
        scale = _UNIT_IN_G[self.units] / _UNIT_IN_G[units]
        return replace(self, x=(self.x * scale).astype(np.float32), units=units)


_UNIT_IN_G = {"g": 1.0, "mg": 1e-3, "m/s^2": 1.0 / 9.80665}


def concat(parts: Sequence[Windows]) -> Windows:
    """Stack several Windows with the same classes, rate, units and window length."""
    if not parts:
        raise DataError("no windows to concatenate")
    first = parts[0]
    for part in parts[1:]:
        if (part.classes, part.rate_hz, part.units, part.length) != (
            first.classes, first.rate_hz, first.units, first.length
        ):
            raise DataError("cannot concatenate windows with different classes, rate, units or length")
    return replace(
        first,
        x=np.concatenate([p.x for p in parts]),
        y=np.concatenate([p.y for p in parts]),
        groups=np.concatenate([p.groups for p in parts]),
    )


def cut_windows(
    samples: np.ndarray, labels: np.ndarray, length: int, stride: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cut one contiguous recording into windows labelled by majority.

    samples: (S, C) float; labels: (S,) int class indices, UNLABELLED for samples of no class.
    Returns (x (N, length, C) float32, y (N,) int64). A window whose majority label is
    UNLABELLED is dropped; ties go to the lowest label. A recording shorter than ``length``
    gives no windows.
    """
    if length < 1 or stride < 1:
        raise DataError(f"window length and stride must be >= 1, got {length} and {stride}")
    n = 0 if len(samples) < length else (len(samples) - length) // stride + 1
    if n == 0:
        return np.zeros((0, length, samples.shape[1]), np.float32), np.zeros(0, np.int64)
    starts = np.arange(n) * stride
    index = starts[:, None] + np.arange(length)[None, :]
    x = samples[index].astype(np.float32)
    y = _majority(labels[index])
    keep = y != UNLABELLED
    return x[keep], y[keep]


def _majority(window_labels: np.ndarray) -> np.ndarray:
    """Most frequent label of each row of (N, T) int labels (UNLABELLED counts as a label)."""
    shifted = window_labels - UNLABELLED  # labels start at 0 for bincount
    width = int(shifted.max()) + 1
    counts = np.zeros((len(shifted), width), np.int64)
    np.add.at(counts, (np.repeat(np.arange(len(shifted)), shifted.shape[1]), shifted.ravel()), 1)
    return (counts.argmax(axis=1) + UNLABELLED).astype(np.int64)
