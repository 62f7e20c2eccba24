"""The per-window statistics the generator is asked to match, and their class-by-class distance."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from scipy import signal  # noqa: E402

from synth.models.window_statistics import (  # noqa: E402
    BAND_FLOOR_G, SPECTRAL_BANDS, band_amplitudes, random_directions, representation_statistics, sliced_wasserstein,
)
from synth.models.zoo import OFFSET_UNIT_G, to_representation  # noqa: E402


def _windows(rng, n=12, length=24):
    """Windows (n, length, 3) g: gravity along a random axis plus motion of a random size."""
    gravity = np.zeros((n, 1, 3))
    gravity[np.arange(n), 0, rng.integers(0, 3, n)] = rng.choice([-1.0, 1.0], n)
    return gravity + rng.normal(0, 1, (n, length, 3)) * rng.uniform(0.005, 1.0, (n, 1, 1))


def test_statistics_are_what_their_names_say():
    rng = np.random.default_rng(0)
    x = _windows(rng)
    y = np.zeros(len(x), np.int64)
    scales = np.array([[0.3, 0.2, 0.1]])
    stats = representation_statistics(tf.constant(to_representation(x, y, scales)), tf.constant(scales[y], tf.float32)).numpy()
    magnitude = np.linalg.norm(x, axis=-1)
    motion = x - x.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(stats[:, :3], x.mean(axis=1) / OFFSET_UNIT_G, atol=1e-5)
    np.testing.assert_allclose(stats[:, 4], np.log(magnitude.std(axis=1) + 1e-3), atol=1e-3)
    np.testing.assert_allclose(stats[:, 6], np.log(np.ptp(magnitude, axis=1) + 1e-3), atol=1e-3)
    np.testing.assert_allclose(stats[:, 7:10], np.log(motion.std(axis=1) + 1e-3), atol=1e-3)
    assert stats.shape == (len(x), 11 + 3 * SPECTRAL_BANDS)
    assert np.all(np.isfinite(stats))


@pytest.mark.parametrize("length", [24, 48, 25])
def test_band_amplitudes_are_welchs_band_powers(length):
    """Each band's power is scipy's one-segment Welch PSD summed over the band times the bin width."""
    rng = np.random.default_rng(2)
    rate_hz = 26.0
    x = rng.normal(0, 1, (5, length, 3)) * np.array([0.002, 0.05, 0.5]) + 1.0
    _, psd = signal.welch(x, fs=rate_hz, nperseg=length, axis=1)
    bands = np.stack([band.sum(axis=1) for band in np.array_split(psd[:, 1:], SPECTRAL_BANDS, axis=1)], axis=1)
    expected = 0.5 * np.log(bands * rate_hz / length + BAND_FLOOR_G**2)  # (N, bands, 3)
    measured = band_amplitudes(tf.constant(x, tf.float32)).numpy().reshape(len(x), 3, SPECTRAL_BANDS)
    np.testing.assert_allclose(measured, expected.transpose(0, 2, 1), atol=2e-3)


def test_band_amplitudes_have_finite_gradients_on_a_still_window():
    still = tf.Variable(tf.ones((2, 24, 3)))
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(band_amplitudes(still))
    assert np.all(np.isfinite(tape.gradient(value, still).numpy()))


def test_same_distribution_in_another_order_is_at_distance_zero():
    rng = np.random.default_rng(1)
    stats = rng.normal(size=(30, 11)).astype(np.float32)
    label = np.eye(3, dtype=np.float32)[np.arange(30) % 3]
    order = rng.permutation(30)
    order = np.concatenate([order[label[order].argmax(1) == k] for k in range(3)])  # rows stay in their class
    same_class_order = np.argsort(label.argmax(1), kind="stable")
    directions = random_directions(16, 11, seed=0)
    distance = sliced_wasserstein(tf.constant(stats[same_class_order]), tf.constant(stats[order]),
                                  tf.constant(label[same_class_order]), directions)
    assert float(distance) == pytest.approx(0.0, abs=1e-6)


def test_classes_are_matched_only_with_themselves():
    """Two classes with swapped statistics are far apart, though the pooled sets are identical."""
    a, b = np.full((10, 11), -1.0, np.float32), np.full((10, 11), 1.0, np.float32)
    label = np.eye(2, dtype=np.float32)[np.repeat([0, 1], 10)]
    directions = random_directions(8, 11, seed=0)
    swapped = sliced_wasserstein(tf.constant(np.concatenate([a, b])), tf.constant(np.concatenate([b, a])),
                                 tf.constant(label), directions)
    assert float(swapped) > 1.0


def test_directions_are_unit_length_and_include_the_axes():
    directions = random_directions(5, 4, seed=3).numpy()
    assert directions.shape == (4, 9)
    np.testing.assert_allclose(np.linalg.norm(directions, axis=0), 1.0, atol=1e-6)
    np.testing.assert_array_equal(directions[:, :4], np.eye(4))
