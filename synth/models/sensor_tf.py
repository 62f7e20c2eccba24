"""A sensor profile as differentiable TensorFlow ops, for training through the sensor's output.

``sensor_output_tf`` is synth.core.transforms.apply_profile without noise or offset: mounting
rotation, saturation at the full scale and quantisation to the output register's codes, on
windows (B, T, 3) in g. The forward pass gives exactly the values the NumPy transform gives;
the backward pass must still tell the generator which way to move:

- the clip is tf.clip_by_value: gradient 1 inside the range, 0 on saturated samples (the sensor
  reports full scale whatever lies beyond it, so there is nothing to learn there);
- rounding to codes uses a straight-through estimator: the forward value is the quantised one,
  the gradient is that of the identity (the rounding error is at most half an LSB, far below
  anything the critic or a classifier could care about, while the true gradient is zero
  almost everywhere).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from synth.core.profiles import SensorProfile, code_range


def quantise_straight_through(x_g: tf.Tensor, lsb_g: float) -> tf.Tensor:
    """x rounded to multiples of ``lsb_g`` (ties to even, as np.rint) with the identity's gradient."""
    quantised = tf.round(x_g / lsb_g) * lsb_g
    return x_g + tf.stop_gradient(quantised - x_g)


def sensor_output_tf(x_g: tf.Tensor, profile: SensorProfile) -> tf.Tensor:
    """Body-frame windows (B, T, 3) in g -> what the profile's sensor outputs, in g (B, T, 3) float32."""
    x_g = tf.convert_to_tensor(x_g, tf.float32)
    mounting = np.asarray(profile.mounting_matrix, np.float32)
    if not np.array_equal(mounting, np.eye(3)):
        x_g = tf.einsum("btj,ij->bti", x_g, mounting)  # v' = M v for every sample
    lsb_g = profile.sensitivity_mg_per_lsb / 1000.0
    low, high = code_range(profile.sensitivity_mg_per_lsb, profile.full_scale_g)
    # clipping at the saturation codes clips at the full scale (up to a code) and at int16's ends
    x_g = tf.clip_by_value(x_g, low * lsb_g, high * lsb_g)
    return quantise_straight_through(x_g, lsb_g)
