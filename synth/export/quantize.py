"""Full-int8 post-training quantisation of a Keras model to TFLite bytes.

Public API (stable; ``synth export`` and ``synth export-c`` both use it):

- ``quantize_to_int8(model, samples, max_samples=500, seed=0) -> bytes``: the .tflite
  flatbuffer of ``model`` with int8 weights and activations, int8 inputs and output, batch fixed
  at 1, TFLITE_BUILTINS_INT8 only (a layer without an int8 builtin fails the conversion).
  ``samples`` is one float array (N, *input_shape) per model input, in the model's input order
  and units: the representative data that sets every tensor's scale and zero point.
- ``load_export_source(kind, source, config=None, max_samples=500, seed=0) -> ExportSource``
  (from synth.export.sources, re-exported here): the float model of a generator, classifier
  or autoencoder with its representative samples, its kind and its manifest metadata.

The conversion goes through a SavedModel written by ``model.export`` with a batch-1 input
signature: ``TFLiteConverter.from_keras_model`` is fragile under Keras 3, and a plain
tf.function leaves Keras 3 variables unfrozen (READ_VARIABLE ops the calibrator cannot run).
The same model and samples give the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Iterator, Sequence

import numpy as np

from synth.core.errors import ModelError, first_line
from synth.export.export_source import ExportSource
from synth.export.sources import KINDS, load_export_source

__all__ = ["quantize_to_int8", "load_export_source", "ExportSource", "KINDS", "DEFAULT_SAMPLES"]

DEFAULT_SAMPLES = 500  # representative inputs: enough for stable ranges, a few seconds to calibrate


def quantize_to_int8(model, samples: Sequence[np.ndarray] | np.ndarray, max_samples: int = DEFAULT_SAMPLES,
                     seed: int = 0, float_interface: bool = False) -> bytes:
    """The full-int8 .tflite bytes of a Keras ``model`` calibrated on ``samples``.

    ``float_interface``: keep float32 inputs and outputs, converted by a QUANTIZE first and a
    DEQUANTIZE last around the int8 operators (the converter's default, and the model zoo's);
    otherwise the inputs and outputs are int8.

    ``samples``: one float array (N, *input_shape) per model input (a bare array for a
    single-input model), N >= 1. At most ``max_samples`` of them (a seeded, order-preserving
    subset) are fed to the calibrator. ModelError when there is no representative data, when
    the arrays do not fit the model's inputs, or when a layer has no int8 builtin.
    """
    import tensorflow as tf

    arrays = _check_samples(model, samples)
    arrays = _subset(arrays, max_samples, seed)
    names = [_input_name(model, i) for i in range(len(arrays))]
    with _saved_model(model, arrays, names) as path:
        converter = tf.lite.TFLiteConverter.from_saved_model(path)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: _representative(names, arrays)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if not float_interface:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        try:
            return bytes(converter.convert())
        except Exception as exc:  # the converter raises ConverterError / RuntimeError with long logs
            raise ModelError(f"{model.name}: full-int8 conversion failed: {first_line(exc)}") from None


def _check_samples(model, samples) -> list[np.ndarray]:
    """The samples as a list of float32 arrays, one per model input; ModelError if they do not fit."""
    arrays = [samples] if isinstance(samples, np.ndarray) else list(samples)
    if len(arrays) != len(model.inputs):
        raise ModelError(f"{model.name} has {len(model.inputs)} inputs but {len(arrays)} representative arrays were given")
    for i, (array, tensor) in enumerate(zip(arrays, model.inputs)):
        if len(array) == 0:
            raise ModelError(f"{model.name}: no representative data for input {i}: int8 quantisation needs real input ranges")
        if tuple(array.shape[1:]) != tuple(tensor.shape[1:]):
            raise ModelError(f"{model.name}: representative input {i} has shape {array.shape[1:]}, "
                             f"the model takes {tuple(tensor.shape[1:])}")
    if len({len(a) for a in arrays}) != 1:
        raise ModelError(f"{model.name}: representative arrays have different lengths {[len(a) for a in arrays]}")
    return [np.asarray(a, np.float32) for a in arrays]


def _subset(arrays: list[np.ndarray], max_samples: int, seed: int) -> list[np.ndarray]:
    """At most ``max_samples`` rows of every array, the same rows for all, in their original order."""
    n = len(arrays[0])
    if n <= max_samples:
        return arrays
    rows = np.sort(np.random.default_rng(seed).choice(n, max_samples, replace=False))
    return [a[rows] for a in arrays]


def _input_name(model, index: int) -> str:
    """The signature name of input ``index``: the Keras input's name, made a valid identifier."""
    name = model.inputs[index].name.split(":")[0]
    return "".join(c if c.isalnum() else "_" for c in name) or f"input_{index}"


@contextlib.contextmanager
def _saved_model(model, arrays: list[np.ndarray], names: list[str]) -> Iterator[str]:
    """A temporary SavedModel of ``model`` with a batch-1 float32 signature; removed afterwards."""
    import tensorflow as tf

    specs = [tf.TensorSpec((1, *a.shape[1:]), tf.float32, name=name) for a, name in zip(arrays, names)]
    with tempfile.TemporaryDirectory(prefix="synth-export-") as folder:
        path = os.path.join(folder, "saved_model")
        signature = specs if len(specs) > 1 else specs[0]
        model.export(path, format="tf_saved_model", input_signature=[signature], verbose=False)
        yield path


def _representative(names: list[str], arrays: list[np.ndarray]):
    """Calibration inputs one at a time, as {signature input name: (1, ...) float32}."""
    for i in range(len(arrays[0])):
        yield {name: array[i : i + 1] for name, array in zip(names, arrays)}
