"""Pieces of a WGAN-GP training run: determinism, model assembly, the data stream, checkpoints."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from synth.core.config import Config
from synth.core.windows import Windows
from synth.models.checkpoint import build_optimizers, save_checkpoint
from synth.models.wgan_gp import ConditionalWGANGP
from synth.models.zoo import build_critic, build_generator, class_scales, set_class_scales, to_representation


def enable_determinism(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras.

    TensorFlow's op-determinism switch is deliberately not used: Keras turns XLA off under it,
    which costs a third of the training speed. The XLA CPU kernels of these models are
    deterministic for fixed shapes, every random draw comes from a seeded stream and the data
    order is fixed by the seed, so the same seed and data give the same weights (tested).
    """
    keras.utils.set_random_seed(seed)


def build_wgan(config: Config, windows: Windows, full_scale_g: float) -> ConditionalWGANGP:
    """The compiled ConditionalWGANGP for ``config`` and real ``windows`` in g (their per-class
    motion scales are fixed into the generator); XLA-compiled steps, optimizers built."""
    m, t = config.model, config.train
    n_classes, window = len(windows.classes), windows.length
    generator = build_generator(window, n_classes, m.noise_dim, m.generator_units, full_scale_g)
    set_class_scales(generator, class_scales(windows.x, windows.y, n_classes))
    model = ConditionalWGANGP(
        generator,
        build_critic(window, n_classes, m.critic_filters),
        noise_dim=m.noise_dim, n_critic=t.n_critic, gp_weight=t.gp_weight, seed=config.seed,
        statistics_weight=t.statistics_weight,
    )
    model.compile(adam(t), adam(t), jit_compile=True, steps_per_execution=min(t.steps_per_epoch, 50))
    build_optimizers(model)
    return model


def adam(train) -> keras.optimizers.Adam:
    """Adam with the train section's learning rate and betas (one per network: each keeps its own moments)."""
    return keras.optimizers.Adam(train.learning_rate, beta_1=train.beta_1, beta_2=train.beta_2)


def make_dataset(windows: Windows, scales_g: np.ndarray, element_size: int, seed: int) -> tf.data.Dataset:
    """Endless stream of (representations (element_size, 2 + T, 3), one-hot labels (element_size, K)).

    Windows in g become the critic's representation (zoo.to_representation) once, up front.
    Shuffled with a fixed seed and reshuffled every pass, so the element at position k is the
    same in every run with this seed: a resumed run skips the elements it has already used.
    """
    labels = np.eye(len(windows.classes), dtype=np.float32)[windows.y]
    real = to_representation(windows.x, windows.y, scales_g)
    dataset = tf.data.Dataset.from_tensor_slices((real, labels))
    dataset = dataset.shuffle(len(windows), seed=seed, reshuffle_each_iteration=True).repeat()
    return dataset.batch(element_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


class CheckpointEvery(keras.callbacks.Callback):
    """Save a training checkpoint at the end of every epoch that reaches a multiple of ``every`` steps."""

    def __init__(self, folder: Path, every: int, steps_per_epoch: int):
        super().__init__()
        self.folder, self.every, self.steps_per_epoch = Path(folder), every, steps_per_epoch

    def on_epoch_end(self, epoch, logs=None):
        step = self._step()
        if step // self.every > (step - self.steps_per_epoch) // self.every:  # crossed a multiple of every
            save_checkpoint(self.folder, self.model, step)

    def on_train_end(self, logs=None):
        save_checkpoint(self.folder, self.model, self._step())

    def _step(self) -> int:
        """Generator steps done so far: the generator optimizer counts exactly one per train_step."""
        return int(self.model.generator_optimizer.iterations.numpy())


def make_label_dataset(n_classes: int, batch_size: int, seed: int) -> tf.data.Dataset:
    """Endless stream of one-hot labels (batch_size, n_classes), every class equally often, in a seeded order.

    What a generator-only step (fine-tuning without target windows) trains on.
    """
    labels = np.eye(n_classes, dtype=np.float32)[np.arange(n_classes * batch_size) % n_classes]
    dataset = tf.data.Dataset.from_tensor_slices(labels).shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return dataset.repeat().batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
