"""The compiled models one process uses for every node it plays: WGAN-GP, classifier, a scratch generator.

Compiling an XLA train step takes seconds, so a simulation with many nodes builds them once per
process and, before each node's round, reassigns every variable (weights, optimizer slots,
random-stream state) from that node's saved state or from the common initial state. Nothing of
one node therefore leaks into another, and a node gives the same result in any process.
"""

from __future__ import annotations

from typing import Optional

import keras
import numpy as np

from synth.classify.har import build_har_classifier
from synth.classify.train_classifier import balanced_class_weights, model_input
from synth.core.config import Config
from synth.core.profiles import load_profile
from synth.core.windows import Windows
from synth.federated.wire import model_weights
from synth.models.checkpoint import build_optimizers, training_variables
from synth.models.training import build_wgan, make_dataset
from synth.models.zoo import build_generator, set_class_scales
from synth.share.node_state import NodeState, assign_arrays, variables_to_arrays

PREDICT_BATCH = 1024


class SharedModels:
    """WGAN-GP (``gan``), classifier and scratch generator for windows (window, 3), K classes."""

    def __init__(self, config: Config, window: int, n_classes: int):
        keras.utils.set_random_seed(config.seed)  # every node starts from the same initial weights
        self.config, self.n_classes = config, n_classes
        full_scale_g = load_profile(config.profile).full_scale_g
        placeholder = _placeholder_windows(window, n_classes)
        self.gan = build_wgan(config, placeholder, full_scale_g)
        build_optimizers(self.gan)
        m, c = config.model, config.classifier
        self.scratch = build_generator(window, n_classes, m.noise_dim, m.generator_units, full_scale_g)
        self.classifier = build_har_classifier(c.architecture, window, n_classes, c.dropout, seed=config.seed)
        self.classifier.compile(optimizer=keras.optimizers.Adam(c.learning_rate), loss="sparse_categorical_crossentropy")
        self.classifier.optimizer.build(self.classifier.trainable_variables)
        self._initial_gan, self._initial_classifier = self.gan_state(), self.classifier_state()

    # ---- state -------------------------------------------------------------------------
    def restore(self, state: NodeState, seed: int) -> None:
        """Assign the node's saved variables (or the initial ones) and key the noise stream by ``seed``."""
        assign_arrays(self._gan_variables(), state.gan or self._initial_gan)
        assign_arrays(self._classifier_variables(), state.classifier or self._initial_classifier)
        self.gan.seed_generator.state.assign(np.array([seed, 0], dtype=self.gan.seed_generator.state.dtype))

    def gan_state(self) -> dict[str, np.ndarray]:
        return variables_to_arrays(self._gan_variables())

    def classifier_state(self) -> dict[str, np.ndarray]:
        return variables_to_arrays(self._classifier_variables())

    def _gan_variables(self) -> list:
        return training_variables(self.gan)

    def _classifier_variables(self) -> list:
        return [*self.classifier.variables, *self.classifier.optimizer.variables]

    # ---- what travels ------------------------------------------------------------------
    def generator_weights(self) -> dict[str, np.ndarray]:
        return model_weights(self.gan.generator)

    def classifier_weights(self) -> dict[str, np.ndarray]:
        return model_weights(self.classifier)

    def set_generator(self, weights: dict[str, np.ndarray]) -> None:
        self.gan.generator.set_weights([weights[n] for n in sorted(weights)])

    def set_classifier(self, weights: dict[str, np.ndarray]) -> None:
        self.classifier.set_weights([weights[n] for n in sorted(weights)])

    # ---- training ----------------------------------------------------------------------
    def train_gan(self, windows: Windows, scales_g: np.ndarray, config: Config, seed: int) -> None:
        """``gan_epochs_per_round`` x train.steps_per_epoch generator steps on ``windows`` in g."""
        set_class_scales(self.gan.generator, scales_g)
        t = config.train
        dataset = make_dataset(windows, scales_g, t.batch_size * t.n_critic, seed)
        self.gan.fit(dataset, steps_per_epoch=t.steps_per_epoch, epochs=config.share.gan_epochs_per_round, verbose=0)

    def train_classifier(self, windows: Windows, config: Config) -> None:
        """``classifier_epochs`` epochs on ``windows`` in g, classes weighing equally."""
        self.classifier.fit(
            model_input(windows.x), windows.y, batch_size=config.classifier.batch_size,
            epochs=config.share.classifier_epochs, shuffle=True, verbose=0,
            class_weight=balanced_class_weights(windows.y, self.n_classes),
        )

    def score(self, test: Optional[Windows]) -> dict[str, float]:
        """Accuracy and accuracy per class ("accuracy/<class>") on held-out windows; {} without them."""
        if test is None or not len(test):
            return {}
        predicted = self.classifier.predict(model_input(test.x), batch_size=PREDICT_BATCH, verbose=0).argmax(-1)
        scores = {"accuracy": float(np.mean(predicted == test.y))}
        for k, name in enumerate(test.classes):
            if (test.y == k).any():
                scores[f"accuracy/{name}"] = float(np.mean(predicted[test.y == k] == k))
        return scores


def _placeholder_windows(window: int, n_classes: int) -> Windows:
    """Stand-in windows for building the WGAN (its class scales are reassigned before every use)."""
    return Windows(
        x=np.zeros((n_classes, window, 3), np.float32), y=np.arange(n_classes), classes=tuple(map(str, range(n_classes))),
        rate_hz=26.0, units="g", groups=np.zeros(n_classes, dtype=str),
    )
