"""The conditional WGAN-GP of fine-tuning: the critic judges what the sensor would output, and a
frozen classifier asks every generated window to be recognised as its requested class.

Generated windows pass through the sensor profile (synth.models.sensor_tf: clip and
straight-through quantisation) before the critic or the classifier sees them, and real target
windows were passed through the same profile in NumPy. Both sides are turned into the critic's
representation [offset; gravity; motion] by the same function (``representation_tf``, the TensorFlow
twin of zoo.to_representation), so the critic compares like with like.

Generator loss: -mean critic(generated) + classifier_weight x cross-entropy(classifier(generated),
requested class) + statistics_weight x the per-window statistics distance to the target windows.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import tensorflow as tf

from synth.core.profiles import SensorProfile
from synth.models.sensor_tf import sensor_output_tf
from synth.models.wgan_gp import ConditionalWGANGP
from synth.models.zoo import MIN_SCALE_G, window_representation


class WindowFeedback(Protocol):
    """A frozen classifier's judgement of generated windows (synth.classify.feedback.ClassifierFeedback)."""

    def cross_entropy(self, x_g: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        """Mean -log p(target) over windows x_g (B, T, 3) in g with target (B,) int output indices."""


def representation_tf(x_g: tf.Tensor, label: tf.Tensor, scales_g: np.ndarray) -> tf.Tensor:
    """Windows (B, T, 3) g, one-hot labels (B, K) -> [offset / OFFSET_UNIT_G; gravity row; motion / scale] (B, 2 + T, 3)."""
    scale = tf.matmul(label, tf.constant(np.maximum(scales_g, MIN_SCALE_G), tf.float32))[:, None, :]
    return window_representation(x_g, scale)


class FeedbackWGANGP(ConditionalWGANGP):
    """ConditionalWGANGP judged through a sensor profile, with a frozen classifier's feedback.

    targets: (K,) the classifier's output index for each generator class; scales_g: (K, 3) the
    generator's per-class motion scales, used for the representation of both sides.
    """

    extra_metrics = ("classifier_ce",)

    def __init__(self, generator, critic, noise_dim: int, profile: SensorProfile, feedback: WindowFeedback,
                 targets: np.ndarray, scales_g: np.ndarray, classifier_weight: float = 1.0, **kwargs):
        super().__init__(generator, critic, noise_dim, **kwargs)
        self.profile, self.feedback = profile, feedback
        self.targets = tf.constant(targets, tf.int32)
        self.scales_g = np.asarray(scales_g, np.float32)
        self.classifier_weight = float(classifier_weight)

    def sensor_windows(self, label, training: bool = True):
        """Freshly generated windows of ``label`` as the sensor outputs them, (B, T, 3) g."""
        windows = self.generator([self._noise(tf.shape(label)[0]), label], training=training)
        return sensor_output_tf(windows, self.profile)

    def generated(self, label, training: bool = True):
        return representation_tf(self.sensor_windows(label, training), label, self.scales_g)

    def generator_objective(self, label, real):
        windows = self.sensor_windows(label)
        fake = representation_tf(windows, label, self.scales_g)
        adversarial = -tf.reduce_mean(self.critic([fake, label], training=True))
        requested = tf.gather(self.targets, tf.argmax(label, axis=-1, output_type=tf.int32))
        cross_entropy = self.feedback.cross_entropy(windows, requested)
        loss = adversarial + self.classifier_weight * cross_entropy
        return self.with_statistics(loss, {"generator_loss": adversarial, "classifier_ce": cross_entropy}, fake, real, label)

    def critic_distances(self, real, label):
        """Per-window critic gap: score(real) - score(generated) (B,), both of classes ``label``."""
        fake = self.generated(label, training=False)
        return self.critic([real, label], training=False)[:, 0] - self.critic([fake, label], training=False)[:, 0]


class AnchoredFeedback(FeedbackWGANGP):
    """Fine-tuning without target windows (K = 0): the classifier's feedback only, anchored.

    No critic can judge without target windows, and a generator pushed by a classifier alone
    drifts towards whatever that classifier accepts, realistic or not. So the adversarial term
    is replaced by anchor_weight x the mean squared distance, in the critic's representation,
    between the generator's windows and those of ``anchor`` (a frozen copy of the start
    generator) for the same noise and class, both through the sensor profile. One fact holds
    for every accelerometer and needs no target window: averaged over a window, the body's
    acceleration is about zero, so a window's offset is gravity, 1 g long. gravity_weight x the
    mean square of the gravity row ((|offset| - 1 g) / GRAVITY_UNIT_G) holds the generator to it
    (the anchor's distance leaves that row out, so the two do not pull against each other).
    Each dataset element is a batch of one-hot labels (B, K); one element is one generator step.
    """

    extra_metrics = ("classifier_ce", "anchor", "gravity")

    def __init__(self, *args, anchor, anchor_weight: float = 1.0, gravity_weight: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.anchor = anchor
        self.anchor.trainable = False
        self.anchor_weight = float(anchor_weight)
        self.gravity_weight = float(gravity_weight)

    def train_step(self, data):
        values = self._generator_update(data)
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: self.trackers[name].result() for name in values}

    def generator_objective(self, label, real=None):
        noise = self._noise(tf.shape(label)[0])
        windows = sensor_output_tf(self.generator([noise, label], training=True), self.profile)
        reference = sensor_output_tf(self.anchor([noise, label], training=False), self.profile)
        mine = representation_tf(windows, label, self.scales_g)
        theirs = representation_tf(reference, label, self.scales_g)
        keep = tf.constant([[1.0], [0.0]] + [[1.0]] * (mine.shape[1] - 2))  # every row but the gravity row
        anchor = tf.reduce_mean(tf.square(mine - theirs) * keep)
        gravity = tf.reduce_mean(tf.square(mine[:, 1, 0]))
        requested = tf.gather(self.targets, tf.argmax(label, axis=-1, output_type=tf.int32))
        cross_entropy = self.feedback.cross_entropy(windows, requested)
        loss = self.anchor_weight * anchor + self.gravity_weight * gravity + self.classifier_weight * cross_entropy
        return loss, {"generator_loss": loss, "classifier_ce": cross_entropy, "anchor": anchor, "gravity": gravity}
