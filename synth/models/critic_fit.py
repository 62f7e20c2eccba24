"""Critic-only training and the critic's distance per class, for a ConditionalWGANGP or subclass.

Used to warm a fresh critic up before fine-tuning, and to measure a generator with a fresh
evaluation critic: after training, mean critic(real) - mean critic(generated) estimates the
Wasserstein-1 distance between the two (the gradient penalty keeps the critic close to
1-Lipschitz), so it can be compared between generators judged by equally trained critics.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from synth.core.windows import Windows
from synth.models.zoo import to_representation

DISTANCE_BATCH = 1024


def fit_critic(model, dataset: tf.data.Dataset) -> int:
    """Run ``model.n_critic`` critic updates per element of ``dataset``; returns the elements used.

    Elements are (representations (n_critic * B, 2 + T, 3), one-hot labels (n_critic * B, K)),
    as synth.models.training.make_dataset makes them; the generator is not updated.
    """
    n_critic = model.n_critic

    @tf.function(jit_compile=True)
    def step(reals, labels):
        batch = tf.shape(reals)[0] // n_critic
        for i in range(n_critic):
            model.critic_update(reals[i * batch : (i + 1) * batch], labels[i * batch : (i + 1) * batch])

    used = 0
    for reals, labels in dataset:
        step(reals, labels)
        used += 1
    return used


def critic_distance_per_class(model, real: Windows, scales_g: np.ndarray) -> list[float]:
    """Mean critic gap score(real) - score(generated) per class (K,), over every real window of it.

    real: windows in g of the model's classes (as the critic's training data saw them);
    generated windows are drawn fresh, with the same labels, by ``model.critic_distances``.
    """
    representation = to_representation(real.x, real.y, scales_g)
    labels = np.eye(len(real.classes), dtype=np.float32)[real.y]
    gaps = np.concatenate([
        model.critic_distances(tf.constant(representation[i : i + DISTANCE_BATCH]), tf.constant(labels[i : i + DISTANCE_BATCH])).numpy()
        for i in range(0, len(real), DISTANCE_BATCH)
    ])
    return [float(gaps[real.y == k].mean()) if (real.y == k).any() else float("nan") for k in range(len(real.classes))]
