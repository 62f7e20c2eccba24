"""The one container of anomaly-detection data: labelled rows (feature vectors or windows).

``Rows.x`` is (N, F) float32 for feature vectors or (N, T, 3) float32 in g for accelerometer
windows. Each row also carries ``anomalous`` (N,) bool, ``kind`` (N,) str (NORMAL, or the attack
or fault name) and ``group`` (N,) str (the device, file or recording it came from: splits and
one-node-per-device federations follow it). ``feature_names`` names the F columns (or the axes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from synth.core.errors import DataError

NORMAL = "normal"


@dataclass(frozen=True)
class Rows:
    """Labelled rows; see the module docstring for shapes and units."""

    x: np.ndarray
    anomalous: np.ndarray
    kind: np.ndarray
    group: np.ndarray
    feature_names: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.x)
        if not (len(self.anomalous) == len(self.kind) == len(self.group) == n):
            raise DataError("rows, labels, kinds and groups must have the same length")
        if self.x.ndim not in (2, 3):
            raise DataError(f"rows must have shape (N, F) or (N, T, C), got {self.x.shape}")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def width(self) -> int:
        """Features per row (F), or samples per window (T) for windows."""
        return int(self.x.shape[1])

    @property
    def is_windows(self) -> bool:
        return self.x.ndim == 3

    def subset(self, mask: np.ndarray) -> "Rows":
        """The rows selected by a boolean mask or an index array."""
        return replace(self, x=self.x[mask], anomalous=self.anomalous[mask], kind=self.kind[mask], group=self.group[mask])

    def normal(self) -> "Rows":
        return self.subset(~self.anomalous)


def make_rows(x: np.ndarray, anomalous, kind, group, feature_names) -> Rows:
    """Rows with every array converted to its documented dtype; scalars are broadcast to N."""
    x = np.asarray(x, np.float32)
    n = len(x)
    return Rows(x, np.broadcast_to(np.asarray(anomalous, bool), (n,)).copy(),
                np.broadcast_to(np.asarray(kind, str), (n,)).astype(object).astype(str),
                np.broadcast_to(np.asarray(group, str), (n,)).astype(object).astype(str), tuple(feature_names))


def concat_rows(parts: list[Rows]) -> Rows:
    """All ``parts`` one after another; DataError when their widths or feature names differ."""
    if not parts:
        raise DataError("no rows to join")
    first = parts[0]
    for part in parts[1:]:
        if part.x.shape[1:] != first.x.shape[1:] or part.feature_names != first.feature_names:
            raise DataError(f"rows of shape {part.x.shape[1:]} cannot be joined with rows of shape {first.x.shape[1:]}")
    return Rows(np.concatenate([p.x for p in parts]), np.concatenate([p.anomalous for p in parts]),
                np.concatenate([p.kind for p in parts]), np.concatenate([p.group for p in parts]), first.feature_names)
