"""The array names and shapes a well-formed shared model must have, from the run's config.

Received generators and classifiers are checked against these (synth.federated.validation). They come
from building the architecture the config describes, once per process.
"""

from __future__ import annotations

import functools
import json

from synth.core.config import Config
from synth.core.profiles import load_profile


def generator_shapes(config: Config, window: int, n_classes: int) -> dict[str, tuple[int, ...]]:
    """Weight name -> shape of the generator every node of this run builds."""
    return _shapes("generator", _architecture_key(config), window, n_classes)


def classifier_shapes(config: Config, window: int, n_classes: int) -> dict[str, tuple[int, ...]]:
    """Weight name -> shape of the classifier every node of this run builds."""
    return _shapes("classifier", _architecture_key(config), window, n_classes)


def _architecture_key(config: Config) -> str:
    return json.dumps({"profile": config.profile, "model": config.model.model_dump(),
                       "classifier": config.classifier.model_dump() if config.classifier else None}, sort_keys=True)


@functools.lru_cache(maxsize=8)
def _shapes(kind: str, key: str, window: int, n_classes: int) -> dict[str, tuple[int, ...]]:
    from synth.federated.wire import model_weights

    raw = json.loads(key)
    if kind == "generator":
        from synth.models.zoo import build_generator

        m = raw["model"]
        model = build_generator(window, n_classes, m["noise_dim"], m["generator_units"], load_profile(raw["profile"]).full_scale_g)
    else:
        from synth.classify.har import build_har_classifier

        c = raw["classifier"]
        model = build_har_classifier(c["architecture"], window, n_classes, c["dropout"])
    return {name: tuple(value.shape) for name, value in model_weights(model).items()}
