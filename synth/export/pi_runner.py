#!/usr/bin/env python3
"""Run an exported synth model on a Raspberry Pi (or any machine) with numpy and ai-edge-litert only.

Install: ``pip install numpy ai-edge-litert``. Reads manifest.json and model.tflite next to it.

  python3 run.py generate CLASS COUNT [--seed N] [--out windows.npz]
      generator bundles: COUNT windows (COUNT, T, 3) of CLASS in g and as profile LSB codes.
  python3 run.py classify WINDOWS [--out scores.csv]
      classifier bundles: WINDOWS is an .npz (array "x": (N, T, 3) or the model's input layout)
      or a CSV with one window per line (T x 3 values, x0,y0,z0,x1,...), already in the model's
      input units (see manifest.json "inputs" and "preprocessing"). Prints one label per window.
  python3 run.py reconstruct WINDOWS
      autoencoder bundles: reconstruction error (g^2) per window and accept / reject.
  python3 run.py flag ROWS
      anomaly detector bundles (synth anomaly): ROWS is an .npz (array "x") or a CSV of raw rows
      (features in training units, or flattened windows in g); prints the reconstruction error
      and normal / ANOMALOUS per row (scaled or clipped as the manifest's extra.anomaly says;
      window detectors judge by their fault rule, with window_features.py shipped beside run.py).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

HERE = Path(__file__).resolve().parent


def load(folder=HERE):
    """(manifest dict, allocated LiteRT interpreter) of a bundle folder."""
    manifest = json.loads((folder / "manifest.json").read_text())
    interpreter = Interpreter(model_path=str(folder / "model.tflite"), num_threads=1)
    interpreter.allocate_tensors()
    return manifest, interpreter


def quantize(x, tensor):
    """Float values -> int8 codes of a manifest tensor (scale, zero_point)."""
    q = np.round(np.asarray(x, np.float64) / tensor["scale"]) + tensor["zero_point"]
    return np.clip(q, -128, 127).astype(np.int8)


def dequantize(q, tensor):
    """int8 codes -> float32 values of a manifest tensor."""
    return ((np.asarray(q, np.float64) - tensor["zero_point"]) * tensor["scale"]).astype(np.float32)


def run(manifest, interpreter, inputs):
    """Float outputs (N, ...) for float inputs (one (N, ...) array per model input), one sample at a time."""
    details = interpreter.get_input_details()
    out_index = interpreter.get_output_details()[0]["index"]
    results = []
    for i in range(len(inputs[0])):
        for detail, tensor, x in zip(details, manifest["inputs"], inputs):
            interpreter.set_tensor(detail["index"], quantize(x[i : i + 1], tensor).reshape(tensor["shape"]))
        interpreter.invoke()
        results.append(interpreter.get_tensor(out_index)[0].copy())
    return dequantize(np.stack(results), manifest["outputs"][0])


def generate(manifest, interpreter, label, count, seed):
    """(windows (count, T, 3) g, codes (count, T, 3) int16 profile LSB) of class ``label``."""
    labels = manifest["labels"]
    if label not in labels:
        sys.exit(f"error: unknown class {label!r} (allowed: {', '.join(labels)})")
    noise_dim = manifest["inputs"][0]["shape"][-1]
    noise = np.random.default_rng(seed).standard_normal((count, noise_dim)).astype(np.float32)
    onehot = np.zeros((count, len(labels)), np.float32)
    onehot[:, labels.index(label)] = 1.0
    windows = assembled(run(manifest, interpreter, [noise, onehot]), labels.index(label), manifest["extra"]["generator"])
    profile = manifest["profile"]
    limit = profile["full_scale_g"]
    codes = np.round(np.clip(windows, -limit, limit) * 1000.0 / profile["sensitivity_mg_per_lsb"])
    return windows, np.clip(codes, -32768, 32767).astype(np.int16)


def assembled(rows, class_index, assembly):
    """The core's rows (N, 1 + T, 3): offset in offset_unit_g, motion in the class's scale -> windows (N, T, 3) g.

    The same float32 steps as synth.export.generator_window.assemble_windows (this file runs without synth).
    """
    rows = np.asarray(rows, np.float32)
    scale = np.asarray(assembly["class_scales_g"], np.float32)[class_index]
    return rows[:, :1, :] * np.float32(assembly["offset_unit_g"]) + scale * rows[:, 1:, :]


def read_windows(path, shape):
    """Windows from an .npz (array "x") or a CSV (one flattened window per line), reshaped to ``shape``[1:]."""
    path = Path(path)
    x = np.load(path)["x"] if path.suffix == ".npz" else np.loadtxt(path, delimiter=",", ndmin=2)
    return np.asarray(x, np.float32).reshape((-1, *shape[1:]))


def flag(manifest, interpreter, rows):
    """(errors (N,), flags (N,) bool) of raw rows: scaled (features) or clipped (windows), then the model."""
    anomaly = manifest["extra"]["anomaly"]
    if anomaly["input"] == "windows":
        x = np.clip(rows, -anomaly["full_scale_g"], anomaly["full_scale_g"]).astype(np.float32)
    else:
        low, high = (np.asarray(anomaly["scaling"][k], np.float64) for k in ("low", "high"))
        x = ((rows - low) / np.maximum(high - low, 1e-12)).astype(np.float32)
    errors = np.mean((run(manifest, interpreter, [x]).reshape(len(x), -1) - x.reshape(len(x), -1)) ** 2, axis=1)
    if anomaly.get("fault_rule") is None:
        return errors, errors > anomaly["threshold"]
    return errors, fault_rule_flags(anomaly["fault_rule"], x, errors, anomaly["full_scale_g"])


def fault_rule_flags(rule, x, errors, full_scale_g):
    """(N,) bool: windows with a fault statistic or the error above its motion level's threshold (or NaN)."""
    sys.path.insert(0, str(HERE))
    from window_features import FEATURES, motion_level, window_features  # shipped beside run.py (numpy only)

    if list(rule["statistics"]) != [*FEATURES, "reconstruction"]:
        sys.exit(f"error: this bundle's fault rule holds {len(rule['statistics'])} statistics, its window_features.py "
                 f"computes {len(FEATURES) + 1}: retrain the detector and export it again")
    values = np.concatenate([window_features(x, full_scale_g), np.asarray(errors, np.float32)[:, None]], axis=1)
    level = (motion_level(x)[:, None] >= np.asarray(rule["motion_edges_g"], np.float32)[None, :]).sum(axis=1)
    return ~(values <= np.asarray(rule["thresholds"], np.float32)[level]).all(axis=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate")
    gen.add_argument("label")
    gen.add_argument("count", type=int)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--out", default=None)
    for name in ("classify", "reconstruct", "flag"):
        commands.add_parser(name).add_argument("windows")
    args = parser.parse_args(argv)
    manifest, interpreter = load()
    wanted = {"generate": "generator", "classify": "classifier", "reconstruct": "autoencoder",
              "flag": "anomaly_detector"}[args.command]
    if manifest["kind"] != wanted:
        sys.exit(f"error: this bundle holds a model of kind {manifest['kind']}; '{args.command}' needs one of kind {wanted}")
    if args.command == "generate":
        windows, codes = generate(manifest, interpreter, args.label, args.count, args.seed)
        if args.out:
            np.savez(args.out, g=windows, lsb=codes)
        print(json.dumps({"windows": len(windows), "shape": list(windows.shape), "mean_g": [round(float(v), 3) for v in windows.mean(axis=(0, 1))]}))
    elif args.command == "classify":
        scores = run(manifest, interpreter, [read_windows(args.windows, manifest["inputs"][0]["shape"])])
        print("\n".join(manifest["labels"][i] for i in scores.argmax(axis=-1)))
    elif args.command == "flag":
        errors, flags = flag(manifest, interpreter, read_windows(args.windows, manifest["inputs"][0]["shape"]))
        print("\n".join(f"{e:.6g} {'ANOMALOUS' if f else 'normal'}" for e, f in zip(errors, flags)))
    else:
        x = read_windows(args.windows, manifest["inputs"][0]["shape"])
        errors = np.mean((run(manifest, interpreter, [x]) - x) ** 2, axis=(1, 2))
        threshold = manifest["extra"]["threshold_g2"]
        print("\n".join(f"{e:.6f} {'accept' if e <= threshold else 'reject'}" for e in errors))


if __name__ == "__main__":
    main()
