"""``synth train-classifier``: train an ST-compatible activity classifier and write a run folder.

The model (IGN or GMP, see synth.classify.har) starts with ST's gravity rotation + suppression as
TensorFlow layers, so the saved model takes raw windows (B, wl, 3, 1) float32 in m/s^2 (g x 9.8,
gravity included) at 26 Hz: the windows an ST model-zoo classifier receives before ST's own
preprocessing. Windows are split by recording (the data section's ``test_groups``), never by
shuffled windows; classes weigh equally in the loss; the same seed and data give the same model.

The run folder holds ``classifier.keras`` and ``classifier.json``: classes, window, rate, units,
preprocessing, architecture, seed, data hash, and on the held-out recordings the accuracy, the
accuracy per class and the confusion matrix (rows: true class, columns: predicted class).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from synth.classify.classifiers import canonical_class
from synth.classify.preprocessing import HIGHPASS_CUTOFF_HZ, HIGHPASS_ORDER, RATE_HZ, ST_G_TO_MS2
from synth.classify.st_classifier import StClassifier, load_st_classifier
from synth.core.atomic import save_keras, write_json
from synth.core.config import ClassifierConfig, Config, require
from synth.core.errors import ConfigError, DataError, ModelError
from synth.core.runs import hash_arrays
from synth.core.windows import Windows
from synth.data.loading import load_windows

log = logging.getLogger(__name__)

MODEL_FILE = "classifier.keras"
INFO_FILE = "classifier.json"


def run_classifier_training(config: Config, base_dir: Path = Path("."), verbose: int = 0) -> Path:
    """Train per ``config`` (sections data and classifier); returns the run folder."""
    data_config = require(config.data, "data")
    settings = require(config.classifier, "classifier")
    windows = load_windows(data_config, RATE_HZ, base_dir)
    train, test = _split(windows, data_config.test_groups)
    model = _fit(settings, train, config.seed, verbose)
    run_dir = Path(settings.run_dir)
    save_keras(model, run_dir / MODEL_FILE)
    # scored through the saved file, so the figures are those of the model a user will load
    classifier = load_st_classifier(run_dir / MODEL_FILE, train.classes, train.length, preprocess=False)
    held_out = evaluate_classifier(classifier, test)
    data_hash = hash_arrays(train.x, train.y, extra=json.dumps(train.classes))
    write_json(run_dir / INFO_FILE, _run_info(config, settings, train, test, model, data_hash, held_out))
    log.info("held-out accuracy %.3f on %d windows of %d recordings", held_out["accuracy"], len(test), len(set(test.groups)))
    return run_dir


def _split(windows: Windows, test_groups: list[str]) -> tuple[Windows, Windows]:
    """(train, test) by recording; ConfigError when either side is empty."""
    if not test_groups:
        raise ConfigError("data.test_groups must name the recordings held out for the classifier's accuracy")
    train, test = windows.split_by_group(test_groups)
    missing = sorted(set(test_groups) - set(windows.groups.tolist()))
    if missing:
        raise ConfigError(f"data.test_groups names recordings the data does not hold: {', '.join(missing[:5])}")
    if len(train) == 0:
        raise ConfigError("data.test_groups holds out every recording: nothing is left to train on")
    return train, test


def model_input(x_g: np.ndarray) -> np.ndarray:
    """Windows (N, T, 3) in g -> ST's raw model input (N, T, 3, 1) float32 in m/s^2 (g x 9.8)."""
    return (np.asarray(x_g, dtype=np.float64) * ST_G_TO_MS2).astype(np.float32)[..., None]


def _fit(settings: ClassifierConfig, train: Windows, seed: int, verbose: int):
    """A compiled IGN/GMP model fitted on ``train`` with equal class weights, seeded."""
    import keras

    from synth.classify.har import build_har_classifier

    model = build_har_classifier(settings.architecture, train.length, len(train.classes), settings.dropout, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate), loss="sparse_categorical_crossentropy")
    model.fit(model_input(train.x), train.y, batch_size=settings.batch_size, epochs=settings.epochs,
              class_weight=balanced_class_weights(train.y, len(train.classes)), shuffle=True, verbose=verbose)
    return model


def balanced_class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Loss weight per class index so that every present class weighs the same in total."""
    counts = np.bincount(y, minlength=n_classes)
    return {i: float(len(y) / (n_classes * c)) if c else 0.0 for i, c in enumerate(counts)}


def evaluate_classifier(classifier: StClassifier, windows: Windows) -> dict:
    """Accuracy, accuracy per class and confusion matrix of ``classifier`` on labelled windows in g.

    Class names are matched case-insensitively through their aliases (jogging = running); a
    class of the data that the classifier lacks is a DataError. The matrix has one row per
    class of the data (true) and one column per class of the classifier (predicted).
    """
    columns = _column_of_classes(classifier.classes, windows.classes)
    predicted = classifier.predict_proba(windows.x).argmax(axis=-1) if len(windows) else np.zeros(0, np.int64)
    matrix = np.zeros((len(windows.classes), len(classifier.classes)), np.int64)
    np.add.at(matrix, (windows.y, predicted), 1)
    correct = matrix[np.arange(len(columns)), columns]
    totals = matrix.sum(axis=1)
    return {
        "accuracy": float(correct.sum() / max(totals.sum(), 1)),
        "per_class": {name: (float(c / t) if t else None) for name, c, t in zip(windows.classes, correct, totals)},
        "windows_per_class": dict(zip(windows.classes, totals.tolist())),
        "confusion_matrix": {"rows_true": list(windows.classes), "columns_predicted": list(classifier.classes),
                             "counts": matrix.tolist()},
    }


def _column_of_classes(model_classes: tuple[str, ...], data_classes: tuple[str, ...]) -> np.ndarray:
    """Index of each data class among the model's classes, matched by canonical name."""
    canonical = [canonical_class(c) for c in model_classes]
    lacking = [c for c in data_classes if canonical_class(c) not in canonical]
    if lacking:
        raise DataError(f"the classifier ({', '.join(model_classes)}) has no class for {', '.join(lacking)}")
    return np.asarray([canonical.index(canonical_class(c)) for c in data_classes])


def _run_info(config: Config, settings: ClassifierConfig, train: Windows, test: Windows, model, data_hash: str,
              held_out: dict) -> dict:
    """The run's metadata: the classifier's contract, provenance, and held-out figures."""
    return {
        **classifier_contract(train.classes, train.length),
        "architecture": settings.architecture,
        "parameters": int(model.count_params()),
        "seed": config.seed,
        "data_hash": data_hash,
        "train_windows": train.class_counts(),
        "test_recordings": sorted(set(test.groups.tolist())),
        "held_out": held_out,
        "config": config.model_dump(mode="json"),
    }


def classifier_contract(classes, window: int) -> dict:
    """What a saved classifier takes and answers (the head of classifier.json; its gravity
    rotation + suppression is inside the model, so it takes raw windows)."""
    return {
        "classes": list(classes),
        "window": int(window),
        "rate_hz": RATE_HZ,
        "units": "m/s^2",
        "g_to_ms2": ST_G_TO_MS2,
        "input_layout": "(batch, window, 3, 1) float32, axes x, y, z, gravity included",
        "preprocessing": {"name": "gravity_rotation_suppression", "inside_model": True,
                          "highpass": f"Butterworth order {HIGHPASS_ORDER}, {HIGHPASS_CUTOFF_HZ} Hz"},
    }


def load_trained_classifier(run_dir: str | Path) -> StClassifier:
    """The classifier of a ``synth train-classifier`` run folder (its preprocessing is inside)."""
    run_dir = Path(run_dir)
    try:
        info = json.loads((run_dir / INFO_FILE).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{run_dir}: not a classifier run folder ({exc})") from None
    inside = info["preprocessing"]["inside_model"]
    return load_st_classifier(run_dir / MODEL_FILE, info["classes"], info["window"], preprocess=not inside)
