"""FedAvg: the weighted mean of named weights, what every federated model of synth averages."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def average_weights(models: Sequence[dict[str, np.ndarray]], weights: Sequence[float]) -> dict[str, np.ndarray]:
    """Weighted mean of named float32 arrays (every model has the same names and shapes)."""
    w = np.asarray(weights, np.float64)
    w = w / w.sum()
    return {name: np.tensordot(w, np.stack([m[name] for m in models]).astype(np.float64), axes=1).astype(np.float32)
            for name in models[0]}
