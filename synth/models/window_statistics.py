"""Per-window summary statistics and the distance between their distributions, for the generator.

A critic with a gradient penalty judges whole windows, and a small generator can satisfy it
while dropping rare modes (boards held upside down) and softening what is rare inside a window
(the impact peaks of a footstep). Those properties are few and physical, so the generator is
also asked to match their distribution directly: ``representation_statistics`` reduces each window to
the quantities an engineer would plot (and the spectrum an engineer would look at next), and ``sliced_wasserstein`` measures how far apart the
generated and the real distributions of them lie, class by class (Deshpande et al. 2018's
sliced Wasserstein distance: the mean over random directions of the 1-D optimal transport cost,
which is exact after sorting).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from synth.models.zoo import OFFSET_UNIT_G, SUMMARY_ROWS

LOG_FLOOR_G = 1e-3  # one mg: below this, spreads are sensor noise and their logs would dominate
CLASS_SEPARATION = 1e3  # added per class index to every projection (|projection| < 50), so sorting never pairs two classes
GRAVITY_ROW_WEIGHT = 0.25  # the gravity row is in 0.05 g units, 5x finer than the offsets: bring it to their scale
SPECTRAL_BANDS = 6  # equal bands of the spectrum per axis, DC excluded: as synth.evaluate.evaluate_metrics.window_features
BAND_FLOOR_G = 1e-4  # 0.1 mg, near one LSB at +-4 g: quiet bands keep their shape, empty ones a finite log
STATISTICS = (
    "offset x, y, z (quarter g)", "|offset| - 1 g (0.2 g units)", "log std of |a| (g)", "log RMS of the motion (g)",
    "log peak-to-peak of |a| (g)", "log motion std x, y, z (g)", "log RMS of the motion's sample-to-sample change (g)",
    *(f"log RMS of the motion in band {band} of {SPECTRAL_BANDS}, {axis} (g)" for axis in "xyz" for band in range(1, SPECTRAL_BANDS + 1)),
)


def representation_statistics(representation: tf.Tensor, scale_g: tf.Tensor) -> tf.Tensor:
    """The critic's representation (B, 2 + T, 3) and motion scales (B, 3) g -> statistics (B, 11 + 3 x SPECTRAL_BANDS).

    In order (see STATISTICS): the offset (orientation and gravity), the offset's length minus
    1 g, then logs (floored at LOG_FLOOR_G) of the within-window std of |a| (impacts), the RMS of
    the gravity-free motion's magnitude (energy), the peak-to-peak of |a|, the motion's std per
    axis, the RMS of its first difference (how much high-frequency content it has), and the
    motion's ``band_amplitudes`` (its spectral shape per axis).
    """
    offset_units = representation[:, 0, :]
    gravity_row = representation[:, 1, :1] * GRAVITY_ROW_WEIGHT
    motion_g = representation[:, SUMMARY_ROWS:, :] * scale_g[:, None, :]
    window_g = motion_g + offset_units[:, None, :] * OFFSET_UNIT_G
    magnitude = tf.sqrt(tf.reduce_sum(tf.square(window_g), axis=-1) + LOG_FLOOR_G**2)  # (B, T)
    motion_magnitude_sq = tf.reduce_sum(tf.square(motion_g), axis=-1)
    change = motion_g[:, 1:, :] - motion_g[:, :-1, :]

    def log_of(value_g):
        return tf.math.log(value_g + LOG_FLOOR_G)

    columns = [
        offset_units,
        gravity_row,
        log_of(tf.math.reduce_std(magnitude, axis=1))[:, None],
        log_of(tf.sqrt(tf.reduce_mean(motion_magnitude_sq, axis=1)))[:, None],
        log_of(tf.reduce_max(magnitude, axis=1) - tf.reduce_min(magnitude, axis=1))[:, None],
        log_of(tf.math.reduce_std(motion_g, axis=1)),
        log_of(tf.sqrt(tf.reduce_mean(tf.reduce_sum(tf.square(change), axis=-1), axis=1)))[:, None],
        band_amplitudes(motion_g),
    ]
    return tf.concat(columns, axis=1)


def band_amplitudes(motion_g: tf.Tensor) -> tf.Tensor:
    """Log RMS (g) of windows (B, T, 3) g in SPECTRAL_BANDS equal bands per axis -> (B, 3 x SPECTRAL_BANDS), axis-major.

    The band's power is that of scipy's Welch estimate over one Hann-windowed, mean-removed
    segment of the whole window, integrated over the band (PSD x bin width, so g^2 whatever the
    rate); the log of its square root is floored at BAND_FLOOR_G. The power is summed from the
    squared real and imaginary parts, whose gradient stays finite at a zero bin.
    """
    length = motion_g.shape[1]
    hann = tf.constant(np.hanning(length + 1)[:-1], tf.float32)  # periodic Hann, scipy's get_window("hann", T)
    centred = motion_g - tf.reduce_mean(motion_g, axis=1, keepdims=True)
    spectrum = tf.signal.rfft(tf.transpose(centred * hann[None, :, None], [0, 2, 1]))[..., 1:]  # (B, 3, T // 2)
    one_sided = np.full(spectrum.shape[-1], 2.0)
    if length % 2 == 0:
        one_sided[-1] = 1.0  # the Nyquist bin has no mirror image
    weight = tf.constant(one_sided / (length * float(np.sum(np.hanning(length + 1)[:-1] ** 2))), tf.float32)
    power = (tf.square(tf.math.real(spectrum)) + tf.square(tf.math.imag(spectrum))) * weight
    sizes = [len(part) for part in np.array_split(np.arange(spectrum.shape[-1]), SPECTRAL_BANDS)]
    bands = tf.stack([tf.reduce_sum(part, axis=-1) for part in tf.split(power, sizes, axis=-1)], axis=-1)  # (B, 3, bands)
    return tf.reshape(0.5 * tf.math.log(bands + BAND_FLOOR_G**2), (-1, 3 * SPECTRAL_BANDS))


def sliced_wasserstein(generated: tf.Tensor, real: tf.Tensor, label: tf.Tensor, directions: tf.Tensor) -> tf.Tensor:
    """Squared sliced Wasserstein-2 distance between two sets of statistics (B, D), class by class.

    ``label`` (B, K) one-hot is the class of row i on *both* sides (the generator was asked for
    the real batch's classes), so every class has as many generated as real rows; ``directions``
    (D, L) are the projection directions, unit length. A class's offset, far larger than any
    projection, keeps the sorted orders of different classes apart, so each class is matched
    only with itself. Returns a scalar: mean over directions and rows of the squared gap.
    """
    class_offset = tf.cast(tf.argmax(label, axis=-1), tf.float32)[:, None] * CLASS_SEPARATION
    generated_sorted = tf.sort(tf.matmul(generated, directions) + class_offset, axis=0)
    real_sorted = tf.sort(tf.matmul(real, directions) + class_offset, axis=0)
    return tf.reduce_mean(tf.square(generated_sorted - real_sorted))


def random_directions(count: int, dimensions: int, seed) -> tf.Tensor:
    """(dimensions, count) unit-length directions, uniform on the sphere, plus the coordinate axes."""
    drawn = keras.random.normal((dimensions, count), seed=seed)
    drawn = drawn / tf.norm(drawn, axis=0, keepdims=True)
    return tf.concat([tf.eye(dimensions), drawn], axis=1)
