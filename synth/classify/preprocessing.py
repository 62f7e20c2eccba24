"""ST's "gravity rotation + suppression" preprocessing of accelerometer windows (NumPy).

ST's HAR model zoo feeds its classifiers the *dynamic* acceleration of each window, expressed
in a frame where gravity points along -z, in m/s^2. Steps, each window on its own:

1. a 4th-order Butterworth IIR high-pass (0.2 Hz at 26 Hz; ST writes ``butter(4, 0.4 / 26)``,
   whose normalised frequency is relative to Nyquist, i.e. 0.2 Hz) filters every axis along
   time, started in the steady state of the window's first sample so that a constant window
   gives a zero dynamic part (ST initialises the filter the same way);
2. gravity = acc - dynamic (the low-frequency part), normalised to a unit vector per sample;
3. the dynamic part of every sample is rotated (Rodrigues' formula) by the rotation that takes
   that sample's gravity direction onto -z.

Shapes: windows are (N, T, 3) (N windows, T samples, axes x, y, z), in m/s^2 unless a name
says otherwise. Everything here is pure: inputs are never modified.

Two edge cases are handled explicitly where ST's code lets NaN or a reflection through: a
window whose low-frequency part is exactly zero keeps its frame (no rotation), and gravity
exactly along +z turns by 180 degrees about x (a proper rotation).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

RATE_HZ = 26.0
HIGHPASS_ORDER = 4
HIGHPASS_CUTOFF_HZ = 0.2
ST_G_TO_MS2 = 9.8  # ST's model zoo converts g with 9.8, not 9.80665: the classifiers saw that scale
_EPS = 1e-12


def highpass_coefficients(rate_hz: float = RATE_HZ, cutoff_hz: float = HIGHPASS_CUTOFF_HZ) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of the 4th-order Butterworth high-pass ST uses (cut-off in Hz at ``rate_hz``)."""
    b, a = signal.butter(HIGHPASS_ORDER, cutoff_hz, btype="highpass", fs=rate_hz)
    return b, a


def highpass(x: np.ndarray, rate_hz: float = RATE_HZ, cutoff_hz: float = HIGHPASS_CUTOFF_HZ) -> np.ndarray:
    """High-passed windows: x (N, T, 3) any unit -> (N, T, 3) float64 in the same unit.

    Each window is filtered along time on its own, the filter state starting as if the first
    sample had lasted forever (so DC is removed from the first sample on, without a transient).
    """
    x = np.asarray(x, dtype=np.float64)
    b, a = highpass_coefficients(rate_hz, cutoff_hz)
    zi = signal.lfilter_zi(b, a)[None, :, None] * x[:, :1, :]  # (N, order, 3)
    dynamic, _ = signal.lfilter(b, a, x, axis=1, zi=zi)
    return dynamic


def split_gravity(x_ms2: np.ndarray, rate_hz: float = RATE_HZ) -> tuple[np.ndarray, np.ndarray]:
    """(dynamic, gravity), both (N, T, 3) float64 m/s^2: the high-passed part and acc - dynamic."""
    dynamic = highpass(x_ms2, rate_hz)
    return dynamic, np.asarray(x_ms2, dtype=np.float64) - dynamic


def gravity_directions(gravity: np.ndarray) -> np.ndarray:
    """Unit vectors (N, T, 3) of the gravity part; a zero vector maps to -z (nothing to rotate)."""
    norm = np.linalg.norm(gravity, axis=-1, keepdims=True)
    safe = np.where(norm > _EPS, gravity / np.maximum(norm, _EPS), 0.0)
    safe[..., 2] = np.where(norm[..., 0] > _EPS, safe[..., 2], -1.0)
    return safe


def rotate_to_minus_z(vectors: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Rotate each vector (..., 3) by the rotation taking its unit ``directions`` (..., 3) onto -z.

    Rodrigues' formula with axis k = z x d / |z x d|, cos = -d_z, sin = |z x d| (ST's construction).
    When d is parallel to z the axis is undefined: x is used, which gives the identity for d = -z
    and a 180-degree turn for d = +z.
    """
    cross = np.stack([-directions[..., 1], directions[..., 0], np.zeros_like(directions[..., 0])], axis=-1)
    sin = np.linalg.norm(cross, axis=-1, keepdims=True)
    cos = -directions[..., 2:3]
    axis = np.where(sin > _EPS, cross / np.maximum(sin, _EPS), np.array([1.0, 0.0, 0.0]))
    along = np.sum(axis * vectors, axis=-1, keepdims=True)
    return vectors * cos + np.cross(axis, vectors) * sin + axis * along * (1.0 - cos)


def gravity_rotation_suppression(x_ms2: np.ndarray, rate_hz: float = RATE_HZ) -> np.ndarray:
    """ST's classifier input: x_ms2 (N, T, 3) m/s^2, gravity included -> (N, T, 3) float64 m/s^2.

    The dynamic (high-passed) acceleration, rotated sample by sample so that gravity is along -z.
    """
    dynamic, gravity = split_gravity(x_ms2, rate_hz)
    return rotate_to_minus_z(dynamic, gravity_directions(gravity))


def gravity_suppressed_magnitude(x_ms2: np.ndarray, rate_hz: float = RATE_HZ) -> np.ndarray:
    """Norm of the dynamic (high-passed) acceleration: x_ms2 (N, T, 3) m/s^2 -> (N, T) m/s^2.

    A rotation keeps norms, so this is also the norm of ``gravity_rotation_suppression``.
    """
    return np.linalg.norm(highpass(x_ms2, rate_hz), axis=-1)
