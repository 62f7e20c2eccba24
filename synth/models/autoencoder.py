"""Builder of the window autoencoder behind the realism filter (and on-device anomaly detection).

Only layers the microcontroller interpreter runs after full-int8 quantisation: Conv1D with
strides to encode, Flatten, a Dense bottleneck, Dense + Reshape + Conv1D to decode, LeakyReLU and
constant rescales (no UpSampling or Conv1DTranspose). The model works in full-scale units inside
(inputs divided by the full scale, so every value lies in [-1, 1] as an int8 input wants) and in
g outside, so the reconstruction error reads directly in g^2.
"""

from __future__ import annotations

import keras
from keras import layers

from synth.core.errors import ConfigError

MIN_WINDOW = 8  # two stride-2 convolutions need a few samples to work on


def build_autoencoder(window: int, full_scale_g: float, filters: int = 16, latent: int = 32) -> keras.Model:
    """AE(window (B, window, 3) in g) -> reconstruction (B, window, 3) in g.

    Encoder: two stride-2 Conv1D (kernel 5, about 0.2 s at 26 Hz) -> Dense(latent). Decoder:
    Dense(window x filters) -> Reshape (window, filters) -> Conv1D(3). The narrow bottleneck is
    what makes unfamiliar windows reconstruct badly.
    """
    if window < MIN_WINDOW:
        raise ConfigError(f"window length {window} is too short for the autoencoder: use at least {MIN_WINDOW} samples")
    inputs = keras.Input((window, 3), name="window_g")
    x = layers.Rescaling(1.0 / full_scale_g, name="to_full_scale")(inputs)
    for i, width in enumerate((filters, filters * 2)):
        x = layers.LeakyReLU(0.2)(layers.Conv1D(width, 5, strides=2, padding="same", name=f"encoder_conv{i}")(x))
    code = layers.LeakyReLU(0.2)(layers.Dense(latent, name="bottleneck")(layers.Flatten()(x)))
    x = layers.Dense(window * filters, name="decoder_layout")(code)
    x = layers.LeakyReLU(0.2)(layers.Reshape((window, filters))(x))
    x = layers.Conv1D(3, 5, padding="same", name="decoder_conv")(x)
    outputs = layers.Rescaling(full_scale_g, name="reconstruction_g")(x)
    return keras.Model(inputs, outputs, name="autoencoder")
