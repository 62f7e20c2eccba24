"""An anomaly detector on disk: autoencoder, input scaling and threshold, and how to score rows.

A detector folder holds ``autoencoder.keras`` and ``autoencoder.json`` (the same two files as the
realism filter of ``synth train-autoencoder``, so ``synth stream --autoencoder`` and
``synth export --model autoencoder`` read both). The JSON holds:

- ``input``: "features" (rows (N, F), min-max ``scaling`` {low, high} (F,) fitted on normal
  training rows, applied to every row; errors in scaled units squared) or "windows" (rows
  (N, T, 3) in g clipped at +-``full_scale_g``; errors in g^2; ``window``, ``rate_hz``);
- ``threshold`` = ``mean`` + ``k`` x ``std`` of the reconstruction errors of ``count`` held-out
  normal rows; a feature row whose error is above it is anomalous;
- windows: ``fault_rule`` (synth.anomaly.fault_rule), thresholds per motion level on fault
  statistics and the reconstruction error; a window above any of them is anomalous (a detector
  written before the rule existed flags by ``threshold`` alone);
- ``feature_names``, ``vocabulary`` (Edge-IIoTset's one-hot categories), ``training``
  ("centralised", "federated" or "local"), ``data_hash``, ``seed`` and the ``config``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from synth.anomaly.fault_rule import MOTION_EDGES_G, SCORE_THRESHOLD, FaultRule, statistics
from synth.anomaly.statistics import MinMax
from synth.core.atomic import build_directory, save_keras, write_json
from synth.core.errors import DataError, ModelError
from synth.realism.filter import INFO_FILE, MODEL_FILE, read_autoencoder_folder, reconstruction_errors

FEATURES, WINDOWS = "features", "windows"


@dataclass(frozen=True)
class Detector:
    """A loaded detector: Keras model and its metadata (see the module docstring)."""

    model: object
    info: dict

    @property
    def threshold(self) -> float:
        return float(self.info["threshold"])

    @property
    def scaling(self) -> MinMax | None:
        return MinMax.from_json(self.info["scaling"]) if self.info.get("scaling") else None

    def prepare(self, x: np.ndarray) -> np.ndarray:
        """Rows as the model takes them: scaled features (N, F) or clipped windows (N, T, 3) in g."""
        return model_input(x, self.info)

    def errors(self, x: np.ndarray) -> np.ndarray:
        """Reconstruction error (N,) float64 of raw rows ``x``."""
        self.check_width(x)
        return reconstruction_errors(self.model, self.prepare(x))

    @cached_property
    def rule(self) -> FaultRule | None:
        """The window detector's fault rule, or None (parsed once: scores, flags and fired all read it)."""
        return FaultRule.from_json(self.info["fault_rule"]) if self.info.get("fault_rule") else None

    @property
    def score_threshold(self) -> float:
        """Rows whose ``scores`` are above this are anomalous."""
        return self.threshold if self.rule is None else SCORE_THRESHOLD

    def scores(self, x: np.ndarray) -> np.ndarray:
        """(N,) float64 anomaly scores of raw rows: the reconstruction error, or with a fault rule its
        FaultRule.scores; above ``score_threshold`` exactly for anomalous rows."""
        self.check_width(x)
        return row_scores(self.model, x, self.info, self.rule)

    def flags(self, x: np.ndarray) -> np.ndarray:
        """(N,) bool: anomalous rows (see the module docstring)."""
        return self.scores(x) > self.score_threshold

    def fired(self, x: np.ndarray) -> list[list[str]]:
        """Per window, the statistics of the fault rule above their thresholds (empty: normal, or no rule)."""
        self.check_width(x)
        rule = self.rule
        if rule is None:
            return [[] for _ in range(len(x))]
        values, level = window_statistics(self.model, x, self.info, rule.motion_edges_g)
        return [[name for name, above in zip(rule.names, row) if above] for row in rule.reasons(values, level)]

    def check_width(self, x: np.ndarray) -> None:
        """DataError when rows ``x`` do not have the shape the model was trained on."""
        expected = tuple(self.info["row_shape"])
        if tuple(np.shape(x)[1:]) != expected:
            raise DataError(f"rows of shape {tuple(np.shape(x)[1:])} do not fit the detector, which takes {expected} "
                            f"({'features' if len(expected) == 1 else 'samples x axes'})")


def row_scores(model, x: np.ndarray, info: dict, rule: FaultRule | None) -> np.ndarray:
    """(N,) float64: the reconstruction errors of raw rows, or their FaultRule.scores when a rule is given."""
    if rule is None:
        return reconstruction_errors(model, model_input(x, info))
    return rule.scores(*window_statistics(model, x, info, rule.motion_edges_g))


def window_statistics(model, x: np.ndarray, info: dict,
                      motion_edges_g: tuple[float, ...] = MOTION_EDGES_G) -> tuple[np.ndarray, np.ndarray]:
    """(fault statistics (N, S) float32, motion levels (N,)) of raw windows x (N, T, 3) g, clipped as the
    model takes them, with the model's reconstruction errors as the last statistic."""
    prepared = model_input(x, info)
    errors = reconstruction_errors(model, prepared)
    return statistics(prepared, errors, float(info["full_scale_g"]), motion_edges_g)


def model_input(x: np.ndarray, info: dict) -> np.ndarray:
    """Raw rows -> model input: features min-max scaled by info["scaling"], or windows clipped at
    +-info["full_scale_g"] (g)."""
    if info["input"] == FEATURES:
        return MinMax.from_json(info["scaling"]).scale(x)
    clip = float(info["full_scale_g"])
    return np.clip(np.asarray(x, np.float32), -clip, clip)



def input_info(row_shape, feature_names, scaling: MinMax | None, full_scale_g: float | None,
               rate_hz: float | None) -> dict:
    """The part of a detector's JSON that says how raw rows become model inputs: rows of one
    dimension (F,) are min-max scaled features, rows (T, 3) are windows in g."""
    common = {"row_shape": list(row_shape), "feature_names": list(feature_names)}
    if len(row_shape) > 1:
        return {**common, "input": WINDOWS, "window": int(row_shape[0]), "rate_hz": float(rate_hz),
                "full_scale_g": float(full_scale_g), "units": "g^2 (mean squared error per window, windows in g)"}
    return {**common, "input": FEATURES, "scaling": scaling.to_json(),
            "units": "squared min-max scaled units (mean over features)"}


def save_detector(model, info: dict, folder: Path, force: bool = False) -> Path:
    """Write a detector folder atomically (built aside, moved into place); returns the folder."""
    folder = Path(folder)
    with build_directory(folder, force) as staging:
        save_keras(model, staging / MODEL_FILE)
        write_json(staging / INFO_FILE, info)
    return folder


def load_detector(folder: str | Path) -> Detector:
    """The detector in ``folder``; ModelError naming the folder when it is not one."""
    model, info = read_autoencoder_folder(folder, "an anomaly detector folder")
    if "row_shape" not in info or info.get("input") not in (FEATURES, WINDOWS):
        raise ModelError(f"{folder}: {INFO_FILE} was not written by 'synth anomaly' (no input kind or row shape)")
    if info.get("fault_rule"):
        try:
            FaultRule.from_json(info["fault_rule"])  # refuse a rule of other statistics now, not when first scoring
        except (DataError, ModelError) as exc:
            raise ModelError(f"{folder}: {exc}") from None
    return Detector(model, info)
