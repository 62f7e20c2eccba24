"""Builders for the conditional generator and critic, and the space the critic judges in.

Both networks take the class as a one-hot vector (not an Embedding) so that the generator
quantises to full int8 and runs on the microcontroller interpreter: the generator uses only
Dense, Conv1D, LeakyReLU, tanh, Reshape, Concatenate, Add, Multiply and a constant rescale (no
UpSampling, which becomes TILE, an op the MCU runtime lacks).

A window is an offset plus motion, as accelerometers see it:
``window (g) = full_scale * offset(z, c) + scale(c) * motion(z, c)``. The offset (gravity and
posture, (B, 1, 3)) is constant over the window; ``scale(c)`` (K, 3) is the real per-class,
per-axis standard deviation of motion, fixed from the training data. The critic judges the
*representation* ``[offset; gravity; motion]`` ((B, 2 + T, 3), see ``to_representation``;
offsets in quarter-g units, the offset's length minus 1 g in units of GRAVITY_UNIT_G), in which a
stationary window's 20 mg tremor and a running window's 1 g swings are both of unit size. A
critic that is 1-Lipschitz on raw g could barely tell 0.02 g of motion from 0.1 g, and the
generator would make stationary windows several times too busy; here it cannot get away with
that. The motion branch is a dense decoder with two short convolutions for texture: for
windows of 24-48 samples it costs about 1.5 multiply-adds per parameter (transposed
convolutions would cost tens), so a 45k-parameter generator makes hundreds of thousands of
windows per second on two cores and fits a Cortex-M4. Outputs may exceed full scale: the
sensor profile clips them, as the real sensor saturates.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from synth.core.errors import ConfigError

MIN_WINDOW = 8
MIN_SCALE_G = 1e-3  # one mg: the floor of a class's motion scale (a perfectly still class)
# The critic sees offsets in units of a quarter g, so that a gravity vector 0.1 g too long or
# short costs as much as a visibly wrong motion (classifiers without gravity removal notice it).
OFFSET_UNIT_G = 0.25
# The length of the offset (gravity, in a window that is not accelerating) gets a row of its
# own in 0.05 g units: a still sensor reads 1 g within a few percent, and a critic that saw the
# offset only in quarter-g units let the generator make stationary windows with 0.7 g of
# gravity. Only the x channel carries it; y and z of that row are zero on both sides.
GRAVITY_UNIT_G = 0.05
SUMMARY_ROWS = 2  # offset and gravity rows before the motion rows
ORIENTATIONS = 18  # centres of the offset head: the six axis directions and the twelve between two of them
ORIENTATION_SHARPNESS = 4.0  # scales the centre logits, so that the softmax picks one centre rather than averaging
MAX_TILT_G = 0.4  # the offset head's continuous tilt away from its centre, in g
TEXTURE_FILTERS = 16
# The device core's offset row (``device_core``) in eighths of a g: |offset| <= 1.2 g becomes <= 10 units,
# the size of the class-scaled motion rows beside it, so the one int8 output scale fits both.
DEVICE_OFFSET_UNIT_G = 0.125
_NORM_EPSILON = 1e-12  # keeps the gradient of the offset's length finite at zero


def build_generator(
    window: int, n_classes: int, noise_dim: int = 32, units: int = 224, full_scale_g: float = 4.0
) -> keras.Model:
    """G([noise (B, noise_dim), one-hot class (B, n_classes)]) -> window (B, window, 3) in g.

    The per-class motion scale lives in the non-trainable layer "class_scale": set it with
    ``set_class_scales`` before training (it is saved with the weights).
    """
    _check_window(window)
    noise = keras.Input((noise_dim,), name="noise")
    label = keras.Input((n_classes,), name="label")
    latent = layers.Concatenate(name="latent")([noise, label])
    # both branches read a non-linear hidden layer: a tanh of a linear map of Gaussian noise could
    # only make one blob of orientations, while real wearers hold the board in several distinct ways
    h = layers.LeakyReLU(0.2)(layers.Dense(units // 2, name="hidden0")(latent))
    offset = layers.Reshape((1, 3), name="offset")(_offset_branch(h, full_scale_g))
    offset_g = layers.Rescaling(full_scale_g, name="offset_g")(offset)
    motion, vertical = _motion_branch(h, window, units)
    # motion along gravity (a footstep's impact) as its own channel: vertical(t) x the offset, 1 g long
    motion = layers.Add(name="body_motion")([motion, layers.Multiply(name="motion_along_gravity")([vertical, offset_g])])
    scale = layers.Dense(3, use_bias=False, trainable=False, kernel_initializer="ones", name="class_scale")(label)
    scale = layers.Reshape((1, 3), name="scale")(scale)
    scaled_motion = layers.Multiply(name="scaled_motion")([scale, motion])
    out = layers.Add(name="window_g")([offset_g, scaled_motion])
    generator = keras.Model([noise, label], out, name="generator")
    generator.get_layer("orientation_centres").set_weights([orientation_centres(full_scale_g)])
    return generator


def device_core(generator: keras.Model) -> keras.Model:
    """G's inputs -> (B, 1 + T, 3): [offset / DEVICE_OFFSET_UNIT_G; motion in class-scale units], what G
    computes before it scales anything: every row is a few units whatever the class, so an int8 export
    keeps a quiet class's detail. The window is ``DEVICE_OFFSET_UNIT_G x row 0 + scale(c) x row 1 + t``
    (see synth.export.generator_window). Shares G's weights."""
    offset = layers.Rescaling(1.0 / DEVICE_OFFSET_UNIT_G, name="offset_eighth_g")(generator.get_layer("offset_g").output)
    rows = layers.Concatenate(axis=1, name="offset_and_motion")([offset, generator.get_layer("body_motion").output])
    return keras.Model(generator.inputs, rows, name="generator_core")


def orientation_centres(full_scale_g: float) -> np.ndarray:
    """The offset head's starting centres (ORIENTATIONS, 3) in full-scale units: 1 g along each of
    the six axis directions and the twelve directions halfway between two of them."""
    faces = np.concatenate([np.eye(3), -np.eye(3)])
    edges = np.array([a + b for i, a in enumerate(faces) for b in faces[i + 1:] if a @ b == 0]) / np.sqrt(2.0)
    return (np.concatenate([faces, edges]) / full_scale_g).astype(np.float32)


def _offset_branch(h, full_scale_g: float):
    """Shared hidden -> offset (B, 3) in full-scale units: a soft choice among ORIENTATIONS learnt
    centres plus a small learnt tilt.

    Real boards are held in a few distinct ways (face up, on a side, upside down in a pocket).
    A smooth map from Gaussian noise to the offset can only cover such clusters by passing
    between them, where the gravity vector is too short, and in practice it drops the rare ones;
    choosing among centres (a softmax over ORIENTATIONS, sharpened by ORIENTATION_SHARPNESS) makes
    every cluster reachable and keeps gravity 1 g long. The tilt (at most MAX_TILT_G) covers the
    spread within a cluster.
    """
    logits = layers.Rescaling(ORIENTATION_SHARPNESS)(layers.Dense(ORIENTATIONS, name="orientation_logits")(h))
    choice = layers.Softmax(name="orientation_choice")(logits)
    centre = layers.Dense(3, use_bias=False, name="orientation_centres")(choice)
    tilt = layers.Dense(3, activation="tanh", name="offset_dense")(h)
    return layers.Add(name="offset_units")([centre, layers.Rescaling(MAX_TILT_G / full_scale_g)(tilt)])


def _motion_branch(h, window: int, units: int):
    """Shared hidden (units / 2) -> Dense(units) -> Dense(window * 3) -> two short Conv1D:
    (free motion (B, window, 3), motion along gravity (B, window, 1)), both in class-scale units.

    The dense layers lay out the whole window; the convolutions (kernel 5, about 0.2 s at
    26 Hz) shape its sample-to-sample texture, which dense outputs alone leave too jagged.
    Impacts act along gravity whichever way the board is held, and change |a| most; the free
    motion alone had to learn that direction anew for every orientation and made impacts too soft.
    """
    x = layers.LeakyReLU(0.2)(layers.Dense(units, name="motion_hidden1")(h))
    x = layers.Reshape((window, 3))(layers.Dense(window * 3, name="motion_layout")(x))
    x = layers.LeakyReLU(0.2)(layers.Conv1D(TEXTURE_FILTERS, 5, padding="same", name="motion_texture")(x))
    return layers.Conv1D(3, 5, padding="same", name="motion")(x), layers.Conv1D(1, 5, padding="same", name="vertical")(x)


@keras.saving.register_keras_serializable(package="synth")
class GravityRow(layers.Layer):
    """Offsets (B, 1, 3) in g -> the gravity row (B, 1, 3): [(|offset| - 1 g) / GRAVITY_UNIT_G, 0, 0]."""

    def call(self, offset_g):
        length = ops.sqrt(ops.sum(ops.square(offset_g), axis=-1, keepdims=True) + _NORM_EPSILON)
        deviation = (length - 1.0) / GRAVITY_UNIT_G
        return ops.concatenate([deviation, ops.zeros_like(deviation), ops.zeros_like(deviation)], axis=-1)


def window_representation(x_g, scale_g):
    """Windows (B, T, 3) g and their class's motion scales (B, 1, 3) g -> [offset / OFFSET_UNIT_G;
    gravity row; (x - offset) / scale] (B, 2 + T, 3), the offset being the window's mean: the
    Keras-ops twin of ``to_representation``, so generated and real windows are judged alike."""
    offset = ops.mean(x_g, axis=1, keepdims=True)
    return ops.concatenate([offset / OFFSET_UNIT_G, GravityRow()(offset), (x_g - offset) / scale_g], axis=1)


@keras.saving.register_keras_serializable(package="synth")
class WindowRepresentation(layers.Layer):
    """[windows (B, T, 3) g, motion scales (B, 1, 3) g] -> ``window_representation`` (B, 2 + T, 3)."""

    def call(self, inputs):
        return window_representation(*inputs)


def representation_model(generator: keras.Model) -> keras.Model:
    """G's representation [offset; gravity; motion] (B, 2 + T, 3), sharing the generator's weights."""
    rows = WindowRepresentation(name="representation")([generator.output, generator.get_layer("scale").output])
    return keras.Model(generator.inputs, rows, name="generator_representation")


def set_class_scales(generator: keras.Model, scales_g: np.ndarray) -> None:
    """Fix the per-class motion scale (K, 3) in g, floored at MIN_SCALE_G."""
    generator.get_layer("class_scale").set_weights([np.maximum(scales_g, MIN_SCALE_G).astype(np.float32)])


def get_class_scales(generator: keras.Model) -> np.ndarray:
    """The generator's fixed per-class motion scale (K, 3) in g."""
    return generator.get_layer("class_scale").get_weights()[0]


def class_scales(x_g: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class, per-axis std (K, 3) in g of windows (N, T, 3) minus their own mean."""
    motion = x_g - x_g.mean(axis=1, keepdims=True)
    return np.stack([motion[y == k].std(axis=(0, 1)) if (y == k).any() else np.ones(3) for k in range(n_classes)])


def to_representation(x_g: np.ndarray, y: np.ndarray, scales_g: np.ndarray) -> np.ndarray:
    """Real windows (N, T, 3) in g -> [offset / OFFSET_UNIT_G; gravity row; (x - offset) / scale(y)] (N, 2 + T, 3)."""
    offset = x_g.mean(axis=1, keepdims=True)
    gravity = np.zeros_like(offset)
    gravity[..., 0] = (np.sqrt(np.sum(offset**2, axis=-1) + _NORM_EPSILON) - 1.0) / GRAVITY_UNIT_G
    motion = (x_g - offset) / np.maximum(scales_g, MIN_SCALE_G)[y][:, None, :]
    return np.concatenate([offset / OFFSET_UNIT_G, gravity, motion], axis=1).astype(np.float32)


def build_critic(window: int, n_classes: int, filters: int = 32) -> keras.Model:
    """D([representation (B, SUMMARY_ROWS + window, 3), one-hot class (B, n_classes)]) -> score (B, 1).

    Convolutions read the motion rows (with the class tiled over time as extra channels), a
    dense layer reads the offset and gravity rows. A projection critic (Miyato & Koyama 2018): score =
    w.h + <embed(c), h>. No normalisation layers: the gradient penalty is per sample and batch
    statistics would couple the samples.
    """
    _check_window(window)
    rep = keras.Input((SUMMARY_ROWS + window, 3), name="representation")
    label = keras.Input((n_classes,), name="label")
    offset = layers.Flatten()(layers.Cropping1D((0, window))(rep))
    x = layers.Concatenate()([layers.Cropping1D((SUMMARY_ROWS, 0))(rep), layers.RepeatVector(window)(label)])
    for i, width in enumerate((filters, filters * 2, filters * 2)):
        x = layers.Conv1D(width, 5, strides=2 if i < 2 else 1, padding="same", name=f"critic_conv{i}")(x)
        x = layers.LeakyReLU(0.2)(x)
    h = layers.Concatenate()([layers.Flatten()(x), offset])
    h = layers.LeakyReLU(0.2)(layers.Dense(filters * 2, name="critic_features")(h))
    projection = layers.Dot(axes=1)([h, layers.Dense(filters * 2, use_bias=False, name="class_embedding")(label)])
    score = layers.Add(name="score")([layers.Dense(1, name="critic_linear")(h), projection])
    return keras.Model([rep, label], score, name="critic")


def _check_window(window: int) -> None:
    """The critic's two stride-2 convolutions need a few samples to work on."""
    if window < MIN_WINDOW:
        raise ConfigError(f"window length {window} is too short: use at least {MIN_WINDOW} samples (e.g. 24 or 48)")
