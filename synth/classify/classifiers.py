"""Activity classifiers that score windows in g at 26 Hz and answer with class names.

Every classifier here has ``name`` (str), ``classes`` (the canonical names of its outputs) and
``predict(x_g, class_names=None)``: x_g (N, T, 3) in g at 26 Hz -> (N,) array of names. With
``class_names`` a prediction is spelled as the matching caller's name ("Jogging" for running);
a prediction outside them (a WISDM model's "stairs") keeps the classifier's canonical name, so
it simply counts as wrong.

A window longer than the model's input is cut into non-overlapping crops of the model's length
from its first sample on (a remainder shorter than one crop is ignored); each crop is scored
and the window's answer is the majority vote of its crops, ties going to the class with the
higher mean probability. So the BSD-3 model (26 samples) scores a 48-sample window on its first
26 samples only, and a 52-sample window on two crops; a WISDM wl-24 model scores a 48-sample
window on two crops.

- ``StBsd3Classifier``: ST's BSD-3 example model shipped in synth/assets (input mg / 4000).
- ``StZooClassifier``: ST's WISDM model-zoo models (SLA0044; read from ../shared/data only,
  never copied here), fed ST's gravity rotation + suppression in m/s^2 (g x 9.8, as ST does).
- ``train_mobility_classifier``: a compact Conv1D trained in memory on ST's other data set
  (mobility_v1), an independent reference that never saw the BSD-3 recordings.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from synth.classify.preprocessing import ST_G_TO_MS2, gravity_rotation_suppression
from synth.core.errors import ModelError, first_line
from synth.core.windows import Windows
from synth.data.st_mobility import load_st_mobility

BSD3_MODEL = Path(__file__).resolve().parents[1] / "assets" / "st_har_bsd3" / "model.h5"
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BSD3_CLASSES = ("stationary", "walking", "running")
WISDM_CLASSES = ("running", "stationary", "stairs", "walking")  # ST's order: Jogging, Stationary, Stairs, Walking
MOBILITY_CLASSES = {"stationary": [0], "walking": [1], "running": [2]}  # mobility_v1 labels; biking, vehicle left out
ALIASES = {
    "stationary": "stationary", "still": "stationary", "static": "stationary",
    "walk": "walking", "walking": "walking",
    "run": "running", "running": "running", "jog": "running", "jogging": "running",
    "stairs": "stairs",
}


def canonical_class(name: str) -> str:
    """The canonical activity of a class name, case-insensitively ("Jogging" -> "running").

    A name with no alias comes back lower-cased and stripped, so it matches only itself.
    """
    key = name.strip().lower()
    return ALIASES.get(key, key)


def restrict_classes(real: Windows, classes: tuple[str, ...]) -> tuple[Windows, tuple[str, ...]]:
    """(real windows of ``classes`` only, re-indexed into ``classes``; the real classes left out)."""
    position = {canonical_class(c): i for i, c in enumerate(classes)}
    remap = np.array([position.get(canonical_class(c), -1) for c in real.classes], np.int64)
    y = remap[real.y]
    kept = replace(real.subset(y >= 0), classes=classes)
    dropped = tuple(c for c, i in zip(real.classes, remap) if i < 0)
    return replace(kept, y=y[y >= 0]), dropped


@dataclass
class KerasWindowClassifier:
    """A Keras model over fixed-length crops of g windows.

    model: Keras model taking ``prepare(crops_g)``; window: its input length in samples;
    classes: canonical names of its outputs, in output order; prepare: (M, window, 3) g ->
    the model's input array.
    """

    name: str
    model: object
    window: int
    classes: tuple[str, ...]
    prepare: Callable[[np.ndarray], np.ndarray]

    def probabilities(self, x_g: np.ndarray) -> np.ndarray:
        """Softmax scores (N, K, C) of the K crops of every window (N, T, 3) in g."""
        crops = crop_windows(np.asarray(x_g, dtype=np.float32), self.window)
        n, k = crops.shape[:2]
        flat = self.prepare(crops.reshape(n * k, self.window, 3)).astype(np.float32)
        scores = self.model.predict(flat, batch_size=1024, verbose=0) if len(flat) else np.zeros((0, len(self.classes)))
        return np.asarray(scores).reshape(n, k, len(self.classes))

    def predict(self, x_g: np.ndarray, class_names: Optional[Sequence[str]] = None) -> np.ndarray:
        """Predicted class names (N,) for windows (N, T, 3) in g (see the module docstring)."""
        winners = majority_vote(self.probabilities(x_g))
        names = np.asarray(self.classes, dtype=object)[winners]
        return spell_as(names, class_names) if class_names is not None else names


def crop_windows(x: np.ndarray, length: int) -> np.ndarray:
    """Non-overlapping crops from sample 0: x (N, T, C) -> (N, T // length, length, C)."""
    n, t, c = x.shape
    if t < length:
        raise ValueError(f"windows of {t} samples are shorter than the classifier's input ({length} samples)")
    k = t // length
    return x[:, : k * length].reshape(n, k, length, c)


def majority_vote(probs: np.ndarray) -> np.ndarray:
    """Winning class index (N,) from crop scores (N, K, C): most crop wins, ties by mean score.

    The mean score is below 1, so adding half of it separates tied vote counts without ever
    overturning a difference of one vote.
    """
    votes = np.zeros((probs.shape[0], probs.shape[2]), np.float64)
    np.add.at(votes, (np.arange(len(probs))[:, None], probs.argmax(axis=-1)), 1.0)
    return (votes + 0.5 * probs.mean(axis=1)).argmax(axis=-1)


def spell_as(names: np.ndarray, class_names: Sequence[str]) -> np.ndarray:
    """Canonical predictions (N,) spelled as the caller's matching class names where one matches."""
    spelling = {canonical_class(c): c for c in class_names}
    return np.asarray([spelling.get(n, n) for n in names], dtype=object)


def load_keras(path: Path):
    """A Keras 2 or 3 .h5/.keras model loaded for inference only; ModelError naming the file otherwise.

    Registers synth's preprocessing layer first (models of ``synth train-classifier`` hold it)
    and silences the warnings Keras 3 prints about the input_shape arguments of Keras 2 files.
    """
    import keras

    import synth.classify.preprocessing_tf  # noqa: F401  (registers the preprocessing layer for .keras files)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for corrupt files and unknown layers
        raise ModelError(f"{path}: cannot load it as a Keras model ({first_line(exc, 200)})") from None


def st_zoo_input(crops_g: np.ndarray) -> np.ndarray:
    """ST model-zoo input: crops (M, wl, 3) g -> (M, wl, 3, 1) rotated dynamic acceleration, m/s^2."""
    return gravity_rotation_suppression(crops_g * ST_G_TO_MS2)[..., None]


class StBsd3Classifier(KerasWindowClassifier):
    """ST's BSD-3 example classifier: 26-sample crops, input mg / 4000 (= g / 4), no gravity removal."""

    def __init__(self, path: Path = BSD3_MODEL):
        super().__init__("st_bsd3", load_keras(path), 26, BSD3_CLASSES, lambda crops_g: crops_g / 4.0)


class StZooClassifier(KerasWindowClassifier):
    """An ST model-zoo WISDM model (.h5, wl 24 or 48): gravity rotation + suppression in m/s^2.

    Outputs Jogging, Stationary, Stairs, Walking become running, stationary, stairs, walking.
    """

    def __init__(self, path: Path):
        model = load_keras(path)
        super().__init__(f"st_zoo_{Path(path).stem}", model, int(model.input_shape[1]), WISDM_CLASSES, st_zoo_input)


def zoo_model_paths(shared: Path = SHARED_DATA) -> list[Path]:
    """The WISDM .h5 models present under ``shared``/st_model_zoo_wisdm (empty when absent)."""
    return sorted((Path(shared) / "st_model_zoo_wisdm").glob("*/*.h5"))


def mobility_pickle(shared: Path = SHARED_DATA) -> Optional[Path]:
    """``shared``/st_mobility_v1/train.pkl when it exists, else None."""
    path = Path(shared) / "st_mobility_v1" / "train.pkl"
    return path if path.is_file() else None


def build_compact_conv1d(window: int, n_classes: int, seed: int):
    """A small Conv1D (about 5k parameters) over (window, 3) rotated dynamic acceleration."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((window, 3)),
        keras.layers.Conv1D(16, 5, activation="relu", padding="same"),
        keras.layers.MaxPooling1D(2),
        keras.layers.Conv1D(32, 5, activation="relu", padding="same"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])


def random_yaw(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotate each window (N, T, 3) about z by a random angle.

    After gravity rotation only the heading around the vertical is left arbitrary, so this
    teaches the classifier that heading carries no information about the activity.
    """
    angle = rng.uniform(0.0, 2.0 * np.pi, len(x))
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    return np.stack([cos * x[..., 0] - sin * x[..., 1], sin * x[..., 0] + cos * x[..., 1], x[..., 2]], axis=-1)


def train_mobility_classifier(
    path: Path, window: int = 48, stride: int = 8, epochs: int = 15, seed: int = 0
) -> KerasWindowClassifier:
    """Train the compact Conv1D on mobility_v1 (stationary, walking, jogging = running) in memory.

    path: the SLA0044 train.pkl; windows of ``window`` samples every ``stride`` samples, gravity
    rotated and suppressed in m/s^2 like ST's models; classes are weighted equally; random
    heading changes augment every epoch. Nothing is written to disk.
    """
    data = load_st_mobility(path, 26.0, window, stride, MOBILITY_CLASSES)
    x = st_zoo_input(data.x)[..., 0]
    model = build_compact_conv1d(window, len(data.classes), seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    counts = np.bincount(data.y, minlength=len(data.classes))
    weights = {i: len(data.y) / (len(counts) * max(c, 1)) for i, c in enumerate(counts)}
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        model.fit(random_yaw(x, rng), data.y, batch_size=64, epochs=1, class_weight=weights, verbose=0)
    classes = tuple(canonical_class(c) for c in data.classes)
    return KerasWindowClassifier("mobility_conv1d", model, window, classes, lambda crops_g: st_zoo_input(crops_g)[..., 0])
