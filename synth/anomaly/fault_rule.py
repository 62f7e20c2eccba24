"""The decision rule of a window detector: per motion level, a threshold on every fault statistic.

A window is anomalous when any of its statistics (synth.anomaly.window_features, plus the
autoencoder's reconstruction error) is above the threshold of its motion level, or is NaN.
Thresholds come from normal held-out windows: for each motion level and statistic, the
(1 - ``tail``) quantile, extended by ``margin`` times its distance from the median (held-out
recordings are never quite the training ones). A window that is unusual is usually unusual in
several statistics at once, so the share of normal windows flagged stays well below S x tail. A level with fewer
than MIN_LEVEL_WINDOWS normal windows takes the thresholds of itself and its neighbouring levels pooled, widened one
level each side until they hold enough (all levels at most): a quiet board's sparse level borrows from the quiet
levels next to it, not from running.

The quantiles are read off histograms over fixed bin edges (``WindowHistograms``): counts add up,
so the histograms of several nodes give exactly the thresholds of their windows pooled, and a
federation computes the same rule as centralised training would on the same windows and errors.
A federation that must withstand lying nodes pools all but the most extreme ones instead
(``trimmed_rule``): per level and statistic, the ``trim`` nodes whose own threshold is highest and
the ``trim`` whose is lowest are left out. Pooling what is left keeps the thresholds of many
windows (a median of each node's own thresholds would be the extreme quantile of a small sample,
too low: on ST's windows over five nodes it cost every robust rule 0.07 F1), and a liar's histogram, however
many windows it claims, decides nothing once it is the most extreme. When nodes differ (non-IID),
leaving out the extremes leaves out honest nodes' own windows too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.anomaly.window_features import FEATURES, motion_level, window_features
from synth.core.errors import DataError, ModelError

STATISTICS = (*FEATURES, "reconstruction")
MOTION_EDGES_G = (0.01, 0.05, 0.2)  # median ||a[t + 1]| - |a[t]||, g per sample: still, light, moderate, vigorous
SCORE_THRESHOLD = 1.0  # FaultRule.scores of a flagged window are above it
SCALE_FLOOR = 1e-6  # exceedances are relative to |threshold|, at least this
MIN_LEVEL_WINDOWS = 100  # a quantile of fewer windows is too rough to stand on its own
_DECADES, _PER_DECADE = (-7, 3), 30  # histogram edges: +-10^-7 .. +-10^3 at 30 bins a decade, and 0
_POSITIVE = np.logspace(*_DECADES, (_DECADES[1] - _DECADES[0]) * _PER_DECADE + 1)
EDGES = np.concatenate([-_POSITIVE[::-1], [0.0], _POSITIVE])  # bin i holds EDGES[i-1] < v <= EDGES[i]
HISTOGRAM_SHAPE = (len(MOTION_EDGES_G) + 1, len(STATISTICS), len(EDGES) + 1)  # levels, statistics, bins


def levels(motion_g: np.ndarray, edges: tuple[float, ...] = MOTION_EDGES_G) -> np.ndarray:
    """(N,) int motion level of each window: how many level edges its motion (g) reaches or passes."""
    return (np.asarray(motion_g, np.float32)[:, None] >= np.asarray(edges, np.float32)[None, :]).sum(axis=1)


def statistics(x_g: np.ndarray, errors: np.ndarray, full_scale_g: float,
               motion_edges_g: tuple[float, ...] = MOTION_EDGES_G) -> tuple[np.ndarray, np.ndarray]:
    """((N, len(STATISTICS)) float32 statistics with the reconstruction errors last, (N,) levels) of windows."""
    values = np.concatenate([window_features(x_g, full_scale_g), np.asarray(errors, np.float32)[:, None]], axis=1)
    return values, levels(motion_level(x_g), motion_edges_g)


@dataclass(frozen=True)
class FaultRule:
    """Thresholds (levels, statistics) float32 over ``names``, and the motion edges (g) of the levels."""

    names: tuple[str, ...]
    motion_edges_g: tuple[float, ...]
    thresholds: np.ndarray

    def flags(self, values: np.ndarray, level: np.ndarray) -> np.ndarray:
        """(N,) bool: a statistic above its level's threshold, or NaN."""
        return self.reasons(values, level).any(axis=1)

    def scores(self, values: np.ndarray, level: np.ndarray) -> np.ndarray:
        """(N,) float64 anomaly scores, above SCORE_THRESHOLD exactly when ``flags``: 1 + the largest
        exceedance of a threshold relative to its size (NaN scores the largest finite float)."""
        thresholds = self.thresholds[level].astype(np.float64)
        exceedance = (np.asarray(values, np.float64) - thresholds) / np.maximum(np.abs(thresholds), SCALE_FLOOR)
        score = 1.0 + np.nan_to_num(exceedance.max(axis=1), nan=np.finfo(np.float64).max / 2)
        flagged = self.flags(values, level)
        above = np.nextafter(SCORE_THRESHOLD, np.inf)  # a tiny exceedance lost in 1 + x still counts
        return np.where(flagged, np.maximum(score, above), np.minimum(score, SCORE_THRESHOLD))

    def reasons(self, values: np.ndarray, level: np.ndarray) -> np.ndarray:
        """(N, statistics) bool: which statistics fired for each window (above the threshold, or NaN)."""
        return ~(values <= self.thresholds[level])

    def to_json(self) -> dict:
        return {"statistics": list(self.names), "motion_edges_g": list(self.motion_edges_g),
                "thresholds": self.thresholds.astype(np.float64).tolist()}

    @classmethod
    def from_json(cls, value: dict) -> "FaultRule":
        """The rule of ``to_json``; ModelError (retrain) for a rule over an older synth's statistics, DataError when
        malformed."""
        thresholds = np.asarray(value["thresholds"], np.float32)
        names, edges = tuple(value["statistics"]), tuple(float(e) for e in value["motion_edges_g"])
        if names[-1:] == ("reconstruction",) and len(names) > 1 and set(names) < set(STATISTICS):
            raise ModelError(f"the fault rule holds {len(names)} statistics, this synth computes {len(STATISTICS)} "
                             f"(new: {', '.join(s for s in STATISTICS if s not in names)}) and another motion level: "
                             f"retrain the detector (synth anomaly train / federate / compare)")
        if names != STATISTICS or thresholds.shape != (len(edges) + 1, len(names)):
            raise DataError(f"a fault rule needs thresholds ({len(edges) + 1} levels x {len(STATISTICS)} statistics "
                            f"{', '.join(STATISTICS)}), got {thresholds.shape} over {', '.join(names)}")
        return cls(names, edges, thresholds)


@dataclass(frozen=True)
class WindowHistograms:
    """Counts (levels, statistics, bins) int64 of normal windows' statistics over EDGES: addable."""

    counts: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, level: np.ndarray) -> "WindowHistograms":
        """The histograms of statistics (N, S) of windows at levels (N,); NaN statistics are not counted."""
        counts = np.zeros(HISTOGRAM_SHAPE, np.int64)
        bins = np.searchsorted(EDGES, np.asarray(values, np.float64), side="left")  # EDGES[i-1] < v <= EDGES[i]
        finite = np.isfinite(values)
        for column in range(values.shape[1]):
            keep = finite[:, column]
            np.add.at(counts, (level[keep], column, bins[keep, column]), 1)
        return cls(counts)

    def __add__(self, other: "WindowHistograms") -> "WindowHistograms":
        return WindowHistograms(self.counts + other.counts)

    def rule(self, tail: float, margin: float) -> FaultRule:
        """The FaultRule these windows give (see the module docstring); DataError without windows."""
        if self.counts[:, 0].sum() == 0:
            raise DataError("no held-out normal windows to set the fault thresholds on")
        quantile = 1.0 - tail
        thresholds = [[_threshold(row, quantile, margin) for row in self._source(level)] for level in range(len(self.counts))]
        return FaultRule(STATISTICS, MOTION_EDGES_G, np.asarray(thresholds, np.float32))

    def _source(self, level: int) -> np.ndarray:
        """Counts (statistics, bins) the thresholds of ``level`` are read from: its own, or with too few windows
        those of levels level - k .. level + k pooled, for the smallest k that gives MIN_LEVEL_WINDOWS (or all levels)."""
        low, high = level, level + 1
        while self.counts[low:high, 0].sum() < MIN_LEVEL_WINDOWS and (low > 0 or high < len(self.counts)):
            low, high = max(low - 1, 0), min(high + 1, len(self.counts))
        return self.counts[low:high].sum(axis=0)


def trimmed_rule(histograms: list[WindowHistograms], tail: float, margin: float, trim: int) -> FaultRule:
    """The FaultRule of the nodes' ``histograms`` pooled, per level and statistic without the ``trim`` nodes
    whose own threshold there is highest and the ``trim`` whose is lowest (at least one node stays; nodes
    without windows do not count); DataError without windows."""
    nodes = [h for h in histograms if h.counts[:, 0].sum()]
    if not nodes:
        raise DataError("no held-out normal windows to set the fault thresholds on")
    trim = min(trim, (len(nodes) - 1) // 2)
    own = np.stack([h.rule(tail, margin).thresholds for h in nodes])  # (nodes, levels, statistics)
    ranked = np.argsort(own, axis=0, kind="stable")  # per cell, the nodes from the lowest threshold up
    pooled: dict[tuple[int, ...], FaultRule] = {}  # the rule of each set of kept nodes, computed once
    thresholds = np.empty(own.shape[1:], np.float32)
    for cell in np.ndindex(*own.shape[1:]):
        kept = tuple(sorted(ranked[(slice(trim, len(nodes) - trim), *cell)]))
        if kept not in pooled:
            pooled[kept] = sum((nodes[i] for i in kept[1:]), nodes[kept[0]]).rule(tail, margin)
        thresholds[cell] = pooled[kept].thresholds[cell]
    return FaultRule(STATISTICS, MOTION_EDGES_G, thresholds)


def _threshold(counts: np.ndarray, quantile: float, margin: float) -> float:
    """The upper edge of the bin holding the ``quantile`` of one histogram, extended by ``margin`` x its
    distance from the median's bin edge."""
    high, middle = _upper_edge(counts, quantile), _upper_edge(counts, 0.5)
    return float(high + margin * max(high - middle, 0.0))


def _upper_edge(counts: np.ndarray, quantile: float) -> float:
    """The smallest bin edge with at least ``quantile`` of the counts at or below it (the largest float32
    past the last edge: nothing normal is flagged there)."""
    reach = np.cumsum(counts) >= quantile * counts.sum()
    index = int(np.argmax(reach))
    return float(EDGES[index]) if index < len(EDGES) else float(np.finfo(np.float32).max)
