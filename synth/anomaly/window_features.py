"""Per-window statistics that sensor faults disturb and activities do not, and the motion level.

A reconstruction error alone cannot tell a faulty quiet window from a normal vigorous one: the
autoencoder reconstructs running worse than a stuck axis on a board lying still. These statistics
look at what a fault does to the signal, whatever the activity:

- ``flat_run``: the longest run of exactly equal consecutive values on an axis that changes at
  least MIN_CHANGES times elsewhere in the window, in samples. A working axis with noise above
  one LSB keeps changing; a stuck one stops (an axis quieter than its LSB is flat all along, and
  is not counted).
- ``rail_share``: the share of values at the full-scale rails (saturation, overload).
- ``low_magnitude``: minus the smallest |a| in the window, g (a dropout reads 0 g on all axes).
- ``magnitude_high`` / ``magnitude_low``: the mean |a|, g, and minus it (a wrong gain or
  sensitivity scales gravity; bias drift and dropouts move it).
- ``spike_ratio``: the largest |second difference| on any axis over their median + SPIKE_FLOOR_G:
  one-sample glitches stand out against the window's own motion.
- ``hf_energy``: the mean squared second difference, g^2 (noise bursts on a quiet board).
- ``roughness``: squared second differences over squared first differences (+ ROUGHNESS_FLOOR_G2):
  about 3 for white noise, far below 1 for body motion sampled at 26 Hz (noise bursts in motion).
- ``magnitude_trend``: the change of the least-squares line of |a| across the window, |g|: a bias
  drifting on one axis moves |a|, turning the board does not.
- ``magnitude_hf``: the mean squared second difference of |a|, g^2.

The motion level is the median absolute deviation of |a| from its median, g: robust to spikes and
to bursts shorter than half the window, so a fault rarely moves a window to another level.

Everything is computed in float32 in one fixed order (sums accumulate sample by sample, axes
x, y, z within a sample; medians of sorted values), the order the generated C uses, so that the
device computes the same bits (``np.cumsum`` adds sequentially). Windows: (N, T, 3) float32 in g,
already clipped at the sensor's full scale; T >= 3.
"""

from __future__ import annotations

import numpy as np

FEATURES = ("flat_run", "rail_share", "low_magnitude", "magnitude_high", "magnitude_low", "spike_ratio",
            "hf_energy", "roughness", "magnitude_trend", "magnitude_hf")
MIN_CHANGES = 3  # an axis that changes fewer times in a window is below its LSB: its flat runs say nothing
SPIKE_FLOOR_G = np.float32(0.01)  # keeps spike_ratio finite on a perfectly still window
ROUGHNESS_FLOOR_G2 = np.float32(1e-6)  # keeps roughness finite (and small) on a perfectly still window


def window_features(x_g: np.ndarray, full_scale_g: float) -> np.ndarray:
    """(N, len(FEATURES)) float32 statistics of windows (N, T, 3) float32 g (see the module docstring)."""
    x = np.asarray(x_g, np.float32)
    n = len(x)
    magnitude = _magnitude(x)
    first = x[:, 1:] - x[:, :-1]
    second = first[:, 1:] - first[:, :-1]
    magnitude_first = magnitude[:, 1:] - magnitude[:, :-1]
    magnitude_second = magnitude_first[:, 1:] - magnitude_first[:, :-1]
    largest_second = np.abs(second).max(axis=(1, 2))
    columns = [
        flat_run(x).astype(np.float32),
        _ordered_mean((np.abs(x) >= np.float32(full_scale_g)).astype(np.float32)),
        -magnitude.min(axis=1),
        _ordered_mean(magnitude),
        -_ordered_mean(magnitude),
        largest_second / (median(np.abs(second).reshape(n, -1)) + SPIKE_FLOOR_G),
        _ordered_mean(second * second),
        _ordered_sum(second * second) / (_ordered_sum(first * first) + ROUGHNESS_FLOOR_G2),
        trend_change(magnitude),
        _ordered_mean(magnitude_second * magnitude_second),
    ]
    return np.stack(columns, axis=1).astype(np.float32)


def motion_level(x_g: np.ndarray) -> np.ndarray:
    """(N,) float32 median absolute deviation of |a| from its median over each window, g."""
    magnitude = _magnitude(np.asarray(x_g, np.float32))
    return median(np.abs(magnitude - median(magnitude)[:, None]))


def median(values: np.ndarray) -> np.ndarray:
    """Median of each row (N, T) float32, as the C computes it: the middle of the sorted row, or
    0.5 x (sum of the two middle values) for even T."""
    ordered = np.sort(np.asarray(values, np.float32), axis=1)
    t = ordered.shape[1]
    if t % 2:
        return ordered[:, t // 2]
    return np.float32(0.5) * (ordered[:, t // 2 - 1] + ordered[:, t // 2])


def flat_run(x: np.ndarray) -> np.ndarray:
    """(N,) int: the longest run of exactly equal consecutive samples (counting the first) on any axis of
    (N, T, 3) that changes at least MIN_CHANGES times in the window; 1 when no axis qualifies."""
    equal = x[:, 1:] == x[:, :-1]  # (N, T - 1, 3): sample t + 1 repeats sample t
    longest = np.zeros(equal.shape[::2], np.int64)  # (N, 3) per axis
    run = np.zeros(equal.shape[::2], np.int64)
    for step in range(equal.shape[1]):
        run = np.where(equal[:, step], run + 1, 0)
        longest = np.maximum(longest, run)
    changing = (~equal).sum(axis=1) >= MIN_CHANGES
    return np.where(changing, longest, 0).max(axis=1) + 1


def trend_change(values: np.ndarray) -> np.ndarray:
    """(N,) float32 |sum_t w_t v_t / sum_t w_t^2| x (T - 1), w_t = t - (T - 1) / 2: how much the
    least-squares line of each row (N, T) changes across it."""
    t = values.shape[1]
    weights = np.arange(t, dtype=np.float32) - np.float32((t - 1) / 2)
    slope = np.cumsum(values * weights[None, :], axis=1, dtype=np.float32)[:, -1] / np.cumsum(weights * weights, dtype=np.float32)[-1]
    return np.abs(slope) * np.float32(t - 1)


def _magnitude(x: np.ndarray) -> np.ndarray:
    """(N, T) float32 |a| = sqrt((x^2 + y^2) + z^2)."""
    return np.sqrt((x[..., 0] * x[..., 0] + x[..., 1] * x[..., 1]) + x[..., 2] * x[..., 2])


def _ordered_sum(values: np.ndarray) -> np.ndarray:
    """(N,) float32 sum of each row's values taken sample by sample (axes in order within a sample)."""
    flat = values.reshape(len(values), -1)
    return np.cumsum(flat, axis=1, dtype=np.float32)[:, -1]


def _ordered_mean(values: np.ndarray) -> np.ndarray:
    """(N,) float32 ordered sum divided by the count of values per row."""
    return _ordered_sum(values) / np.float32(values[0].size)
