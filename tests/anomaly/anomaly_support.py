"""Test support for synth.anomaly: a small telemetry CSV whose normal rows lie near a plane and
whose anomalies do not, and tiny configs that train in a second."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FEATURES = [f"s{i}" for i in range(6)]


def telemetry_csv(path: Path, normal: int = 600, anomalies: int = 60, seed: int = 0, width: int = 6) -> Path:
    """A CSV of ``width`` sensor columns and a 0/1 ``label`` column; returns its path."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(2, width))
    normal_x = rng.normal(size=(normal, 2)) @ basis + 0.05 * rng.normal(size=(normal, width)) + 10.0
    odd_x = rng.normal(size=(anomalies, width)) * 3.0 + 10.0
    x = np.concatenate([normal_x, odd_x])
    labels = np.r_[np.zeros(normal, int), np.ones(anomalies, int)]
    order = rng.permutation(len(x))
    lines = [",".join([*[f"s{i}" for i in range(width)], "label"])]
    lines += [",".join([*(f"{v:.6f}" for v in x[i]), str(labels[i])]) for i in order]
    path.write_text("\n".join(lines) + "\n")
    return path


def tiny_anomaly_config(csv_path: Path, run_dir: Path, **anomaly) -> dict:
    """A raw config: dense AE on the telemetry CSV, a few epochs, 3 nodes, 2 rounds."""
    settings = {"source": "csv", "path": str(csv_path), "label_column": "label", "hidden": [5, 4, 2], "epochs": 8,
                "batch_size": 32, "learning_rate": 0.01, "nodes": 3, "rounds": 2, "local_epochs": 2,
                "min_nodes": 2, "round_timeout_s": 600.0, "run_dir": str(run_dir), **anomaly}
    return {"seed": 4, "anomaly": settings}
