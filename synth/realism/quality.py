"""Per-class quality metrics of generated windows against real ones, as plain JSON-able dicts.

Inputs are windows x_g (N, T, 3) in g (gravity included) with class indices y (N,), real and
generated alike, with the same T and rate. Per class:

- ``median_dynamic_ms2``: median over samples of the gravity-suppressed magnitude (m/s^2), the
  size of the motion itself, insensitive to how the device is held;
- ``mean_g``, ``std_g``: mean and standard deviation per axis over every sample (g);
- ``window_std_g``: mean over windows of each window's standard deviation per axis (g), the
  within-window motion per axis;
- ``clip_fraction``: fraction of sample values within 0.1 % of full scale (the int16
  saturation code of +-4 g is 3.9976 g, inside that band);
- ``dominant_hz``: peak of the mean Welch spectrum summed over axes (the step or swing rate);
- ``psd_distance_db`` (comparison only): per-axis RMS log-spectral distance in dB between the
  real and generated mean Welch spectra, DC excluded.

``orientation_coverage`` gives the share of windows whose gravity lies mainly along each of +-x,
+-y and +-z; ``window_statistics`` three numbers per window (std and peak of |a|, RMS of the
gravity-suppressed motion); ``classifier_report`` a classifier's per-class recall on each set of windows.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy import signal

from synth.classify.classifiers import canonical_class
from synth.classify.preprocessing import gravity_suppressed_magnitude
from synth.core.transforms import STANDARD_GRAVITY

CLIP_TOLERANCE = 1e-3  # relative: values within 0.1 % of full scale count as clipped
_FLOOR = 1e-20  # keeps the log of an exactly flat spectrum finite


def welch_psd(values: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies (F,) Hz, mean PSD over windows (F, ...)) of values (N, T, ...) along time.

    One Welch segment per window (nperseg = T), Hann window, each window's mean removed.
    """
    freqs, psd = signal.welch(values, fs=rate_hz, nperseg=values.shape[1], axis=1)
    return freqs, np.moveaxis(psd, 1, 0).mean(axis=1)


def log_spectral_distance_db(psd_a: np.ndarray, psd_b: np.ndarray) -> np.ndarray:
    """RMS over frequency of 10 log10(a / b), DC bin excluded: psd (F, C) -> (C,) dB."""
    ratio = np.log10(np.maximum(psd_a[1:], _FLOOR) / np.maximum(psd_b[1:], _FLOOR))
    return np.sqrt(np.mean((10.0 * ratio) ** 2, axis=0))


def dominant_frequency_hz(x_g: np.ndarray, rate_hz: float) -> float:
    """Peak frequency (Hz, DC excluded) of the mean spectrum of x_g (N, T, 3), summed over axes.

    The sum of the axis spectra does not depend on how the device is turned, and unlike the
    spectrum of the magnitude it does not double the frequency of a swing about zero.
    """
    freqs, psd = welch_psd(x_g, rate_hz)
    total = psd.sum(axis=-1)
    return float(freqs[1 + np.argmax(total[1:])])


def clip_fraction(x_g: np.ndarray, full_scale_g: float) -> float:
    """Fraction of sample values (all axes) within CLIP_TOLERANCE of +-full_scale_g."""
    return float(np.mean(np.abs(x_g) >= full_scale_g * (1.0 - CLIP_TOLERANCE)))


def window_metrics(x_g: np.ndarray, rate_hz: float, full_scale_g: float) -> dict:
    """The metrics of the module docstring for one set of windows x_g (N, T, 3) in g (N >= 1)."""
    x_g = np.asarray(x_g, dtype=np.float64)
    return {
        "windows": int(len(x_g)),
        "median_dynamic_ms2": float(np.median(gravity_suppressed_magnitude(x_g * STANDARD_GRAVITY, rate_hz))),
        "mean_g": x_g.mean(axis=(0, 1)).tolist(),
        "std_g": x_g.std(axis=(0, 1)).tolist(),
        "window_std_g": x_g.std(axis=1).mean(axis=0).tolist(),
        "clip_fraction": clip_fraction(x_g, full_scale_g),
        "dominant_hz": dominant_frequency_hz(x_g, rate_hz),
    }


AXIS_DIRECTIONS = ("+x", "-x", "+y", "-y", "+z", "-z")


def orientation_coverage(x_g: np.ndarray) -> dict:
    """{direction: share of windows} for windows x_g (N, T, 3) in g (N >= 1).

    A window's gravity direction is the axis with the largest absolute mean and that mean's
    sign: where a board lies face up (+z), on its side or upside down (-z). The six shares sum to 1.
    """
    mean = np.asarray(x_g, np.float64).mean(axis=1)
    axis = np.abs(mean).argmax(axis=1)
    negative = mean[np.arange(len(mean)), axis] < 0
    counts = np.bincount(2 * axis + negative, minlength=6)
    return {name: float(c / max(len(mean), 1)) for name, c in zip(AXIS_DIRECTIONS, counts)}


WINDOW_STATISTICS = ("std_magnitude_g", "motion_rms_g", "peak_magnitude_g")


def window_statistics(x_g: np.ndarray, rate_hz: float) -> np.ndarray:
    """Per-window statistics (N, 3) in g of windows x_g (N, T, 3) g, columns as WINDOW_STATISTICS:

    the standard deviation over time of |a| (impacts, swings), the RMS over time of the
    gravity-suppressed magnitude (``gravity_suppressed_magnitude``: ST's high-pass applied to
    each window on its own, so a per-window figure) and the peak of |a|.
    """
    x_g = np.asarray(x_g, dtype=np.float64)
    magnitude = np.linalg.norm(x_g, axis=-1)  # (N, T)
    motion = gravity_suppressed_magnitude(x_g, rate_hz)  # linear in its input, so in g
    return np.stack([magnitude.std(axis=1), np.sqrt(np.mean(motion**2, axis=1)), magnitude.max(axis=1)], axis=1)


def compare_class(real_g: np.ndarray, generated_g: np.ndarray, rate_hz: float, full_scale_g: float) -> dict:
    """{"real": metrics, "generated": metrics, "psd_distance_db": [x, y, z]} for one class."""
    _, psd_real = welch_psd(np.asarray(real_g, dtype=np.float64), rate_hz)
    _, psd_gen = welch_psd(np.asarray(generated_g, dtype=np.float64), rate_hz)
    return {
        "real": window_metrics(real_g, rate_hz, full_scale_g),
        "generated": window_metrics(generated_g, rate_hz, full_scale_g),
        "psd_distance_db": log_spectral_distance_db(psd_gen, psd_real).tolist(),
    }


def compare_per_class(
    real: tuple[np.ndarray, np.ndarray],
    generated: tuple[np.ndarray, np.ndarray],
    class_names: Sequence[str],
    rate_hz: float = 26.0,
    full_scale_g: float = 4.0,
) -> dict:
    """{class name: compare_class(...)} for every class with windows on both sides.

    real, generated: (x_g (N, T, 3) g, y (N,) indices into ``class_names``).
    """
    report = {}
    for index, name in enumerate(class_names):
        real_x, gen_x = real[0][real[1] == index], generated[0][generated[1] == index]
        if len(real_x) and len(gen_x):
            report[name] = compare_class(real_x, gen_x, rate_hz, full_scale_g)
    return report


def correct(predicted: np.ndarray, y: np.ndarray, class_names: Sequence[str]) -> np.ndarray:
    """Boolean (N,): predicted names (N,) match the true classes ``class_names[y]``.

    Names are compared by canonical activity, so "Jogging" predicted for "running" is right.
    """
    truth = np.asarray([canonical_class(n) for n in class_names], dtype=object)[np.asarray(y, dtype=np.int64)]
    return np.asarray([canonical_class(str(p)) for p in predicted], dtype=object) == truth


def recall_per_class(predicted: np.ndarray, y: np.ndarray, class_names: Sequence[str]) -> dict:
    """{class: {"windows", "accuracy" (recall), "predicted": {name: count}}} for every class with windows."""
    hits = correct(predicted, y, class_names)
    report = {}
    for index, name in enumerate(class_names):
        mask = y == index
        if mask.any():
            names, counts = np.unique(np.asarray(predicted[mask], dtype=str), return_counts=True)
            report[name] = {
                "windows": int(mask.sum()),
                "accuracy": float(hits[mask].mean()),
                "predicted": {str(n): int(c) for n, c in zip(names, counts)},
            }
    return report


def classifier_report(
    classifier, windows_g: Mapping[str, tuple[np.ndarray, np.ndarray]], class_names: Sequence[str]
) -> dict:
    """Per-class accuracy (recall) of ``classifier`` on each named set of windows.

    windows_g: {set name (e.g. "real", "generated"): (x_g (N, T, 3) g, y (N,) indices into
    ``class_names``)}. Returns {"classifier": name, set name: {"overall": accuracy over all
    windows (None when there are none), "per_class": recall_per_class(...)}}.
    """
    report: dict = {"classifier": classifier.name}
    for set_name, (x_g, y) in windows_g.items():
        y = np.asarray(y, dtype=np.int64)
        predicted = classifier.predict(x_g, class_names)
        hits = correct(predicted, y, class_names)
        report[set_name] = {
            "overall": float(hits.mean()) if len(hits) else None,
            "per_class": recall_per_class(predicted, y, class_names),
        }
    return report
