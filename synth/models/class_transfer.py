"""Carry a source generator over to the target's classes and motion scales before fine-tuning.

A generator trained on another sensor's recordings knows the source's classes (HAPT: stationary,
walking). The target (ST's board: stationary, walking, running) may have a class the source
lacks. The class enters the generator only through its one-hot input: the label rows of the
first hidden layer's kernel and of the fixed per-class motion scale. So a generator for the
target's classes is the source generator with those rows re-indexed; a class the source lacks
starts from a *donor*: the source class whose motion scale in the target recordings is closest
(in log ratio) to its own, e.g. walking for running. It is then learned from the target
recordings alone.

The offset head may start afresh (``fresh=ORIENTATION_LAYERS``): orientation is how the target
sensor is worn, which the source cannot tell. The per-class motion scale is re-estimated from the target recordings where there are any: it
carries the target sensor's noise floor and motion energy per axis, which another sensor's data
cannot tell.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from synth.core.windows import Windows
from synth.models.zoo import MIN_SCALE_G, class_scales, get_class_scales, set_class_scales

LABEL_LAYERS = ("hidden0",)  # Dense layers whose kernel rows after the noise rows read the one-hot class
SCALE_LAYER = "class_scale"
# The offset head: where gravity lies in the window, i.e. how the sensor is worn. That is a fact
# of the target's mounting, not of the activity, and the source's (a phone upright at the waist)
# is a prior the target's recordings would have to unlearn.
ORIENTATION_LAYERS = ("orientation_logits", "orientation_centres", "offset_dense")


def choose_donors(source_classes: Sequence[str], source_scales: np.ndarray, target: Windows) -> list[int]:
    """For every class of ``target`` (windows in g), the source class index its label rows start from.

    A class the source has starts from itself; another (it has target windows: it is learned
    from them) from the source class whose motion scale is nearest in log ratio to its own.
    """
    scales = class_scales(target.x, target.y, len(target.classes))
    donors = []
    for k, name in enumerate(target.classes):
        if name in source_classes:
            donors.append(list(source_classes).index(name))
        else:
            distance = np.abs(np.log(np.maximum(source_scales, MIN_SCALE_G) / np.maximum(scales[k], MIN_SCALE_G))).sum(axis=1)
            donors.append(int(distance.argmin()))
    return donors


def transfer_generator(source, generator, noise_dim: int, donors: Sequence[int],
                       target_scales: Optional[np.ndarray] = None, fresh: Sequence[str] = ()):
    """``generator`` (a fresh one of source's architecture for len(donors) classes) given
    ``source``'s weights, its label rows taken from ``donors``; returned.

    target_scales: (K_target, 3) motion scales in g to fix (None keeps the donors' source scales);
    fresh: names of layers that keep ``generator``'s own initial weights (e.g. ORIENTATION_LAYERS).
    """
    index = np.asarray(donors)
    for layer in generator.layers:
        if layer.name in fresh or layer.name == SCALE_LAYER:  # the scale is set below
            continue
        weights = source.get_layer(layer.name).get_weights() if layer.weights else []
        if layer.name in LABEL_LAYERS:
            kernel = weights[0]
            weights[0] = np.concatenate([kernel[:noise_dim], kernel[noise_dim:][index]])
        if weights:
            layer.set_weights(weights)
    set_class_scales(generator, get_class_scales(source)[index] if target_scales is None else target_scales)
    return generator
