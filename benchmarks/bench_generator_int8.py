"""The on-device int8 generator against the float one, class by class, as ``synth evaluate`` would judge it.

Usage:
  .venv/bin/python benchmarks/bench_generator_int8.py [--generator synth/assets/generators/st_har_lsm6dsl_4g_finetuned] \
      [--n 600] [--seed 0]

For ``--n`` windows per class from the same noise, three sets are made: the float generator's, the
int8 core's as exported now (tflite-micro, the reference the standalone C equals bit for bit, then
the float32 window assembly of ``NAME_window_g``), and the int8 export of the whole generator in
one output scale (the former export) for comparison. All pass through the generator's sensor profile
(clip, quantise to int16 LSB). Printed per class: ST's BSD-3 classifier accuracy, the median
gravity-suppressed RMS and the within-window std of |a| (ratio to float), and the discriminative
score of each int8 set against the float set (both families of ``synth evaluate``, 5-fold
cross-validated; 0 = indistinguishable). Goals: accuracy within 2 points of float per class,
stationary RMS within 20 %. A few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from synth.classify.classifiers import StBsd3Classifier  # noqa: E402
from synth.core.profiles import load_profile  # noqa: E402
from synth.core.tflite_file import read_graph  # noqa: E402
from synth.core.transforms import apply_profile  # noqa: E402
from synth.core.windows import Windows  # noqa: E402
from synth.evaluate.evaluate_metrics import DISCRIMINATORS, Budget, discriminative_score  # noqa: E402
from synth.export import c_build  # noqa: E402
from synth.export.generator_window import assemble_windows, dequantize_float32  # noqa: E402
from synth.export.quantize import load_export_source, quantize_to_int8  # noqa: E402
from synth.export.verify import quantize  # noqa: E402
from synth.models.artifact import load_generator  # noqa: E402
from synth.realism.quality import window_statistics  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GENERATOR = ROOT / "synth/assets/generators/st_har_lsm6dsl_4g_finetuned"


def int8_outputs(model, calibration, inputs) -> tuple[np.ndarray, object]:
    """(int8 outputs (N, ...) of ``model`` quantised on ``calibration`` and run on tflite-micro, its output tensor)."""
    tflite = quantize_to_int8(model, calibration)
    graph = read_graph(tflite)
    codes = [quantize(x, graph.tensors[i]).reshape(len(x), *graph.tensors[i].shape) for x, i in zip(inputs, graph.inputs)]
    output = graph.tensors[graph.outputs[0]]
    return c_build.run_tflm(tflite, codes).reshape(len(inputs[0]), *output.shape[1:]), output


def on_the_sensor(windows_g: np.ndarray, profile) -> np.ndarray:
    """Windows (N, T, 3) g as the sensor profile reports them, in g (clip, quantise)."""
    return apply_profile(windows_g, profile)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", type=Path, default=DEFAULT_GENERATOR)
    parser.add_argument("--n", type=int, default=600, help="windows per class")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    generator, info = load_generator(args.generator)
    source = load_export_source("generator", args.generator, seed=args.seed)
    k = len(info.classes)
    classes = np.repeat(np.arange(k), args.n)
    noise = np.random.default_rng([args.seed, 1]).standard_normal((len(classes), info.noise_dim)).astype(np.float32)
    onehot = np.eye(k, dtype=np.float32)[classes]
    profile = load_profile(info.profile)

    core_q, core_out = int8_outputs(source.model, list(source.samples), [noise, onehot])
    whole_q, whole_out = int8_outputs(generator, list(source.samples), [noise, onehot])
    sets = {
        "float": generator.predict([noise, onehot], batch_size=4096, verbose=0),
        "int8 core + assembly": assemble_windows(dequantize_float32(core_q, core_out.scale, core_out.zero_point), classes,
                                                 source.metadata["generator"]),
        "int8 whole (one scale)": dequantize_float32(whole_q, whole_out.scale, whole_out.zero_point),
    }
    sets = {name: on_the_sensor(x, profile) for name, x in sets.items()}
    print(f"{args.generator}: {args.n} windows per class; int8 output step: core {core_out.scale:.4f} "
          f"(x class scale), whole generator {whole_out.scale * 1000:.1f} mg")
    st = StBsd3Classifier()
    for name, x in sets.items():
        predicted = st.predict(x, info.classes)
        stats = window_statistics(x, info.rate_hz)
        cells = []
        for c, label in enumerate(info.classes):
            here = classes == c
            cells.append(f"{label} acc {np.mean(predicted[here] == label):.3f} RMS {np.median(stats[here, 1]) * 1000:.1f} mg "
                         f"std|a| {np.median(stats[here, 0]) * 1000:.1f} mg")
        print(f"{name:24s} " + " | ".join(cells))
    float_windows = Windows(sets["float"], classes, tuple(info.classes), info.rate_hz, "g", _groups(classes, 10))
    budget = Budget(seed=args.seed)
    for name in ("int8 core + assembly", "int8 whole (one scale)"):
        other = Windows(sets[name], classes, tuple(info.classes), info.rate_hz, "g", _groups(classes, 10))
        for family, discriminator in DISCRIMINATORS.items():
            per_class = [discriminative_score(float_windows.subset(classes == c), other.subset(classes == c), budget, discriminator)["score"]
                         for c in range(k)]
            print(f"discriminative score vs float, {name}, {family}: " + " / ".join(f"{s:.3f}" for s in per_class))
    print(f"total {time.perf_counter() - start:.0f} s")


def _groups(classes: np.ndarray, per_class: int) -> np.ndarray:
    """Pseudo-recording names so the discriminators' folds split each class's windows into ``per_class`` groups."""
    index = np.zeros(len(classes), np.int64)
    for c in np.unique(classes):
        here = np.flatnonzero(classes == c)
        index[here] = np.arange(len(here)) % per_class
    return np.array([f"c{c}_{i}" for c, i in zip(classes, index)])


if __name__ == "__main__":
    main()
