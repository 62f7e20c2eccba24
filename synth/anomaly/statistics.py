"""Statistics that nodes can combine exactly without sharing rows: min-max ranges and error moments.

Federated training needs the same min-max scaling and the same threshold as if every node's
normal rows had been pooled. Both are decomposable: the pooled per-feature minimum (maximum) is
the minimum (maximum) of the nodes' minima (maxima), and the pooled mean and standard deviation
of reconstruction errors follow from each node's count, sum and sum of squares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.core.errors import DataError

MIN_RANGE = 1e-12  # a constant feature scales to 0 instead of dividing by zero


@dataclass(frozen=True)
class MinMax:
    """Per-feature range (F,) float64 of normal training rows; ``scale`` maps it to [0, 1]."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> "MinMax":
        """The range of rows ``x`` (N, F); DataError when there are none."""
        if not len(x):
            raise DataError("no normal rows to fit the scaling on")
        x = np.asarray(x, np.float64)
        return cls(x.min(axis=0), x.max(axis=0))

    @classmethod
    def merged(cls, parts: list["MinMax"]) -> "MinMax":
        """The range of all parts' rows pooled (exact)."""
        return cls(np.min([p.low for p in parts], axis=0), np.max([p.high for p in parts], axis=0))

    def scale(self, x: np.ndarray) -> np.ndarray:
        """Rows (N, F) -> (N, F) float32, (x - low) / (high - low); rows outside the range go outside [0, 1]."""
        span = np.maximum(self.high - self.low, MIN_RANGE)
        return ((np.asarray(x, np.float64) - self.low) / span).astype(np.float32)

    def to_json(self) -> dict:
        return {"low": self.low.tolist(), "high": self.high.tolist()}

    @classmethod
    def from_json(cls, value: dict) -> "MinMax":
        return cls(np.asarray(value["low"], np.float64), np.asarray(value["high"], np.float64))


@dataclass(frozen=True)
class Moments:
    """Count, sum and sum of squares of reconstruction errors: enough for mean and std, and addable."""

    count: int
    total: float
    squares: float

    @classmethod
    def of(cls, errors: np.ndarray) -> "Moments":
        errors = np.asarray(errors, np.float64)
        return cls(int(errors.size), float(errors.sum()), float(np.square(errors).sum()))

    def __add__(self, other: "Moments") -> "Moments":
        return Moments(self.count + other.count, self.total + other.total, self.squares + other.squares)

    @property
    def mean(self) -> float:
        return self.total / self.count

    @property
    def std(self) -> float:
        """Population standard deviation (as numpy's default), never negative from rounding."""
        return float(np.sqrt(max(self.squares / self.count - self.mean**2, 0.0)))

    def threshold(self, k: float) -> dict:
        """{threshold, mean, std, count}: threshold = mean + k x std; DataError without errors."""
        if self.count == 0:
            raise DataError("no held-out normal rows to set the threshold on")
        return {"threshold": self.mean + k * self.std, "mean": self.mean, "std": self.std, "count": self.count}
