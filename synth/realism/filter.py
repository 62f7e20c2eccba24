"""The autoencoder realism filter: train it on real windows, save and load it, score windows.

``synth train-autoencoder`` fits a window autoencoder (synth.models.autoencoder) on the real
train-side windows (every recording not in data.test_groups), clipped to the profile's full
scale as the sensor would clip them. A window's score is its reconstruction error: the mean
squared error over its (T, 3) samples, in g^2. The threshold is mean + k x std of the errors of
the held-out real recordings; a window scoring above it is rejected.

An autoencoder folder holds ``autoencoder.keras`` and ``autoencoder.json``: threshold, k, mean
and std of the held-out errors (g^2), window, rate_hz, full_scale_g, classes, data hash, seed,
and the held-out false-rejection rate (the share of real held-out windows above the threshold).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.core.atomic import save_keras, write_json
from synth.core.config import AutoencoderConfig, Config, require
from synth.core.errors import ConfigError, ModelError
from synth.core.profiles import load_profile
from synth.core.runs import hash_arrays, hash_file
from synth.core.windows import Windows
from synth.data.loading import load_windows

log = logging.getLogger(__name__)

MODEL_FILE = "autoencoder.keras"
INFO_FILE = "autoencoder.json"
SCORE_BATCH = 4096
MAX_ROUNDS = 6  # generation rounds before giving up on a class the filter keeps rejecting
MIN_ACCEPTANCE = 0.02  # a class accepted less often is asked for at most 50x its deficit per round
ROUND_MARGIN = 1.2  # ask 20 % more than the expected need, so one more round is usually enough


@dataclass(frozen=True)
class RealismFilter:
    """A loaded autoencoder, its metadata (``info``, the JSON) and the sha256 of its .keras file."""

    model: object
    info: dict
    sha256: str

    @property
    def threshold(self) -> float:
        """Largest accepted reconstruction error, in g^2."""
        return float(self.info["threshold"])

    def errors(self, x_g: np.ndarray) -> np.ndarray:
        """Reconstruction error (N,) float64 in g^2 of windows (N, T, 3) in g."""
        return reconstruction_errors(self.model, x_g)

    def accepts(self, x_g: np.ndarray) -> np.ndarray:
        """(N,) bool: which windows (N, T, 3) in g score at or below the threshold."""
        return self.errors(x_g) <= self.threshold

    def check_matches(self, window: int, rate_hz: float, full_scale_g: float) -> None:
        """ModelError naming every difference between the windows to score and the training windows."""
        wanted = {"window": window, "rate_hz": float(rate_hz), "full_scale_g": float(full_scale_g)}
        wrong = [f"{key} {self.info[key]} (generator/profile: {value})" for key, value in wanted.items()
                 if not np.isclose(float(self.info[key]), value)]
        if wrong:
            raise ModelError(f"the autoencoder does not fit the generated windows: it was trained with {', '.join(wrong)}")


def reconstruction_errors(model, x_g: np.ndarray) -> np.ndarray:
    """Mean squared reconstruction error (N,) float64 of model inputs: windows (N, T, 3) in g (error
    in g^2), or any rows (N, ...) an autoencoder takes (error in their units squared)."""
    x_g = np.asarray(x_g, np.float32)
    if not len(x_g):
        return np.zeros(0)
    # a fixed batch size keeps the arithmetic, hence the accept decisions, the same on every run
    reconstructed = model.predict(x_g, batch_size=SCORE_BATCH, verbose=0)
    return np.mean((reconstructed.astype(np.float64) - x_g) ** 2, axis=tuple(range(1, x_g.ndim)))


def threshold_of(errors: np.ndarray, k: float) -> dict[str, float]:
    """{threshold, mean, std} in g^2: threshold = mean + k x std (population std) of ``errors``."""
    mean, std = float(np.mean(errors)), float(np.std(errors))
    return {"threshold": mean + k * std, "mean": mean, "std": std}


def run_autoencoder_training(config: Config, base_dir: Path = Path("."), verbose: int = 0) -> Path:
    """Train per ``config`` (sections data and autoencoder, top-level profile); returns the folder."""
    data_config = require(config.data, "data")
    settings: AutoencoderConfig = require(config.autoencoder, "autoencoder")
    profile = load_profile(config.profile)
    windows = load_windows(data_config, profile.odr_hz, base_dir)
    train, held_out = _split(windows, data_config.test_groups)
    clip = profile.full_scale_g  # the sensor saturates there; generated windows are clipped the same way
    train_x, held_x = np.clip(train.x, -clip, clip), np.clip(held_out.x, -clip, clip)
    model = _fit(settings, train_x, profile.full_scale_g, config.seed, verbose)
    folder = Path(settings.run_dir)
    save_keras(model, folder / MODEL_FILE)
    errors = reconstruction_errors(model, held_x)
    stats = threshold_of(errors, settings.k)
    info = {
        **stats, "k": settings.k, "units": "g^2 (mean squared error per window, windows in g)",
        "window": train.length, "rate_hz": float(train.rate_hz), "full_scale_g": float(profile.full_scale_g),
        "classes": list(train.classes), "data_hash": hash_arrays(train.x, train.y, extra=json.dumps(train.classes)),
        "seed": config.seed, "held_out_windows": len(held_x), "held_out_recordings": sorted(set(held_out.groups.tolist())),
        "held_out_false_rejection_rate": float(np.mean(errors > stats["threshold"])),
        "architecture": {"filters": settings.filters, "latent": settings.latent, "parameters": int(model.count_params())},
        "config": config.model_dump(mode="json"),
    }
    write_json(folder / INFO_FILE, info)
    log.info("threshold %.3g g^2; held-out false-rejection rate %.3f", stats["threshold"], info["held_out_false_rejection_rate"])
    return folder


def _split(windows: Windows, test_groups: list[str]) -> tuple[Windows, Windows]:
    """(train, held-out) by recording; ConfigError when either side is empty."""
    train, held_out = windows.split_by_group(test_groups)
    if len(held_out) == 0:
        raise ConfigError("data.test_groups must name recordings the data holds: the autoencoder's threshold is set on them")
    if len(train) == 0:
        raise ConfigError("data.test_groups holds out every recording: nothing is left to train the autoencoder on")
    return train, held_out


def _fit(settings: AutoencoderConfig, x_g: np.ndarray, full_scale_g: float, seed: int, verbose: int):
    """The autoencoder fitted to reconstruct ``x_g`` (N, T, 3) in g, seeded."""
    import keras

    from synth.models.autoencoder import build_autoencoder

    keras.utils.set_random_seed(seed)
    model = build_autoencoder(x_g.shape[1], full_scale_g, settings.filters, settings.latent)
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate), loss="mse")
    model.fit(x_g, x_g, batch_size=settings.batch_size, epochs=settings.epochs, shuffle=True, verbose=verbose)
    return model


def load_realism_filter(folder: str | Path) -> RealismFilter:
    """The filter of an autoencoder folder; ModelError naming the folder when it is not one."""
    model, info = read_autoencoder_folder(folder, "an autoencoder folder")
    return RealismFilter(model, info, hash_file(Path(folder) / MODEL_FILE))


def read_autoencoder_folder(folder: str | Path, what: str) -> tuple[object, dict]:
    """(Keras model, JSON info) of a folder holding INFO_FILE and MODEL_FILE; ModelError saying it
    is not ``what`` when either is missing or unreadable."""
    import keras

    folder = Path(folder)
    try:
        info = json.loads((folder / INFO_FILE).read_text())
        model = keras.models.load_model(folder / MODEL_FILE, compile=False)
    except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ModelError(f"{folder}: not {what} ({INFO_FILE} and {MODEL_FILE}): {exc}") from None
    return model, info


def filter_in_rounds(make, labels: np.ndarray, classes, realism: RealismFilter, max_rounds: int = MAX_ROUNDS):
    """Generate until every class has its requested count of accepted windows.

    ``make(labels (M,), round) -> (x_g (M, T, 3) after the profile, lsb (M, T, 3))``; ``labels``
    (N,) are the requested indices into ``classes``, grouped by class. Round 0 asks for exactly ``labels``;
    each later round asks, per short class, for its deficit divided by the class's acceptance
    rate so far (at least MIN_ACCEPTANCE) plus a margin. Each class keeps its first accepted
    windows in generation order, so the same seed gives the same windows. Returns (labels (N,),
    lsb (N, T, 3), {class index: {generated, rejected, kept}}, rounds used); generated - rejected
    - kept windows were accepted but not needed. ModelError when a class is still short after
    ``max_rounds``.
    """
    wanted = {int(c): int(n) for c, n in zip(*np.unique(labels, return_counts=True))}
    kept: dict[int, list[np.ndarray]] = {c: [] for c in wanted}
    counts = {c: {"generated": 0, "rejected": 0, "kept": 0} for c in wanted}
    ask = np.asarray(labels)
    for round_index in range(max_rounds):
        x_g, lsb = make(ask, round_index)
        accepted = realism.accepts(x_g)
        for c in np.unique(ask).tolist():
            mine = ask == c
            counts[c]["generated"] += int(mine.sum())
            counts[c]["rejected"] += int((mine & ~accepted).sum())
            kept[c].append(lsb[mine & accepted])
        ask = _next_request(wanted, kept, counts)
        if not len(ask):
            return (*_assemble(labels, wanted, kept, counts), round_index + 1)
    short = ", ".join(f"{classes[c]} {sum(map(len, kept[c]))} of {n}" for c, n in wanted.items() if sum(map(len, kept[c])) < n)
    raise ModelError(f"the realism filter rejected nearly every generated window: after {max_rounds} rounds it kept only "
                     f"{short} (threshold {realism.threshold:.3g} g^2); check that the autoencoder was trained on data "
                     "like the generator's, or train it with a larger k")


def _next_request(wanted: dict, kept: dict, counts: dict) -> np.ndarray:
    """Class indices (M,) of the next round: each short class's deficit over its acceptance rate."""
    asks = []
    for c, n in wanted.items():
        deficit = n - sum(map(len, kept[c]))
        if deficit > 0:
            rate = max(1.0 - counts[c]["rejected"] / counts[c]["generated"], MIN_ACCEPTANCE)
            asks.append(np.full(int(np.ceil(deficit / rate * ROUND_MARGIN)), c, np.int64))
    return np.concatenate(asks) if asks else np.zeros(0, np.int64)


def _assemble(labels: np.ndarray, wanted: dict, kept: dict, counts: dict):
    """(labels, lsb, counts): each class's first requested-count accepted windows, in ``labels``' class order."""
    order = list(dict.fromkeys(np.asarray(labels).tolist()))  # classes in first-appearance order
    lsb = np.concatenate([np.concatenate(kept[c])[: wanted[c]] for c in order])
    for c in order:
        counts[c]["kept"] = wanted[c]
    return np.asarray(labels), lsb, counts
