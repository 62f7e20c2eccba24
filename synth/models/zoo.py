"""Builders for the conditional generator and critic.

Both take the class as a one-hot vector (not an Embedding) so that the generator quantises to
full int8 and runs on the microcontroller interpreter: the generator uses only Dense,
LeakyReLU, tanh, sigmoid, Reshape, Concatenate, Add, Multiply and a constant rescale (no
UpSampling, which becomes TILE, an op the MCU runtime lacks).

The generator splits a window into a slowly varying part and motion, as accelerometers see it:
``window = full_scale * (offset(z, c) + amplitude(c) * motion(z, c))``. The offset (gravity and
posture, (B, 1, 3)) is constant over the window; the motion branch is scaled by a
class-dependent amplitude, so a stationary class can be quiet without the network having to
cancel its own texture. The motion branch is a dense decoder rather than transposed
convolutions: for windows of 24-48 samples it costs about one multiply-add per parameter, so
a 45k-parameter generator makes hundreds of thousands of windows per second on two cores and
fits a Cortex-M4. Outputs are in g and may exceed full scale: the sensor profile clips them,
as the real sensor saturates.
"""

from __future__ import annotations

import keras
from keras import layers

from synth.errors import ConfigError

MIN_WINDOW = 8


def build_generator(
    window: int, n_classes: int, noise_dim: int = 32, units: int = 224, full_scale_g: float = 4.0
) -> keras.Model:
    """G([noise (B, noise_dim), one-hot class (B, n_classes)]) -> window (B, window, 3) in g."""
    _check_window(window)
    noise = keras.Input((noise_dim,), name="noise")
    label = keras.Input((n_classes,), name="label")
    h = layers.Concatenate(name="latent")([noise, label])
    offset = layers.Dense(3, activation="tanh", name="offset_dense")(h)
    offset = layers.Reshape((1, 3), name="offset")(offset)
    motion = _motion_branch(h, window, units)
    amplitude = layers.Dense(3, activation="sigmoid", name="amplitude_dense")(label)
    amplitude = layers.Reshape((1, 3), name="amplitude")(amplitude)
    window_norm = layers.Add(name="window_norm")([offset, layers.Multiply(name="scaled_motion")([amplitude, motion])])
    out = layers.Rescaling(full_scale_g, name="to_g")(window_norm)
    return keras.Model([noise, label], out, name="generator")


def _motion_branch(h, window: int, units: int):
    """Dense(units / 2) -> Dense(units) -> Dense(window * 3, tanh): (B, window, 3) in [-1, 1]."""
    x = layers.LeakyReLU(0.2)(layers.Dense(units // 2, name="motion_hidden0")(h))
    x = layers.LeakyReLU(0.2)(layers.Dense(units, name="motion_hidden1")(x))
    x = layers.Dense(window * 3, activation="tanh", name="motion_out")(x)
    return layers.Reshape((window, 3), name="motion")(x)


def build_critic(window: int, n_classes: int, filters: int = 32, full_scale_g: float = 4.0) -> keras.Model:
    """D([window (B, window, 3) in g, one-hot class (B, n_classes)]) -> score (B, 1).

    A projection critic (Miyato & Koyama 2018): score = w.h + <embed(c), h>, with the class also
    tiled over time as extra input channels. No normalisation layers: the gradient penalty is
    computed per sample and batch statistics would couple the samples.
    """
    _check_window(window)
    x_in = keras.Input((window, 3), name="window")
    label = keras.Input((n_classes,), name="label")
    x = layers.Rescaling(1.0 / full_scale_g)(x_in)
    tiled = layers.RepeatVector(window)(label)
    x = layers.Concatenate()([x, tiled])
    for i, width in enumerate((filters, filters * 2, filters * 2)):
        x = layers.Conv1D(width, 5, strides=2 if i < 2 else 1, padding="same", name=f"critic_conv{i}")(x)
        x = layers.LeakyReLU(0.2)(x)
    h = layers.Flatten()(x)
    h = layers.Dense(filters * 2, name="critic_features")(h)
    h = layers.LeakyReLU(0.2)(h)
    projection = layers.Dot(axes=1)([h, layers.Dense(filters * 2, use_bias=False, name="class_embedding")(label)])
    score = layers.Add(name="score")([layers.Dense(1, name="critic_linear")(h), projection])
    return keras.Model([x_in, label], score, name="critic")


def _check_window(window: int) -> None:
    """The critic's two stride-2 convolutions need a few samples to work on."""
    if window < MIN_WINDOW:
        raise ConfigError(f"window length {window} is too short: use at least {MIN_WINDOW} samples (e.g. 24 or 48)")
