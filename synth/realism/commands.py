"""``synth train-autoencoder``: the realism filter's autoencoder and its threshold."""

from __future__ import annotations

from synth.core.command_line import ConfigOption, train_and_report


def train_autoencoder(config: ConfigOption) -> None:
    """Train the realism filter's autoencoder and set its threshold on held-out real recordings."""
    from synth.realism.filter import run_autoencoder_training

    train_and_report(config, run_autoencoder_training, "autoencoder")
