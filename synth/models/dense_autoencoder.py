"""Builder of the dense autoencoder for feature vectors (network traffic, telemetry).

FedIoT's reference shape for N-BaIoT's 115 features: 115-86-58-38-29-38-58-86-115, tanh between
hidden layers, a linear bottleneck and a linear output. Other input widths keep the same ratios
(0.75, 0.5, 0.33, 0.25 of the width, at least 2 units each). Only FULLY_CONNECTED and TANH after
int8 quantisation, both in the microcontroller interpreter and in synth's standalone C kernels.
"""

from __future__ import annotations

import keras
from keras import layers

from synth.core.errors import ConfigError

FEDIOT_RATIOS = (86 / 115, 58 / 115, 38 / 115, 29 / 115)
MIN_UNITS = 2


def default_hidden(width: int) -> list[int]:
    """Encoder widths for ``width`` input features: FedIoT's 86-58-38-29 at 115, scaled otherwise."""
    return [max(MIN_UNITS, round(width * ratio)) for ratio in FEDIOT_RATIOS]


def build_dense_autoencoder(width: int, hidden: list[int] | None = None) -> keras.Model:
    """AE(rows (B, width) min-max scaled) -> reconstruction (B, width) in the same units.

    ``hidden``: encoder widths, the last being the bottleneck; the decoder mirrors them.
    """
    hidden = list(hidden or default_hidden(width))
    if width < 2 or min(hidden) < 1:
        raise ConfigError(f"a dense autoencoder needs at least 2 features and positive layer widths (got {width}, {hidden})")
    inputs = keras.Input((width,), name="features_scaled")
    x = inputs
    for i, units in enumerate(hidden):
        x = layers.Dense(units, activation=None if i == len(hidden) - 1 else "tanh", name=f"encoder{i}")(x)
    for i, units in enumerate(reversed(hidden[:-1])):
        x = layers.Dense(units, activation="tanh", name=f"decoder{i}")(x)
    outputs = layers.Dense(width, name="reconstruction")(x)
    return keras.Model(inputs, outputs, name="dense_autoencoder")
