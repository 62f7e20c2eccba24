"""``synth train-classifier``: an ST-compatible activity classifier trained on real windows."""

from __future__ import annotations

from synth.core.command_line import ConfigOption, train_and_report


def train_classifier(config: ConfigOption) -> None:
    """Train an ST-compatible activity classifier (IGN or GMP) and report its held-out accuracy."""
    from synth.classify.train_classifier import run_classifier_training

    train_and_report(config, run_classifier_training, "classifier")
