"""Per-window statistics that sensor faults disturb and activities do not, and the motion level.

A reconstruction error alone cannot tell a faulty quiet window from a normal vigorous one: the
autoencoder reconstructs running worse than a stuck axis on a board lying still. These statistics
look at what a fault does to the signal, whatever the activity (d1, d2: first and second
differences along the window, per axis):

- ``flat_run``: the longest run of exactly equal consecutive values on an axis that changes at
  least MIN_CHANGES times elsewhere in the window, in samples. A working axis with noise above
  one LSB keeps changing; a stuck one stops (an axis quieter than its LSB is flat all along, and
  is not counted).
- ``rail_share``: the share of values at the full-scale rails (saturation, overload).
- ``low_magnitude``: minus the smallest |a| in the window, g (a dropout reads 0 g on all axes).
- ``magnitude_high`` / ``magnitude_low``: the mean |a|, g, and minus it (a wrong gain or
  sensitivity scales gravity; bias drift and dropouts move it).
- ``spike_ratio``: the largest |d2| on any axis over their median + SPIKE_FLOOR_G (no unit):
  one-sample glitches stand out against the window's own motion.
- ``hf_energy``: the mean d2^2, g^2 (noise bursts on a quiet board).
- ``roughness``: sum d2^2 over sum d1^2 (+ ROUGHNESS_FLOOR_G2), no unit: about 3 for white noise,
  far below 1 for body motion sampled at 26 Hz (noise bursts in motion).
- ``magnitude_trend``: the change of the least-squares line of |a| across the window, |g|: a bias
  drifting on one axis moves |a|, turning the board does not.
- ``magnitude_hf``: the mean squared second difference of |a|, g^2.
- ``flat_surprise``: how unlikely an axis's longest flat run is at the rate the axis changes outside
  it, in nats: L x log((m + 1) / (m - c + 1)), L the run (steps), m = T - 1 - L the steps outside it,
  c the changes there (minus the log of the chance of L steps without a change, add-one smoothed),
  largest over the axes. A stuck axis that changed at almost every step before sticking scores high
  even on a still board, where flat_run's fixed threshold must allow the long runs of a quiet axis;
  an axis near its LSB (few changes anywhere) scores low.
- ``flat_surprise_cross``: the same, nats, at the change rate of the other two axes (their
  2 x (T - 1) steps): an axis stuck for the whole window has no changes of its own to compare with,
  but its neighbours do.
- ``burst_contrast``: the mean d2^2 (summed over the axes) in the loudest block of T // 3
  consecutive samples of d2, over that of the rest of the window + BURST_FLOOR_G2 (no unit): a
  burst of noise is loud in part of the window only, a gait about as loud in every third of it, so
  this catches bursts in motion that hf_energy (which running's own d2 swamps) misses.
- ``spike_isolation``: the largest |d2| of one axis over the sum of the other two axes' largest |d2|
  at the same sample and its neighbours, + the median |d2| + SPIKE_FLOOR_G (no unit): an impact
  shakes every axis at once, a glitch one; spike_ratio alone cannot tell them apart in running.

The motion level is the median over the window of |d1 of |a||, g per sample, cut at MOTION_EDGES_G
(synth.anomaly.fault_rule). It is robust to spikes, to bursts shorter than half the window and to a
bias drift (which adds at most drift / (T - 1) to each difference), so a fault rarely moves a window to
another level; and the short impacts of running, which a median deviation of |a| ignores, still make
most differences large, so running is not judged by the thresholds of a quiet board.

Everything is computed in float32 in one fixed order (sums accumulate sample by sample, axes
x, y, z within a sample; medians of sorted values; logarithms read from the float32 table LOG), the
order the generated C uses, so that the device computes the same bits (``np.cumsum`` adds
sequentially). Windows: (N, T, 3) float32 in g, already clipped at the sensor's full scale;
3 <= T <= LOG_TABLE_SIZE // 2.
"""

from __future__ import annotations

import numpy as np

FEATURES = ("flat_run", "rail_share", "low_magnitude", "magnitude_high", "magnitude_low", "spike_ratio",
            "hf_energy", "roughness", "magnitude_trend", "magnitude_hf", "flat_surprise", "flat_surprise_cross",
            "burst_contrast", "spike_isolation")
MIN_CHANGES = 3  # an axis that changes fewer times in a window is below its LSB: its flat runs say nothing
SPIKE_FLOOR_G = np.float32(0.01)  # keeps spike_ratio and spike_isolation finite on a perfectly still window
ROUGHNESS_FLOOR_G2 = np.float32(1e-6)  # keeps roughness finite (and small) on a perfectly still window
BURST_FLOOR_G2 = np.float32(1e-3)  # keeps burst_contrast finite (and small) on a still window, g^2 per sample
LOG_TABLE_SIZE = 1024  # LOG[k - 1] = float32(log k) for k = 1 .. 1024: a C table, so both sides use the same bits
LOG = np.log(np.arange(1, LOG_TABLE_SIZE + 1, dtype=np.float64)).astype(np.float32)
MAX_SAMPLES = LOG_TABLE_SIZE // 2  # flat_surprise_cross reads LOG[2 x (T - 1)]


def window_features(x_g: np.ndarray, full_scale_g: float) -> np.ndarray:
    """(N, len(FEATURES)) float32 statistics of windows (N, T, 3) float32 g (see the module docstring)."""
    x = np.asarray(x_g, np.float32)
    if not 3 <= x.shape[1] <= MAX_SAMPLES:
        raise ValueError(f"fault statistics need windows of 3 to {MAX_SAMPLES} samples, not {x.shape[1]}")
    n = len(x)
    magnitude = _magnitude(x)
    first = x[:, 1:] - x[:, :-1]
    second = first[:, 1:] - first[:, :-1]
    magnitude_first = magnitude[:, 1:] - magnitude[:, :-1]
    magnitude_second = magnitude_first[:, 1:] - magnitude_first[:, :-1]
    spike_floor = median(np.abs(second).reshape(n, -1)) + SPIKE_FLOOR_G
    columns = [
        flat_run(x).astype(np.float32),
        _ordered_mean((np.abs(x) >= np.float32(full_scale_g)).astype(np.float32)),
        -magnitude.min(axis=1),
        _ordered_mean(magnitude),
        -_ordered_mean(magnitude),
        np.abs(second).max(axis=(1, 2)) / spike_floor,
        _ordered_mean(second * second),
        _ordered_sum(second * second) / (_ordered_sum(first * first) + ROUGHNESS_FLOOR_G2),
        trend_change(magnitude),
        _ordered_mean(magnitude_second * magnitude_second),
        *flat_surprise(x),
        burst_contrast(second),
        spike_isolation(second, spike_floor),
    ]
    return np.stack(columns, axis=1).astype(np.float32)


def motion_level(x_g: np.ndarray) -> np.ndarray:
    """(N,) float32 median over each window of ||a[t + 1]| - |a[t]||, g per sample."""
    magnitude = _magnitude(np.asarray(x_g, np.float32))
    return median(np.abs(magnitude[:, 1:] - magnitude[:, :-1]))


def median(values: np.ndarray) -> np.ndarray:
    """Median of each row (N, T) float32, as the C computes it: the middle of the sorted row, or
    0.5 x (sum of the two middle values) for even T."""
    ordered = np.sort(np.asarray(values, np.float32), axis=1)
    t = ordered.shape[1]
    if t % 2:
        return ordered[:, t // 2]
    return np.float32(0.5) * (ordered[:, t // 2 - 1] + ordered[:, t // 2])


def flat_runs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((N, 3), (N, 3)) int: per axis of windows (N, T, 3), the longest run of steps t -> t + 1 that repeat
    the value exactly, and the number of steps that change it (all outside that run)."""
    equal = x[:, 1:] == x[:, :-1]  # (N, T - 1, 3): sample t + 1 repeats sample t
    longest = np.zeros(equal.shape[::2], np.int64)
    run = np.zeros(equal.shape[::2], np.int64)
    for step in range(equal.shape[1]):
        run = np.where(equal[:, step], run + 1, 0)
        longest = np.maximum(longest, run)
    return longest, (~equal).sum(axis=1)


def flat_run(x: np.ndarray) -> np.ndarray:
    """(N,) int: the longest run of exactly equal consecutive samples (counting the first) on any axis of
    (N, T, 3) that changes at least MIN_CHANGES times in the window; 1 when no axis qualifies."""
    longest, changes = flat_runs(x)
    return np.where(changes >= MIN_CHANGES, longest, 0).max(axis=1) + 1


def flat_surprise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((N,), (N,)) float32 flat_surprise and flat_surprise_cross of windows (N, T, 3), nats (module docstring)."""
    longest, changes = flat_runs(x)
    steps = x.shape[1] - 1
    own = _surprise(longest, steps - longest, changes)
    cross = _surprise(longest, 2 * steps, changes.sum(axis=1, keepdims=True) - changes)
    return own.max(axis=1), cross.max(axis=1)


def _surprise(run: np.ndarray, steps: np.ndarray | int, changes: np.ndarray) -> np.ndarray:
    """float32 run x log((steps + 1) / (steps - changes + 1)) = run x (LOG[steps] - LOG[steps - changes])."""
    return run.astype(np.float32) * (LOG[steps] - LOG[steps - changes])


def burst_contrast(second: np.ndarray) -> np.ndarray:
    """(N,) float32 burst_contrast (module docstring) of second differences (N, M, 3), M >= 1; 0 when M < 2."""
    n, m = second.shape[:2]
    if m < 2:
        return np.zeros(n, np.float32)
    block = min((m + 2) // 3, m - 1)  # T // 3 (>= 1) samples of d2, leaving at least one outside
    energy = (second[..., 0] * second[..., 0] + second[..., 1] * second[..., 1]) + second[..., 2] * second[..., 2]
    running = np.cumsum(energy, axis=1, dtype=np.float32)  # running[t] = energy[0] + ... + energy[t]
    before = np.concatenate([np.zeros((n, 1), np.float32), running[:, :-1]], axis=1)  # running[t - 1], 0 at t = 0
    loudest = (running[:, block - 1:] - before[:, : m - block + 1]).max(axis=1)  # block t .. t + block - 1
    rest = running[:, -1] - loudest
    return (loudest / np.float32(block)) / (rest / np.float32(m - block) + BURST_FLOOR_G2)


def spike_isolation(second: np.ndarray, spike_floor: np.ndarray) -> np.ndarray:
    """(N,) float32 spike_isolation (module docstring) of second differences (N, M, 3), ``spike_floor`` (N,) the
    median |d2| + SPIKE_FLOOR_G."""
    size = np.abs(second)
    padded = np.pad(size, ((0, 0), (1, 1), (0, 0)))  # zeros beyond the ends
    nearby = np.maximum(np.maximum(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])  # (N, M, 3): t - 1 .. t + 1
    others = np.stack([nearby[..., 1] + nearby[..., 2], nearby[..., 0] + nearby[..., 2], nearby[..., 0] + nearby[..., 1]],
                      axis=2)  # the other two axes, the lower first
    return (size / (others + spike_floor[:, None, None])).max(axis=(1, 2))


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
