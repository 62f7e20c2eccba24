"""Metrics of synthetic windows against real ones that need a trained model or a neighbour search.

Windows are (N, T, 3) in g (gravity included) at ``rate_hz``; labels are (N,) int class indices.

- ``train_window_classifier``: the compact seeded Conv1D of ``synth.classify.classifiers`` trained on a
  fixed ``Budget`` (the same number of Adam updates of the same batch size whatever the data,
  batches drawn class-balanced with replacement), so TSTR and TRTR differ only in the data;
- ``train_test_scores``: TSTR (train on synthetic, test on held-out real), TRTR (train on real
  train-side, test on held-out real) and TRTS (train on real, test on synthetic). The classifier
  sees ST's gravity rotation + suppression (m/s^2) with random headings, as ST's HAR models
  do, so it judges the motion and not how the device was held;
- ``discriminative_score``: |accuracy - 0.5| of a discriminator telling real from synthetic
  (TimeGAN), cross-validated over folds of whole recordings on the real side, and on the other
  side too when it holds recordings (real-vs-real). Two families
  (``DISCRIMINATORS``): the same Conv1D on raw g (the orientation and gravity are part of what
  a synthetic window must get right) and scikit-learn's gradient boosting on per-window
  features (``discriminator_features``);
- ``window_features`` and ``nearest_neighbour_ratios``: the mode-collapse check;
- ``pca_2d``: a 2-D embedding of window features for plots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import signal
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from synth.classify.classifiers import build_compact_conv1d, random_yaw
from synth.classify.preprocessing import ST_G_TO_MS2, gravity_rotation_suppression
from synth.core.windows import Windows
from synth.realism.quality import correct, recall_per_class, window_statistics

FEATURE_BANDS = 6  # spectral bands per axis in window_features
_LOG_FLOOR = 1e-8  # g^2/Hz: keeps the log band power of a flat window finite
CLASSIFIER_DESCRIPTION = (
    "Conv1D(16,5)-MaxPool(2)-Conv1D(32,5)-GlobalAvgPool-Dropout(0.3)-Dense softmax, Adam, "
    "class-balanced batches drawn with replacement"
)


@dataclass(frozen=True)
class Budget:
    """Training budget of every classifier: ``steps`` Adam updates of ``batch_size`` windows, and
    the discriminative score's cross-validation ``folds``."""

    steps: int = 1500
    batch_size: int = 64
    seed: int = 0
    folds: int = 5


def motion_input(x_g: np.ndarray, rate_hz: float) -> np.ndarray:
    """Classifier input of TSTR/TRTR/TRTS: (N, T, 3) g -> (N, T, 3) float32 m/s^2, gravity along -z, removed."""
    return gravity_rotation_suppression(np.asarray(x_g, np.float64) * ST_G_TO_MS2, rate_hz).astype(np.float32)


def balanced_draw(y: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` indices into y (N,), every class equally likely, with replacement."""
    per_class = np.bincount(y)[y].astype(np.float64)
    return rng.choice(len(y), size=count, p=(1.0 / per_class) / np.sum(1.0 / per_class))


def train_window_classifier(x: np.ndarray, y: np.ndarray, n_classes: int, budget: Budget, random_heading: bool):
    """A Keras Conv1D trained on inputs x (N, T, 3) with labels y (N,) for exactly ``budget``.

    ``random_heading`` turns every drawn window about z by a random angle (for gravity-rotated
    input, where the heading is arbitrary).
    """
    model = build_compact_conv1d(x.shape[1], n_classes, budget.seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng([budget.seed, 7])
    drawn = balanced_draw(y, budget.steps * budget.batch_size, rng)
    batch_x = random_yaw(x[drawn], rng).astype(np.float32) if random_heading else x[drawn]
    model.fit(batch_x, y[drawn], batch_size=budget.batch_size, epochs=1, shuffle=False, verbose=0)
    return model


def predict_classes(model, x: np.ndarray) -> np.ndarray:
    """Arg-max class indices (N,) of a Keras model on inputs x (N, T, 3)."""
    return np.asarray(model.predict(x, batch_size=1024, verbose=0)).argmax(axis=-1)


def accuracy_scores(predicted: np.ndarray, y: np.ndarray, classes: Sequence[str]) -> dict:
    """{"overall": accuracy, "balanced": mean per-class recall, "per_class": recall_per_class(...)}."""
    names = np.asarray(classes, dtype=object)[predicted]
    per_class = recall_per_class(names, y, classes)
    return {
        "overall": float(correct(names, y, classes).mean()),
        "balanced": float(np.mean([row["accuracy"] for row in per_class.values()])),
        "per_class": per_class,
    }


def train_test_scores(real_train: Windows, real_test: Windows, synthetic: Windows, budget: Budget) -> dict:
    """{"tstr", "trtr", "trts": accuracy_scores(...)}; the three Windows share classes and rate (g)."""
    rate, k = real_test.rate_hz, len(real_test.classes)
    test_x, synthetic_x = motion_input(real_test.x, rate), motion_input(synthetic.x, rate)
    on_real = train_window_classifier(motion_input(real_train.x, rate), real_train.y, k, budget, True)
    on_synthetic = train_window_classifier(synthetic_x, synthetic.y, k, budget, True)
    return {
        "tstr": accuracy_scores(predict_classes(on_synthetic, test_x), real_test.y, real_test.classes),
        "trtr": accuracy_scores(predict_classes(on_real, test_x), real_test.y, real_test.classes),
        "trts": accuracy_scores(predict_classes(on_real, synthetic_x), synthetic.y, real_test.classes),
    }


def split_recordings(real: Windows, test_fraction: float, rng: np.random.Generator) -> list[str]:
    """Test recordings: per class (of a recording's first window), ``test_fraction`` of them, at least one
    when the class has two or more."""
    groups, first = np.unique(real.groups, return_index=True)
    chosen: list[str] = []
    for label in np.unique(real.y[first]):
        members = rng.permutation(groups[real.y[first] == label])
        count = int(round(test_fraction * len(members))) or (1 if len(members) > 1 else 0)
        chosen += members[:count].tolist()
    return chosen


def matched_real_synthetic(real: Windows, synthetic: Windows, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(x (M, T, 3) g, is_synthetic (M,) int): per class as many synthetic windows as real ones
    (the larger side subsampled), so neither the class mix nor the balance tells them apart.
    M is 0 when the real side is empty."""
    xs, labels = [np.zeros((0, *real.x.shape[1:]), real.x.dtype)], [np.zeros(0, np.int64)]
    for label in np.unique(real.y):
        r, s = real.x[real.y == label], synthetic.x[synthetic.y == label]
        n = min(len(r), len(s))
        xs += [r[rng.permutation(len(r))[:n]], s[rng.permutation(len(s))[:n]]]
        labels += [np.zeros(n, np.int64), np.ones(n, np.int64)]
    return np.concatenate(xs), np.concatenate(labels)


def holds_recordings(windows: Windows) -> bool:
    """Whether windows come from more than one recording (real ones; synthetic ones are all "synthetic")."""
    return len(np.unique(windows.groups)) > 1


def discriminator_folds(windows: Windows, folds: int, rng: np.random.Generator) -> np.ndarray:
    """Cross-validation fold (N,) in [0, folds) of every window of one side of a discriminator.

    By recording when the side holds recordings: per class (of a recording's first window),
    recordings in a seeded order are dealt to the folds in turn, so no recording is ever on both
    sides of a split (a discriminator that knew it would score by recognising the recording).
    Synthetic windows (one group) are dealt to the folds in a seeded random order, as evenly as can be.
    """
    if not holds_recordings(windows):
        return rng.permutation(np.arange(len(windows)) % folds)
    groups, first = np.unique(windows.groups, return_index=True)
    fold_of = {}
    for label in np.unique(windows.y[first]):
        fold_of.update({g: i % folds for i, g in enumerate(rng.permutation(groups[windows.y[first] == label]))})
    return np.array([fold_of[g] for g in windows.groups], np.int64)


def conv1d_discriminator(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, rate_hz: float,
                         budget: Budget) -> np.ndarray:
    """Predicted labels (M,) of the compact Conv1D trained for ``budget`` on raw windows (N, T, 3) g."""
    model = train_window_classifier(train_x.astype(np.float32), train_y, 2, budget, random_heading=False)
    return predict_classes(model, test_x.astype(np.float32))


def gradient_boosting_discriminator(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, rate_hz: float,
                                    budget: Budget) -> np.ndarray:
    """Predicted labels (M,) of scikit-learn's HistGradientBoostingClassifier (defaults, random_state =
    budget.seed) on ``discriminator_features`` of windows (N, T, 3) g.

    It runs on one OpenMP thread: beside TensorFlow's thread pools on a busy machine, more threads
    spin-wait and made a sub-second fit take tens of seconds.
    """
    model = HistGradientBoostingClassifier(random_state=budget.seed)
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(discriminator_features(train_x, rate_hz), train_y)
        return model.predict(discriminator_features(test_x, rate_hz))


DISCRIMINATORS = {"conv1d_raw_g": conv1d_discriminator, "gradient_boosting_features": gradient_boosting_discriminator}


def discriminative_score(real: Windows, synthetic: Windows, budget: Budget, discriminator=conv1d_discriminator) -> dict:
    """TimeGAN's discriminative score |accuracy - 0.5| of a post-hoc real-vs-synthetic classifier,
    cross-validated: each of ``budget.folds`` folds (``discriminator_folds``) is predicted once by a
    discriminator trained on the others, and the accuracy is that of every prediction pooled, so
    every real recording is judged and none decides the score alone.

    ``discriminator(train_x, train_y, test_x, rate_hz, budget)`` -> predicted labels (one of
    ``DISCRIMINATORS``); each fold's sides are matched per class (``matched_real_synthetic``).
    Returns {"score", "accuracy", "test_windows" (all folds), "folds", "recordings" (real side)};
    0 means indistinguishable, 0.5 always told apart; score None when no fold could be tested.
    """
    rng, folds = np.random.default_rng([budget.seed, 11]), budget.folds
    real_fold, synthetic_fold = discriminator_folds(real, folds, rng), discriminator_folds(synthetic, folds, rng)
    right = 0
    tested = 0
    for fold in range(folds):
        train_x, train_y = matched_real_synthetic(real.subset(real_fold != fold), synthetic.subset(synthetic_fold != fold), rng)
        test_x, test_y = matched_real_synthetic(real.subset(real_fold == fold), synthetic.subset(synthetic_fold == fold), rng)
        if len(train_x) and len(test_x):
            right += int(np.sum(discriminator(train_x, train_y, test_x, real.rate_hz, budget) == test_y))
            tested += len(test_y)
    accuracy = right / tested if tested else None
    return {"score": abs(accuracy - 0.5) if tested else None, "accuracy": accuracy, "test_windows": tested,
            "folds": folds, "recordings": recordings(real)}


def recordings(windows: Windows) -> list[str]:
    """The sorted names of the recordings (groups) windows come from."""
    return sorted(set(windows.groups.tolist()))


def window_features(x_g: np.ndarray, rate_hz: float) -> np.ndarray:
    """Phase-free features (N, 6 + 3 x FEATURE_BANDS) of windows (N, T, 3) g.

    Per axis: mean (g), standard deviation (g), and log10 power (g^2/Hz) in FEATURE_BANDS
    equal bands of the window's spectrum (DC excluded). Two windows of the same motion started
    at different phases get the same features, unlike their raw samples.
    """
    x_g = np.asarray(x_g, np.float64)
    _, psd = signal.welch(x_g, fs=rate_hz, nperseg=x_g.shape[1], axis=1)  # (N, F, 3)
    bands = [band.sum(axis=1) for band in np.array_split(psd[:, 1:], FEATURE_BANDS, axis=1)]
    band_power = np.log10(np.stack(bands, axis=1) + _LOG_FLOOR).reshape(len(x_g), -1)
    return np.concatenate([x_g.mean(axis=1), x_g.std(axis=1), band_power], axis=1)


def discriminator_features(x_g: np.ndarray, rate_hz: float) -> np.ndarray:
    """Features (N, 6 + 3 x FEATURE_BANDS + 3) of the gradient-boosting discriminator: ``window_features``
    then ``synth.realism.quality.window_statistics`` (std and peak of |a|, RMS of the motion, g) of windows (N, T, 3) g."""
    return np.concatenate([window_features(x_g, rate_hz), window_statistics(x_g, rate_hz)], axis=1)


def standardise(features: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """features (N, D) scaled by the mean and standard deviation of reference (M, D) per column."""
    spread = reference.std(axis=0)
    return (features - reference.mean(axis=0)) / np.where(spread > 0, spread, 1.0)


def nearest_distances(query: np.ndarray, reference: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Euclidean distance (Q,) from every query row (Q, D) to its nearest reference row (R, D)."""
    ref_sq = np.sum(reference**2, axis=1)
    out = []
    for start in range(0, len(query), chunk):
        q = query[start : start + chunk]
        squared = np.sum(q**2, axis=1)[:, None] - 2.0 * q @ reference.T + ref_sq[None, :]
        out.append(np.sqrt(np.maximum(squared.min(axis=1), 0.0)))
    return np.concatenate(out) if out else np.zeros(0)


def nearest_neighbour_ratios(reference: np.ndarray, real_query: np.ndarray, synthetic: np.ndarray,
                             rng: np.random.Generator) -> dict:
    """Mode-collapse check on feature rows (N, D) of one class.

    reference: real train-side; real_query: held-out real; synthetic: generated. The reference
    and the synthetic set are subsampled to the same size n, since nearest distances shrink as
    a set grows. Returns the medians "real_to_real" (held-out -> reference), "synthetic_to_real"
    (synthetic -> reference), "real_to_synthetic" (held-out -> synthetic) and
    "ratio" = synthetic_to_real / real_to_real (well below 1: copies of training windows) and
    "coverage_ratio" = real_to_synthetic / real_to_real (well above 1: real windows the
    synthetic set does not cover, i.e. collapsed modes).
    """
    n = min(len(reference), len(synthetic))
    ref = reference[rng.permutation(len(reference))[:n]]
    syn = synthetic[rng.permutation(len(synthetic))[:n]]
    real_to_real = float(np.median(nearest_distances(real_query, ref)))
    synthetic_to_real = float(np.median(nearest_distances(syn, ref)))
    real_to_synthetic = float(np.median(nearest_distances(real_query, syn)))
    def over_real(value: float) -> float | None:  # None (JSON null) when real windows coincide
        return value / real_to_real if real_to_real > 0 else None

    return {"windows_compared": int(n), "real_to_real": real_to_real, "synthetic_to_real": synthetic_to_real,
            "real_to_synthetic": real_to_synthetic, "ratio": over_real(synthetic_to_real),
            "coverage_ratio": over_real(real_to_synthetic)}


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is 0."""
    return a / b if a is not None and b else None


def value_range_g(x_g: np.ndarray) -> dict:
    """{"min_g", "max_g"}: per-axis extremes [x, y, z] of windows (N, T, 3) in g."""
    return {"min_g": np.min(x_g, axis=(0, 1)).tolist(), "max_g": np.max(x_g, axis=(0, 1)).tolist()}


def pca_2d(features: np.ndarray, fit_on: np.ndarray) -> np.ndarray:
    """Rows (N, D) projected (N, 2) onto the first two principal axes of fit_on (M, D) (both standardised by fit_on)."""
    scaled_fit = standardise(fit_on, fit_on)
    _, _, axes = np.linalg.svd(scaled_fit - scaled_fit.mean(axis=0), full_matrices=False)
    return standardise(features, fit_on) @ axes[:2].T
