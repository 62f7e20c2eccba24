"""Fit an autoencoder on normal rows and make it a detector (centralised or one node alone).

The same functions serve every training mode: ``build_model`` makes the architecture the rows
call for (dense for feature vectors, convolutional for windows), ``fit_epochs`` continues
training from the model's current weights (a federated round starts from the global weights
with a fresh optimizer), and ``held_out_moments`` gives what the threshold is set from.
"""

from __future__ import annotations

import numpy as np

from synth.anomaly.detector import input_info, model_input, reconstruction_errors, window_statistics
from synth.anomaly.fault_rule import WindowHistograms
from synth.anomaly.statistics import MinMax, Moments
from synth.core.config import AnomalyConfig
from synth.core.rows import Rows


def build_model(row_shape: tuple[int, ...], settings: AnomalyConfig, full_scale_g: float | None, seed: int):
    """A freshly initialised (seeded), compiled autoencoder for rows of ``row_shape``."""
    import keras

    keras.utils.set_random_seed(seed)
    if len(row_shape) == 1:
        from synth.models.dense_autoencoder import build_dense_autoencoder

        model = build_dense_autoencoder(row_shape[0], settings.hidden)
    else:
        from synth.models.autoencoder import build_autoencoder

        model = build_autoencoder(row_shape[0], full_scale_g, settings.filters, settings.latent)
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate), loss="mse")
    return model


def fit_epochs(model, x_in: np.ndarray, epochs: int, batch_size: int, seed: int) -> float:
    """Train ``model`` to reconstruct model inputs ``x_in`` for ``epochs`` with a fresh optimizer state;
    returns the last epoch's mean loss."""
    import keras

    keras.utils.set_random_seed(seed)
    for variable in model.optimizer.variables:  # FedAvg rounds start every client optimizer afresh
        if not variable.path.endswith("learning_rate"):
            variable.assign(np.zeros(variable.shape, variable.dtype))
    history = model.fit(x_in, x_in, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
    return float(history.history["loss"][-1])


def held_out_moments(model, validation: Rows, info: dict) -> Moments:
    """Moments of the reconstruction errors of held-out normal rows."""
    return Moments.of(reconstruction_errors(model, model_input(validation.x, info)))


def held_out_histograms(model, validation: Rows, info: dict) -> WindowHistograms:
    """Histograms of the fault statistics of held-out normal windows (see synth.anomaly.fault_rule)."""
    return WindowHistograms.of(*window_statistics(model, validation.x, info))


def train_detector(train: Rows, validation: Rows, settings: AnomalyConfig, seed: int,
                   full_scale_g: float | None = None, rate_hz: float | None = None):
    """(model, info) of a detector fitted on ``train``'s normal rows, threshold on ``validation``'s.

    Used for centralised training (all rows) and local-only training (one node's rows).
    """
    train, validation = train.normal(), validation.normal()
    scaling = None if train.is_windows else MinMax.of(train.x)
    info = input_info(train.x.shape[1:], train.feature_names, scaling, full_scale_g, rate_hz)
    model = build_model(tuple(train.x.shape[1:]), settings, full_scale_g, seed)
    loss = fit_epochs(model, model_input(train.x, info), settings.epochs, settings.batch_size, seed)
    stats = held_out_moments(model, validation, info).threshold(settings.k)
    if train.is_windows:
        rule = held_out_histograms(model, validation, info).rule(settings.statistic_tail, settings.threshold_margin)
        stats["fault_rule"] = rule.to_json()
    return model, {**info, **stats, "k": settings.k, "train_rows": len(train), "final_loss": loss}
