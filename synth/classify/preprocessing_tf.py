"""ST's "gravity rotation + suppression" in TensorFlow ops: differentiable, usable in a Keras model.

The same computation as synth.classify.preprocessing (the NumPy reference), step for step:

1. the 4th-order Butterworth high-pass (0.2 Hz at 26 Hz) runs as a causal recursion over time
   (transposed direct form II, the form scipy's ``lfilter`` uses), unrolled over the window's
   samples, its state started in the steady state of the first sample;
2. gravity = acc - dynamic, normalised per sample (a zero vector means -z: no rotation);
3. the dynamic part is rotated (Rodrigues) so that gravity points along -z; gravity along +z
   turns by 180 degrees about x.

Shapes: windows are (B, T, 3) float32 in m/s^2 (B windows, T samples, axes x, y, z). Norms are
taken as sqrt(max(sum of squares, eps^2)) so that gradients stay finite at zero vectors.

The whole computation runs in float64 and the result is cast back to the input's dtype: the
high-pass poles lie within 0.05 of the unit circle, and a float32 recursion drifts by up to
0.25 m/s^2 over 48 samples, while float64 matches the reference to 1e-6 (casts keep gradients).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from scipy import signal

from synth.classify.preprocessing import HIGHPASS_CUTOFF_HZ, RATE_HZ, highpass_coefficients

_EPS = 1e-12


def _safe_norm(v: tf.Tensor) -> tf.Tensor:
    """Euclidean norm over the last axis, keepdims; never 0, so its gradient is always finite."""
    return tf.sqrt(tf.maximum(tf.reduce_sum(tf.square(v), axis=-1, keepdims=True), _EPS**2))


def highpass_tf(x: tf.Tensor, rate_hz: float = RATE_HZ, cutoff_hz: float = HIGHPASS_CUTOFF_HZ) -> tf.Tensor:
    """High-passed windows: x (B, T, C) -> (B, T, C), same dtype and unit.

    The filter state starts as if the first sample had lasted forever (scipy's ``lfilter_zi``
    scaled by x[:, 0]), so a constant window gives zero from its first sample on.
    """
    b, a = highpass_coefficients(rate_hz, cutoff_hz)
    b, a = b / a[0], a / a[0]
    zi = signal.lfilter_zi(b, a)
    x = tf.convert_to_tensor(x)
    first = x[:, 0, :]
    state = [float(z) * first for z in zi]
    outputs = []
    for t in range(x.shape[1]):  # T is static (<= a few hundred samples): unrolled recursion
        sample = x[:, t, :]
        y = b[0] * sample + state[0]
        state = [b[i + 1] * sample + (state[i + 1] if i + 1 < len(state) else 0.0) - a[i + 1] * y
                 for i in range(len(state))]
        outputs.append(y)
    return tf.stack(outputs, axis=1)


def gravity_directions_tf(gravity: tf.Tensor) -> tf.Tensor:
    """Unit vectors (B, T, 3) of the gravity part; a zero vector maps to -z (nothing to rotate)."""
    norm = _safe_norm(gravity)
    minus_z = tf.constant([0.0, 0.0, -1.0], dtype=gravity.dtype)
    return tf.where(norm > _EPS, gravity / norm, minus_z)


def rotate_to_minus_z_tf(vectors: tf.Tensor, directions: tf.Tensor) -> tf.Tensor:
    """Rotate each vector (..., 3) by the rotation taking its unit ``directions`` onto -z.

    Rodrigues with axis k = z x d / |z x d|, cos = -d_z, sin = |z x d|; for d parallel to z the
    axis is x (identity for -z, a 180-degree turn for +z), as in the NumPy reference.
    """
    dx, dy, dz = tf.unstack(directions, axis=-1)
    cross = tf.stack([-dy, dx, tf.zeros_like(dx)], axis=-1)
    sin = _safe_norm(cross)
    cos = -dz[..., None]
    x_axis = tf.constant([1.0, 0.0, 0.0], dtype=vectors.dtype)
    axis = tf.where(sin > _EPS, cross / sin, x_axis)
    sin = tf.where(sin > _EPS, sin, tf.zeros_like(sin))  # the eps floor is only a gradient guard, not a real angle
    along = tf.reduce_sum(axis * vectors, axis=-1, keepdims=True)
    return vectors * cos + tf.linalg.cross(axis, vectors) * sin + axis * along * (1.0 - cos)


def gravity_rotation_suppression_tf(x_ms2: tf.Tensor, rate_hz: float = RATE_HZ) -> tf.Tensor:
    """ST's classifier input: x_ms2 (B, T, 3) m/s^2, gravity included -> (B, T, 3) m/s^2.

    The dynamic (high-passed) acceleration rotated sample by sample so that gravity is along -z.
    """
    x_ms2 = tf.convert_to_tensor(x_ms2)
    x64 = tf.cast(x_ms2, tf.float64)
    dynamic = highpass_tf(x64, rate_hz)
    rotated = rotate_to_minus_z_tf(dynamic, gravity_directions_tf(x64 - dynamic))
    return tf.cast(rotated, x_ms2.dtype)


@keras.saving.register_keras_serializable(package="synth")
class GravityRotationSuppression(keras.layers.Layer):
    """Keras layer: raw windows (B, T, 3, 1) m/s^2 -> ST's preprocessed (B, T, 3, 1) m/s^2.

    Takes and returns ST's model-zoo layout (a trailing channel axis) so that a model starting
    with this layer accepts exactly the raw windows an ST classifier is fed, before ST's own
    preprocessing.
    """

    def __init__(self, rate_hz: float = RATE_HZ, **kwargs):
        super().__init__(**kwargs)
        self.rate_hz = float(rate_hz)

    def call(self, inputs):
        return gravity_rotation_suppression_tf(inputs[..., 0], self.rate_hz)[..., None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rate_hz": self.rate_hz}

