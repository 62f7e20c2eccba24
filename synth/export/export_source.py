"""What every model ``synth export`` quantises comes as: an ExportSource, with the helpers that
build one (a seeded subset of calibration rows, the sensor-profile constants of a manifest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from synth.core.profiles import load_profile

DEFAULT_PROFILE = "lsm6dsl_4g"  # ST's HAR firmware setting: LSM6DSL, 26 Hz, +-4 g


@dataclass(frozen=True)
class ExportSource:
    """A float Keras model ready to quantise.

    kind: one of KINDS; model: keras.Model; samples: representative float32 inputs, one array
    (N, *input_shape) per model input, in model input order; metadata: manifest fields (labels,
    inputs / outputs with units, preprocessing, profile, source hash, config, seed);
    held_out: (inputs like ``samples``, labels (N,) int64 indices into metadata["labels"] or
    None) for verification, or None when there is no held-out real data.
    """

    kind: str
    model: object
    samples: tuple[np.ndarray, ...]
    metadata: dict
    held_out: Optional[tuple[tuple[np.ndarray, ...], Optional[np.ndarray]]] = field(default=None)


def pick_rows(x: np.ndarray, n: int, seed: int) -> np.ndarray:
    """At most ``n`` rows of ``x``, a seeded subset kept in order (calibration needs no more)."""
    if len(x) <= n:
        return x
    return x[np.sort(np.random.default_rng(seed).choice(len(x), n, replace=False))]


def profile_constants(name: str) -> dict:
    """Sensor-profile constants a firmware needs: full scale, sensitivity, data rate, register code."""
    p = load_profile(name)
    return {"name": p.name, "sensor": p.sensor, "board": p.board, "full_scale_g": p.full_scale_g,
            "register_full_scale_g": p.register_full_scale_g, "fs_xl_code": p.fs_xl_code,
            "sensitivity_mg_per_lsb": p.sensitivity_mg_per_lsb, "odr_hz": p.odr_hz,
            "output_dtype": p.output.dtype, "software_clip": p.software_clip}
