"""ST model-zoo activity classifiers loaded as ST ships them (Keras .h5 / .keras, full-int8 .tflite).

ST's contract: windows of ``wl`` samples (read from the model's input shape) at 26 Hz, in m/s^2
(ST multiplies g by 9.8), gravity rotation + suppression applied before the model, input
layout (B, wl, 3, 1); outputs are softmax scores in the caller's class order (WISDM's by
default). A model trained by ``synth train-classifier`` holds the preprocessing as its first
layer: load it with ``preprocess=False`` (its run.json records that).

Every mistake (not a model, layers Keras cannot rebuild, a window or class count that does not
match the model) raises ModelError with one line naming the file and what was expected.

``load_window_classifier`` wraps a loaded model as a ``synth.classify.classifiers.KerasWindowClassifier``,
so windows longer than the model's input are scored by the same crops + majority vote as ST's
BSD-3 classifier, and class names are compared by canonical activity (Jogging == running).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Optional, Sequence

import numpy as np

from synth.classify.classifiers import KerasWindowClassifier, canonical_class, load_keras
from synth.classify.preprocessing import RATE_HZ, ST_G_TO_MS2, gravity_rotation_suppression
from synth.core.errors import DataError, ModelError, first_line
from synth.core.tflite_file import load_tflite

WISDM_CLASS_NAMES = ("Jogging", "Stationary", "Stairs", "Walking")  # ST's output order for WISDM
KERAS_SUFFIXES = (".h5", ".keras")
TFLITE_SUFFIX = ".tflite"

Scorer = Callable[[np.ndarray], np.ndarray]  # (M, wl, 3, 1) float32 model input -> (M, K) float32


@dataclass(frozen=True)
class StClassifier:
    """An activity classifier with ST's input contract.

    classes: output names in output order; window: samples per window (wl); rate_hz: 26;
    preprocess: whether gravity rotation + suppression runs here (False when it is inside the
    model); scores: the model itself, on (M, wl, 3, 1) float32 m/s^2.
    """

    classes: tuple[str, ...]
    window: int
    scores: Scorer
    preprocess: bool = True
    rate_hz: float = RATE_HZ

    def model_input(self, x_g: np.ndarray) -> np.ndarray:
        """Windows (N, wl, 3) in g -> the model's input (N, wl, 3, 1) float32 in m/s^2."""
        x_g = np.asarray(x_g, dtype=np.float64)
        if x_g.ndim != 3 or x_g.shape[1:] != (self.window, 3):
            raise DataError(f"the classifier takes windows of shape (N, {self.window}, 3) in g, got {x_g.shape}")
        x_ms2 = x_g * ST_G_TO_MS2
        if self.preprocess:
            x_ms2 = gravity_rotation_suppression(x_ms2, self.rate_hz)
        return x_ms2.astype(np.float32)[..., None]

    def predict_proba(self, x_g: np.ndarray) -> np.ndarray:
        """Class scores (N, K) float32 for windows (N, wl, 3) in g."""
        prepared = self.model_input(x_g)
        if len(prepared) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        return np.asarray(self.scores(prepared), dtype=np.float32)

    def predict(self, x_g: np.ndarray) -> np.ndarray:
        """Predicted class names (N,) for windows (N, wl, 3) in g."""
        return np.asarray(self.classes, dtype=object)[self.predict_proba(x_g).argmax(axis=-1)]


def load_st_classifier(
    path: str | Path,
    classes: Sequence[str] = WISDM_CLASS_NAMES,
    window: Optional[int] = None,
    preprocess: bool = True,
) -> StClassifier:
    """Load a .h5 / .keras / .tflite classifier; ``window`` (if given) must match the model's input."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"classifier file not found: {path}")
    if path.suffix in KERAS_SUFFIXES:
        scores, input_shape, n_outputs = _keras_scorer(path)
    elif path.suffix == TFLITE_SUFFIX:
        scores, input_shape, n_outputs = _tflite_scorer(path)
    else:
        raise ModelError(f"{path}: unknown classifier format {path.suffix!r} (allowed: .h5, .keras, .tflite)")
    model_window = _check_input_shape(path, input_shape, window)
    check_output_count(path, n_outputs, classes)
    return StClassifier(tuple(classes), model_window, scores, preprocess)


def load_window_classifier(path: str | Path, classes: Sequence[str] = WISDM_CLASS_NAMES) -> KerasWindowClassifier:
    """``load_st_classifier(path, classes)`` as a KerasWindowClassifier named after the file.

    It takes windows (N, T, 3) in g with T >= the model's wl: each is cut into T // wl crops,
    each crop gets ST's preprocessing (m/s^2, gravity rotation + suppression) and the window's
    class is the crops' majority vote. Its ``classes`` are the canonical names of ``classes``.
    """
    loaded = load_st_classifier(path, classes)
    # KerasWindowClassifier calls model.predict(x, batch_size=..., verbose=...); the scorer takes x only
    model = SimpleNamespace(predict=lambda x, **_: loaded.scores(x))
    canonical = tuple(canonical_class(c) for c in loaded.classes)
    return KerasWindowClassifier(Path(path).name, model, loaded.window, canonical, loaded.model_input)


def check_output_count(path: Path, n_outputs: int, classes: Sequence[str]) -> None:
    """ModelError unless the model at ``path`` has one output per class name."""
    if len(classes) != n_outputs:
        raise ModelError(f"{path}: the model has {n_outputs} outputs but {len(classes)} class names were given ({', '.join(classes)})")


def _check_input_shape(path: Path, shape: tuple, window: Optional[int]) -> int:
    """The model's window length; ModelError unless its input is (B, wl, 3, 1) with wl == window."""
    shape = tuple(shape)
    if len(shape) != 4 or tuple(shape[2:]) != (3, 1) or not shape[1]:
        raise ModelError(f"{path}: input shape {shape} is not ST's (batch, window, 3, 1)")
    if window is not None and int(shape[1]) != window:
        raise ModelError(f"{path}: the model takes windows of {shape[1]} samples, not {window} as asked")
    return int(shape[1])


def _keras_scorer(path: Path) -> tuple[Scorer, tuple, int]:
    """(scores, input shape, number of outputs) of a Keras model loaded for inference."""
    model = load_keras(path)
    scores = lambda x: model.predict(x, batch_size=1024, verbose=0)  # noqa: E731
    return scores, tuple(model.input_shape), int(model.output_shape[-1])


def _tflite_scorer(path: Path) -> tuple[Scorer, tuple, int]:
    """(scores, input shape, number of outputs) of a TFLite model run by the TF Lite interpreter."""
    import tensorflow as tf

    data = load_tflite(path)  # parsed in full first: a damaged flatbuffer must not reach the C++ interpreter
    try:
        with warnings.catch_warnings():  # tf.lite.Interpreter warns about its future move to LiteRT
            warnings.simplefilter("ignore")
            interpreter = tf.lite.Interpreter(model_content=data)
        interpreter.allocate_tensors()
    except Exception as exc:
        raise ModelError(f"{path}: cannot load it as a TFLite model ({first_line(exc, 200)})") from None
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    input_shape = (None, *map(int, source["shape"][1:]))
    return lambda x: _run_tflite(interpreter, source, target, x), input_shape, int(target["shape"][-1])


def _run_tflite(interpreter, source: dict, target: dict, x: np.ndarray) -> np.ndarray:
    """Scores (M, K) float32 of model inputs x (M, wl, 3, 1) float32, quantised if the model asks."""
    interpreter.resize_tensor_input(source["index"], list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], quantize(x, source))
    interpreter.invoke()
    return dequantize(interpreter.get_tensor(target["index"]), target)


def quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    """Float input -> the tensor's dtype: q = round(x / scale) + zero_point, clipped (int8/uint8 only)."""
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return x.astype(dtype)
    scale, zero_point = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, detail: dict) -> np.ndarray:
    """Tensor output -> float32: (q - zero_point) * scale for integer tensors, unchanged otherwise."""
    if np.dtype(detail["dtype"]).kind == "f":
        return q.astype(np.float32)
    scale, zero_point = detail["quantization"]
    return ((q.astype(np.float32) - zero_point) * scale).astype(np.float32)
