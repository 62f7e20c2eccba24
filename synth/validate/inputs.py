"""The inputs ``synth validate`` runs a model on: seeded random ones and real windows.

Random inputs cover the model's whole int8 input range: uniform int8 codes for an int8
interface; for a float interface, float32 values over and beyond the range the first QUANTIZE
can represent, and values exactly halfway between two codes. Real windows come from a ``synth generate`` dataset folder (mg, labelled), turned
into the model's input units as its manifest states them (g, g / K, or ST's gravity rotation +
suppression in m/s^2, also assumed for an ST model-zoo input (1, T, 3, 1)). Windows longer
than the model's are cut into consecutive model-length windows that keep their label (a
remainder shorter than the model's window is left out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.core.errors import ConfigError
from synth.core.tflite_file import Graph, Tensor
from synth.export.float_boundary import split_float_boundary
from synth.export.verify import quantize

MG_PER_G = 1000.0


@dataclass(frozen=True)
class ValidationInputs:
    """N inputs for the model: ``per_input[k]`` is (N, *shape_k) in the interface dtype (int8 or
    float32), ``origin`` (N,) "random" or "data", ``labels`` (N,) model label indices (-1: none)."""

    per_input: list[np.ndarray]
    origin: np.ndarray
    labels: np.ndarray

    @property
    def packed(self) -> np.ndarray:
        """All inputs of each row side by side, (N, total elements), as the C harnesses take them."""
        n = len(self.origin)
        return np.concatenate([x.reshape(n, -1) for x in self.per_input], axis=1)

    def __len__(self) -> int:
        return len(self.origin)


def random_inputs(graph: Graph, count: int, seed: int) -> ValidationInputs:
    """``count`` random inputs over the model's int8 input range (seeded), see ``float_inputs`` for a float32 one."""
    rng = np.random.default_rng(seed)
    core, _ = split_float_boundary(graph)
    arrays = []
    for interface, core_index in zip(graph.inputs, core.inputs):
        shape = (count, *graph.tensors[interface].shape)
        if graph.tensors[interface].dtype is np.float32:
            arrays.append(float_inputs(graph.tensors[core_index], shape, rng))
        else:
            arrays.append(rng.integers(-128, 128, shape, dtype=np.int8))
    return ValidationInputs(arrays, np.full(count, "random"), np.full(count, -1))


def float_inputs(quantized: Tensor, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """float32 inputs of ``shape`` (N, ...) for a QUANTIZE to the int8 tensor ``quantized``: the first half
    uniform over 1.25 x its range (so saturation is exercised), the rest exactly halfway between two
    codes (where rounding half away from zero and half to even part)."""
    low, high = quantized.scale * (-128 - quantized.zero_point), quantized.scale * (127 - quantized.zero_point)
    half = shape[0] // 2
    spread = rng.uniform(1.25 * low, 1.25 * high, (half, *shape[1:]))
    midpoints = (rng.integers(-128, 127, (shape[0] - half, *shape[1:])) - quantized.zero_point + 0.5) * quantized.scale
    return np.concatenate([spread, midpoints]).astype(np.float32)


def data_inputs(folder: Path, graph: Graph, manifest: dict, limit: int, seed: int) -> ValidationInputs:
    """Up to ``limit`` windows of the dataset in ``folder`` (a seeded choice, in dataset order) as model inputs."""
    from synth.gan.generate import load_dataset  # pydantic and SciPy: only when --data is given

    tensor = _window_input(graph)
    arrays = load_dataset(Path(folder))
    window = tensor.shape[1]
    windows_g, labels = _crops(arrays["mg"] / MG_PER_G, arrays["y"], window, folder)
    model_labels = _label_indices(list(arrays["classes"]), manifest.get("labels"))[labels]
    chosen = np.sort(np.random.default_rng(seed).permutation(len(windows_g))[:limit])
    values = _to_model_units(windows_g[chosen], float(arrays["rate_hz"]), tensor, manifest)
    values = _interface_values(values.reshape((len(chosen), *tensor.shape)), graph)
    return ValidationInputs([values], np.full(len(chosen), "data"), model_labels[chosen])


def combine(first: ValidationInputs, second: ValidationInputs) -> ValidationInputs:
    """The rows of ``first`` followed by those of ``second``."""
    return ValidationInputs([np.concatenate(pair) for pair in zip(first.per_input, second.per_input)],
                            np.concatenate([first.origin, second.origin]), np.concatenate([first.labels, second.labels]))


def _window_input(graph: Graph) -> Tensor:
    """The model's one input if it is a window (1, T, 3) or (1, T, 3, 1); ConfigError otherwise."""
    shapes = [graph.tensors[i].shape for i in graph.inputs]
    if len(shapes) != 1 or shapes[0][:1] != (1,) or shapes[0][2:] not in ((3,), (3, 1)):
        raise ConfigError(f"--data takes models with one window input (1, T, 3) or (1, T, 3, 1); this model takes "
                          f"{', '.join(str(s) for s in shapes)} (validate it on random inputs only)")
    return graph.tensors[graph.inputs[0]]


def _crops(windows: np.ndarray, labels: np.ndarray, window: int, folder) -> tuple[np.ndarray, np.ndarray]:
    """(N, T, 3) windows -> (N * (T // window), window, 3) consecutive crops of the model's length, and their labels."""
    from synth.classify.classifiers import crop_windows

    if windows.shape[1] < window:
        raise ConfigError(f"{folder}: its windows have {windows.shape[1]} samples; the model takes {window} "
                          f"(generate windows of at least {window} samples)")
    crops = crop_windows(windows, window)
    return crops.reshape(-1, window, 3), np.repeat(labels, crops.shape[1])


def _label_indices(classes: list[str], model_labels) -> np.ndarray:
    """For each dataset class, the model's index of the same activity ("Jogging" is running, any case), or -1."""
    from synth.classify.classifiers import canonical_class

    names = [canonical_class(str(label)) for label in model_labels] if isinstance(model_labels, list) else []
    return np.array([names.index(canonical_class(c)) if canonical_class(c) in names else -1 for c in classes], np.int64)


def _to_model_units(windows_g: np.ndarray, rate_hz: float, tensor: Tensor, manifest: dict) -> np.ndarray:
    """Windows in g -> the model's input units as the manifest states them (synth export writes "g",
    "g / K ..." or "m/s^2 ..." for ST's preprocessing); without a manifest a (1, T, 3, 1) input is
    taken to be an ST model-zoo HAR classifier's and anything else to take g."""
    from synth.classify.classifiers import st_zoo_input

    described = (manifest.get("inputs") or [{}])[0]
    units = str(described.get("units", "")) if isinstance(described, dict) else ""
    divided = re.match(r"g / ([0-9.]+)", units)
    if units.startswith("m/s^2") or (not units and len(tensor.shape) == 4):
        return st_zoo_input(windows_g)
    if divided:
        return windows_g / float(divided.group(1))
    if units in ("", "g"):
        return windows_g
    raise ConfigError(f"the manifest's input units {units!r} are not ones --data windows can be turned into "
                      "(g, g / K, m/s^2 with ST's preprocessing); validate on random inputs only")


def _interface_values(values: np.ndarray, graph: Graph) -> np.ndarray:
    """Float values -> what the model's input takes: float32 as they are, or int8 codes of its quantisation."""
    tensor = graph.tensors[graph.inputs[0]]
    return values.astype(np.float32) if tensor.dtype is np.float32 else quantize(values, tensor)
