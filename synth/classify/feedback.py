"""A frozen activity classifier as a differentiable judge of generated windows.

Fine-tuning adds lambda x cross-entropy of such a classifier on generated windows of the
requested class to the generator's loss. The classifier sees exactly what it would see on the
device: windows (B, T, 3) in g as the sensor outputs them, turned into its own input by
TensorFlow ops (so gradients reach the generator), cut into non-overlapping crops of its
window length from sample 0 (as synth.classify.classifiers scores longer windows); the loss is the mean
over crops.

Three kinds, named by ``load_feedback(spec)``:
- ``"st_bsd3"``: ST's BSD-3 example classifier shipped in synth/assets (26-sample crops, input
  mg / 4000 = g / 4, no preprocessing);
- a ``synth train-classifier`` run folder: input (B, wl, 3, 1) raw m/s^2, its gravity rotation
  + suppression is inside the model;
- an ST model-zoo Keras file (.h5 / .keras): ST's contract, input (B, wl, 3, 1) m/s^2 after
  gravity rotation + suppression, done here by synth.classify.preprocessing_tf; ``classes`` gives its
  output order (WISDM's by default).
A .tflite file cannot be differentiated: the error says to pass the Keras file instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf

from synth.classify.classifiers import BSD3_CLASSES, BSD3_MODEL, canonical_class, load_keras, majority_vote
from synth.classify.preprocessing import RATE_HZ, ST_G_TO_MS2
from synth.classify.preprocessing_tf import gravity_rotation_suppression_tf
from synth.classify.st_classifier import WISDM_CLASS_NAMES, check_output_count
from synth.classify.train_classifier import INFO_FILE, MODEL_FILE
from synth.core.errors import ConfigError, ModelError

BUILTIN = "st_bsd3"
_LOG_FLOOR = 1e-7  # keeps log(p) finite for a softmax output that rounds to 0


@dataclass
class ClassifierFeedback:
    """A frozen Keras classifier over crops of g windows, usable inside a compiled train step.

    name: what it is (for reports); model: the Keras model; window: its input length (samples);
    classes: its output names in output order; prepare: crops (M, window, 3) g tensor -> the
    model's input tensor; rate_hz: the rate it was trained at.
    """

    name: str
    model: object
    window: int
    classes: tuple[str, ...]
    prepare: Callable[[tf.Tensor], tf.Tensor]
    rate_hz: float = RATE_HZ

    def crop_probabilities(self, x_g: tf.Tensor) -> tf.Tensor:
        """Softmax scores (B, K, C) of the K crops of windows x_g (B, T, 3) in g."""
        length = x_g.shape[1]
        crops = length // self.window
        x = tf.reshape(x_g[:, : crops * self.window], (-1, self.window, 3))
        scores = self.model(self.prepare(x), training=False)
        return tf.reshape(scores, (-1, crops, len(self.classes)))

    def cross_entropy(self, x_g: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        """Mean over windows and crops of -log p(target): x_g (B, T, 3) g, target (B,) int output indices."""
        probs = self.crop_probabilities(x_g)
        picked = tf.gather(probs, tf.cast(target, tf.int32), axis=2, batch_dims=1)  # (B, K)
        return -tf.reduce_mean(tf.math.log(tf.maximum(picked, _LOG_FLOOR)))

    def predict_indices(self, x_g: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Winning output index (N,) per window (N, T, 3) g: majority vote of its crops."""
        parts = [self.crop_probabilities(tf.constant(x_g[i : i + batch_size], tf.float32)).numpy()
                 for i in range(0, len(x_g), batch_size)]
        return majority_vote(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    def target_indices(self, generator_classes: Sequence[str]) -> np.ndarray:
        """The output index (K,) of each generator class; ConfigError naming any it lacks."""
        mine = [canonical_class(c) for c in self.classes]
        missing = [c for c in generator_classes if canonical_class(c) not in mine]
        if missing:
            raise ConfigError(f"the classifier {self.name} has no class for {', '.join(missing)} "
                              f"(its classes: {', '.join(self.classes)})")
        return np.asarray([mine.index(canonical_class(c)) for c in generator_classes], np.int32)

    def check_windows(self, window: int, rate_hz: float) -> None:
        """ConfigError unless windows of ``window`` samples at ``rate_hz`` fit this classifier."""
        if not np.isclose(rate_hz, self.rate_hz):
            raise ConfigError(f"the classifier {self.name} takes {self.rate_hz:g} Hz data but the generator makes {rate_hz:g} Hz")
        if window < self.window:
            raise ConfigError(f"the classifier {self.name} takes {self.window}-sample windows, "
                              f"longer than the generator's {window}")


def load_feedback(spec: str, base_dir: Path = Path("."), classes: Optional[Sequence[str]] = None) -> ClassifierFeedback:
    """The classifier named by ``spec`` ("st_bsd3", a train-classifier folder or a .h5/.keras file)."""
    if spec == BUILTIN:
        return _bsd3()
    path = Path(spec) if Path(spec).is_absolute() else Path(base_dir) / spec
    if path.is_dir():
        return _trained(path)
    if path.suffix == ".tflite":
        raise ConfigError(f"{path}: a .tflite classifier cannot give gradients; pass its Keras .h5 or .keras file")
    if path.suffix not in (".h5", ".keras"):
        raise ConfigError(f"classifier {spec!r}: expected {BUILTIN!r}, a 'synth train-classifier' folder, or a .h5/.keras file")
    return _model_zoo(path, tuple(classes or WISDM_CLASS_NAMES))


def _bsd3() -> ClassifierFeedback:
    model = _load(BSD3_MODEL)
    return ClassifierFeedback(BUILTIN, model, _input_window(BSD3_MODEL, model, (3,)), BSD3_CLASSES, lambda x: x / 4.0)


def _trained(folder: Path) -> ClassifierFeedback:
    """A ``synth train-classifier`` folder: its gravity preprocessing is inside the model."""
    try:
        info = json.loads((folder / INFO_FILE).read_text())
        classes = tuple(info["classes"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{folder}: not a 'synth train-classifier' folder ({exc})") from None
    model = _load(folder / MODEL_FILE)
    window = _input_window(folder / MODEL_FILE, model, (3, 1))
    check_output_count(folder, int(model.output_shape[-1]), classes)
    return ClassifierFeedback(folder.name, model, window, classes, lambda x: (x * ST_G_TO_MS2)[..., None],
                              float(info.get("rate_hz", RATE_HZ)))


def _model_zoo(path: Path, classes: tuple[str, ...]) -> ClassifierFeedback:
    """An ST model-zoo file: gravity rotation + suppression in m/s^2 before the model."""
    model = _load(path)
    window = _input_window(path, model, (3, 1))
    check_output_count(path, int(model.output_shape[-1]), classes)
    return ClassifierFeedback(path.stem, model, window, classes,
                              lambda x: gravity_rotation_suppression_tf(x * ST_G_TO_MS2)[..., None])


def _load(path: Path):
    """A Keras model for inference with its weights frozen; ModelError naming the file otherwise."""
    if not path.is_file():
        raise ModelError(f"classifier file not found: {path}")
    model = load_keras(path)
    model.trainable = False
    return model


def _input_window(path: Path, model, trailing: tuple[int, ...]) -> int:
    """The model's window length; ModelError unless its input is (B, wl, *trailing)."""
    shape = tuple(model.input_shape)
    if len(shape) != 2 + len(trailing) or tuple(shape[2:]) != trailing or not shape[1]:
        raise ModelError(f"{path}: input shape {shape} is not (batch, window, {', '.join(map(str, trailing))})")
    return int(shape[1])
