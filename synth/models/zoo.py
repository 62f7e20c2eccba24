"""Builders for the conditional generator and critic.

Both take the class as a one-hot vector (not an Embedding) so that the generator quantises to
full int8 and runs on the microcontroller interpreter: only Dense, Conv1D, Conv1DTranspose,
LeakyReLU, tanh, Reshape, Concatenate, Add and Multiply are used (no UpSampling, which becomes
TILE, an op the MCU runtime lacks).

The generator splits a window into a slowly varying part and motion, as accelerometers see it:
``window = offset(z, c) + amplitude(c) * motion(z, c)``. The offset (gravity and posture,
(B, 1, 3)) is constant over the window; the motion branch is scaled by a class-dependent
amplitude, so a stationary class can be quiet without the convolutions having to cancel their
own texture. Outputs are in g and may exceed full scale: the sensor profile clips them, as
the real sensor saturates.
"""

from __future__ import annotations

import keras
from keras import layers

from synth.errors import ConfigError

UPSAMPLING = 4  # two stride-2 transposed convolutions


def build_generator(
    window: int, n_classes: int, noise_dim: int = 32, filters: int = 32, full_scale_g: float = 4.0
) -> keras.Model:
    """G([noise (B, noise_dim), one-hot class (B, n_classes)]) -> window (B, window, 3) in g."""
    _check_window(window)
    noise = keras.Input((noise_dim,), name="noise")
    label = keras.Input((n_classes,), name="label")
    h = layers.Concatenate(name="latent")([noise, label])
    offset = layers.Dense(3, activation="tanh", name="offset_dense")(h)
    offset = layers.Reshape((1, 3), name="offset")(offset)
    motion = _motion_branch(h, window, filters)
    amplitude = layers.Dense(3, activation="sigmoid", name="amplitude_dense")(label)
    amplitude = layers.Reshape((1, 3), name="amplitude")(amplitude)
    window_norm = layers.Add(name="window_norm")([offset, layers.Multiply(name="scaled_motion")([amplitude, motion])])
    out = layers.Rescaling(full_scale_g, name="to_g")(window_norm)
    return keras.Model([noise, label], out, name="generator")


def _motion_branch(h, window: int, filters: int):
    """Dense -> two stride-2 Conv1DTranspose -> Conv1D -> tanh: (B, window, 3) in [-1, 1]."""
    steps = window // UPSAMPLING
    x = layers.Dense(steps * filters * 2, name="motion_dense")(h)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((steps, filters * 2))(x)
    for i, width in enumerate((filters, filters)):
        x = layers.Conv1DTranspose(width, 5, strides=2, padding="same", name=f"motion_up{i}")(x)
        x = layers.LeakyReLU(0.2)(x)
    return layers.Conv1D(3, 5, padding="same", activation="tanh", name="motion_out")(x)


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
    """Window lengths must divide by the generator's total upsampling factor."""
    if window % UPSAMPLING or window < UPSAMPLING:
        raise ConfigError(f"window length {window} is not allowed: use a multiple of {UPSAMPLING} (e.g. 24 or 48)")
