"""An anomaly detector on disk: autoencoder, input scaling and threshold, and how to score rows.

A detector folder holds ``autoencoder.keras`` and ``autoencoder.json`` (the same two files as the
realism filter of ``synth train-autoencoder``, so ``synth stream --autoencoder`` and
``synth export --model autoencoder`` read both). The JSON holds:

- ``input``: "features" (rows (N, F), min-max ``scaling`` {low, high} (F,) fitted on normal
  training rows, applied to every row; errors in scaled units squared) or "windows" (rows
  (N, T, 3) in g clipped at +-``full_scale_g``; errors in g^2; ``window``, ``rate_hz``);
- ``threshold`` = ``mean`` + ``k`` x ``std`` of the reconstruction errors of ``count`` held-out
  normal rows; a row whose error is above it is anomalous;
- ``feature_names``, ``vocabulary`` (Edge-IIoTset's one-hot categories), ``training``
  ("centralised", "federated" or "local"), ``data_hash``, ``seed`` and the ``config``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.anomaly.statistics import MinMax
from synth.atomic import build_directory, save_keras, write_json
from synth.errors import DataError, ModelError
from synth.realism import INFO_FILE, MODEL_FILE, read_autoencoder_folder

SCORE_BATCH = 4096  # fixed, so that the arithmetic (hence every flag) is the same on every run
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
        return model_input(x, self.info, self.scaling)

    def errors(self, x: np.ndarray) -> np.ndarray:
        """Reconstruction error (N,) float64 of raw rows ``x``."""
        self.check_width(x)
        return reconstruction_errors(self.model, self.prepare(x))

    def flags(self, x: np.ndarray) -> np.ndarray:
        """(N,) bool: rows whose error is above the threshold."""
        return self.errors(x) > self.threshold

    def check_width(self, x: np.ndarray) -> None:
        """DataError when rows ``x`` do not have the shape the model was trained on."""
        expected = tuple(self.info["row_shape"])
        if tuple(np.shape(x)[1:]) != expected:
            raise DataError(f"rows of shape {tuple(np.shape(x)[1:])} do not fit the detector, which takes {expected} "
                            f"({'features' if len(expected) == 1 else 'samples x axes'})")


def model_input(x: np.ndarray, info: dict, scaling: MinMax | None) -> np.ndarray:
    """Raw rows -> model input: min-max scaled features, or windows clipped at the full scale (g)."""
    if info["input"] == FEATURES:
        return scaling.scale(x)
    clip = float(info["full_scale_g"])
    return np.clip(np.asarray(x, np.float32), -clip, clip)


def reconstruction_errors(model, x_in: np.ndarray) -> np.ndarray:
    """Mean squared error (N,) float64 between model inputs (N, ...) and their reconstruction."""
    x_in = np.asarray(x_in, np.float32)
    if not len(x_in):
        return np.zeros(0)
    reconstructed = model.predict(x_in, batch_size=SCORE_BATCH, verbose=0).astype(np.float64)
    return np.mean((reconstructed - x_in).reshape(len(x_in), -1) ** 2, axis=1)


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
    return Detector(model, info)
