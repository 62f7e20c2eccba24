"""Detection metrics of an anomaly detector: a row is flagged when its reconstruction error > threshold.

Inputs are per test row: ``anomalous`` (N,) bool (the truth), ``errors`` (N,) float reconstruction
errors (mean squared error of the scaled row, >= 0, unitless) and ``threshold`` in the same units:
one float (one detector), or (N,) per-row thresholds when the rows of several detectors are pooled
(local-only training: each node's rows scored by that node's detector). Anomalies are the positive
class. Every returned value is a plain Python int, float or None, ready for JSON.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from synth.core.errors import DataError
from synth.core.rows import NORMAL


def detection_metrics(anomalous: np.ndarray, errors: np.ndarray, threshold: float | np.ndarray) -> dict:
    """Confusion counts and rates of flags = errors > threshold.

    Returns {"rows", "anomalies", "tp", "fp", "tn", "fn", "tpr", "fpr", "precision", "f1",
    "accuracy", "roc_auc", "threshold"}. Undefined cases are fixed as follows:

    - tpr (recall) and f1 are None when there are no anomalous rows (nothing to recall);
    - fpr is None when there are no normal rows;
    - precision is 0.0 when nothing is flagged (tp + fp == 0), as scikit-learn's zero_division=0;
    - accuracy is None when there are no rows;
    - roc_auc (of ``anomaly_scores``, threshold-free) is None unless both classes are present;
    - threshold is the float given, or None for per-row thresholds (the caller knows which
      detector each row had and reports those thresholds itself).
    """
    anomalous, errors, threshold = checked(anomalous, errors, threshold)
    flagged = errors > threshold
    tp, fp = int(np.sum(flagged & anomalous)), int(np.sum(flagged & ~anomalous))
    fn, tn = int(np.sum(~flagged & anomalous)), int(np.sum(~flagged & ~anomalous))
    return {
        "rows": len(errors), "anomalies": tp + fn, "tp": tp, "fp": fp, "tn": tn, "fn": fn,
        "tpr": _ratio(tp, tp + fn), "fpr": _ratio(fp, fp + tn),
        "precision": _ratio(tp, tp + fp) if tp + fp else 0.0,
        "f1": _ratio(2 * tp, 2 * tp + fp + fn) if tp + fn else None,
        "accuracy": _ratio(tp + tn, len(errors)),
        "roc_auc": roc_auc(anomalous, anomaly_scores(errors, threshold)),
        "threshold": float(threshold) if threshold.ndim == 0 else None,
    }


def per_kind(anomalous: np.ndarray, kind: np.ndarray, errors: np.ndarray, threshold: float | np.ndarray) -> dict:
    """{kind: {"rows", "detected", "rate"}}: per anomaly kind the share of its rows flagged
    (detection rate); for ``NORMAL`` rows the share flagged is the false-alarm rate.

    ``kind`` (N,) str must be ``NORMAL`` exactly on the rows that are not ``anomalous``. Keys:
    ``NORMAL`` first (when present), then the anomaly kinds sorted.
    """
    anomalous, errors, threshold = checked(anomalous, errors, threshold)
    kind = np.asarray(kind, str)
    if kind.shape != anomalous.shape or np.any((kind == NORMAL) == anomalous):
        raise DataError(f"kinds must be '{NORMAL}' exactly on the rows that are not anomalous")
    flagged = errors > threshold
    names = sorted(set(kind.tolist()), key=lambda name: (name != NORMAL, name))
    return {name: _rate(flagged[kind == name]) for name in names}


def anomaly_scores(errors: np.ndarray, threshold: float | np.ndarray) -> np.ndarray:
    """Scores (N,) that rank rows for ROC curves: the errors for one threshold; errors / threshold
    for per-row thresholds, because errors of different detectors are on different scales while
    the ratio puts every row's own decision boundary at 1."""
    threshold = np.asarray(threshold, np.float64)
    return errors if threshold.ndim == 0 else errors / threshold


def roc_auc(anomalous: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve of ``scores`` (N,) for truth ``anomalous`` (N,); None with one class."""
    if anomalous.all() or not anomalous.any():
        return None
    return float(roc_auc_score(anomalous, scores))


def checked(anomalous, errors, threshold) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(anomalous bool, errors float64, threshold float64 of shape () or (N,)); DataError on shape
    mismatch or non-finite values (a diverged detector must fail loudly, not count as 'normal')."""
    anomalous, errors = np.asarray(anomalous, bool), np.asarray(errors, np.float64)
    threshold = np.asarray(threshold, np.float64)
    if anomalous.ndim != 1 or errors.shape != anomalous.shape or threshold.shape not in ((), anomalous.shape):
        raise DataError(f"labels {anomalous.shape}, errors {errors.shape} and threshold {threshold.shape} do not match")
    if not (np.isfinite(errors).all() and np.isfinite(threshold).all()):
        raise DataError("reconstruction errors or thresholds are not finite (did the autoencoder diverge?)")
    if threshold.ndim and np.any(threshold <= 0):
        raise DataError("per-row thresholds must be > 0 (errors are ranked by error / threshold)")
    return anomalous, errors, threshold


def _ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator as a float; None when the denominator is 0."""
    return numerator / denominator if denominator else None


def _rate(flagged: np.ndarray) -> dict:
    """{"rows", "detected", "rate"} of one kind's flags (N,) bool."""
    rows, detected = len(flagged), int(flagged.sum())
    return {"rows": rows, "detected": detected, "rate": _ratio(detected, rows)}
