"""Builders of ST-compatible activity classifiers: the model zoo's IGN and GMP architectures.

Both take ST's model-zoo input layout (B, window, 3, 1) float32 in m/s^2 and answer with K
softmax scores. With ``preprocess=True`` (the default) the first layer is ST's gravity rotation
+ suppression in TensorFlow ops, so the model takes *raw* windows (gravity included) in m/s^2;
with ``preprocess=False`` it expects already preprocessed windows, exactly like ST's own files.

- IGN: Conv2D(24, (16, 1), relu) - MaxPool(3, 1) - Flatten - Dense(12) - Dropout - Dense(K, softmax)
- GMP: BN - Conv2D(16, (5, 1)) - BN - Conv2D(16, (5, 1)) - GlobalMaxPool - Dropout - Dense(K) - softmax

The (k, 1) kernels slide along time only, sharing weights across the three axes, as ST's do.
GMP's convolutions are linear, as in ST's files: the global max pool is its non-linearity.
"""

from __future__ import annotations

import keras
from keras import layers

from synth.classify.preprocessing_tf import GravityRotationSuppression
from synth.core.errors import ConfigError

ARCHITECTURES = ("ign", "gmp")
IGN_KERNEL = 16  # an IGN window must be longer than its kernel


def build_har_classifier(
    architecture: str, window: int, n_classes: int, dropout: float = 0.5, preprocess: bool = True, seed: int = 0
) -> keras.Model:
    """An uncompiled IGN or GMP model: input (B, window, 3, 1) m/s^2 -> (B, n_classes) softmax."""
    if architecture not in ARCHITECTURES:
        raise ConfigError(f"unknown classifier architecture {architecture!r} (allowed: {', '.join(ARCHITECTURES)})")
    if architecture == "ign" and window <= IGN_KERNEL:
        raise ConfigError(f"an IGN classifier needs windows longer than {IGN_KERNEL} samples, got {window}")
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((window, 3, 1), name="acc_ms2")
    x = GravityRotationSuppression(name="gravity_rotation_suppression")(inputs) if preprocess else inputs
    body = _ign_body if architecture == "ign" else _gmp_body
    outputs = body(x, n_classes, dropout)
    return keras.Model(inputs, outputs, name=f"{architecture}_wl_{window}")


def _ign_body(x, n_classes: int, dropout: float):
    """ST's IGN head over (B, T, 3, 1): one long temporal convolution, pooled and flattened."""
    x = layers.Conv2D(24, (IGN_KERNEL, 1), activation="relu")(x)
    x = layers.MaxPooling2D((3, 1))(x)
    x = layers.Flatten()(x)
    x = layers.Dense(12)(x)
    x = layers.Dropout(dropout)(x)
    return layers.Dense(n_classes, activation="softmax")(x)


def _gmp_body(x, n_classes: int, dropout: float):
    """ST's GMP head over (B, T, 3, 1): two short temporal convolutions and a global max pool."""
    x = layers.BatchNormalization()(x)
    x = layers.Conv2D(16, (5, 1))(x)
    x = layers.BatchNormalization()(x)
    x = layers.Conv2D(16, (5, 1))(x)
    x = layers.GlobalMaxPooling2D()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(n_classes)(x)
    return layers.Softmax()(x)
