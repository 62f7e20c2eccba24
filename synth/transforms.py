"""Pure signal transforms on arrays of accelerometer samples.

Every function takes and returns NumPy arrays and never changes its input. Shapes: a recording
is (S, C) (S samples, C axes); a batch of windows is (N, T, C). The time axis is always the
second-to-last one.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import signal

STANDARD_GRAVITY = 9.80665  # m/s^2 per g


def resample(samples: np.ndarray, from_hz: float, to_hz: float, max_denominator: int = 1000) -> np.ndarray:
    """Resample along the time axis with a polyphase anti-aliasing FIR (scipy.signal.resample_poly).

    samples: (..., S, C) float; returns (..., S * to_hz / from_hz, C) float64. The rate ratio is
    approximated by a fraction with a denominator of at most ``max_denominator`` (100 Hz -> 26 Hz
    is exactly 13/50). A Kaiser-windowed low-pass at the lower Nyquist rate removes aliasing.
    """
    if from_hz <= 0 or to_hz <= 0:
        raise ValueError(f"rates must be positive, got {from_hz} and {to_hz}")
    ratio = Fraction(to_hz / from_hz).limit_denominator(max_denominator)
    if ratio == 1:
        return np.asarray(samples, dtype=np.float64).copy()
    return signal.resample_poly(samples, ratio.numerator, ratio.denominator, axis=-2)


def ms2_to_g(values: np.ndarray) -> np.ndarray:
    """Convert m/s^2 to g (1 g = 9.80665 m/s^2)."""
    return np.asarray(values) / STANDARD_GRAVITY


def g_to_ms2(values: np.ndarray) -> np.ndarray:
    """Convert g to m/s^2 (1 g = 9.80665 m/s^2)."""
    return np.asarray(values) * STANDARD_GRAVITY


def g_to_mg(values: np.ndarray) -> np.ndarray:
    """Convert g to mg."""
    return np.asarray(values) * 1000.0


def mg_to_g(values: np.ndarray) -> np.ndarray:
    """Convert mg to g."""
    return np.asarray(values) / 1000.0
