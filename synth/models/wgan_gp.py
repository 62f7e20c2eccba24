"""The conditional WGAN-GP (Gulrajani et al. 2017) as a keras.Model with its own train_step.

One call of ``train_step`` is one generator update after ``n_critic`` critic updates, each on
its own real batch, so ``fit()`` counts generator steps and brings callbacks, progress and
checkpoints. Faithful to the paper: interpolation weight ~ U[0, 1] per sample, gradient
penalty lambda * (||grad D(x_hat)|| - 1)^2 with a small epsilon inside the square root, and
Adam(1e-4, beta1 = 0, beta2 = 0.9) set by the caller.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from synth.models.window_statistics import random_directions, representation_statistics, sliced_wasserstein
from synth.models.zoo import representation_model

NORM_EPSILON = 1e-12  # keeps the gradient of sqrt finite when a gradient is exactly zero


class ConditionalWGANGP(keras.Model):
    """Trains ``generator`` and ``critic`` (see synth.models.zoo) adversarially.

    The critic judges the generator's representation [offset; gravity; motion] (zoo.representation_model),
    not raw g. Each dataset element is (real representations (n_critic * B, 2 + T, 3), one-hot
    labels (n_critic * B, K)): one element feeds all critic updates of one generator step.
    Generated windows use the labels of the real batch, so the critic compares like with like
    per class; the generator's step generates for every label of the element (n_critic * B). ``generator`` (raw g output) shares every weight with the representation.
    Subclasses change what is judged by overriding ``generated`` and ``generator_objective``.

    ``statistics_weight`` adds to the generator's loss that weight x the sliced Wasserstein
    distance between the per-window statistics (synth.models.window_statistics: orientation,
    gravity, impact, energy, texture) of its windows and of the real batch, class by class; the
    distance is tracked as "statistics" whatever the weight.
    """

    extra_metrics: tuple[str, ...] = ()  # tracker names a subclass's generator_objective adds
    projections = 32  # random directions of the sliced Wasserstein distance per generator step

    def __init__(self, generator, critic, noise_dim: int, n_critic: int = 5, gp_weight: float = 10.0, seed: int = 0,
                 statistics_weight: float = 0.0):
        super().__init__()
        self.generator = generator
        self.representation = representation_model(generator)
        self.critic = critic
        self.noise_dim = noise_dim
        self.n_critic = n_critic
        self.gp_weight = gp_weight
        self.statistics_weight = float(statistics_weight)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("critic_loss", "generator_loss", "gradient_penalty", "wasserstein", "statistics",
                                                                *self.extra_metrics)}

    def compile(self, generator_optimizer, critic_optimizer, **kwargs):
        super().compile(**kwargs)
        self.generator_optimizer = generator_optimizer
        self.critic_optimizer = critic_optimizer

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs):
        return self.generator(inputs)  # windows in g

    def train_step(self, data):
        reals, labels = data
        batch = tf.shape(reals)[0] // self.n_critic
        for i in range(self.n_critic):
            real = reals[i * batch : (i + 1) * batch]
            label = labels[i * batch : (i + 1) * batch]
            critic_loss, penalty, distance = self.critic_update(real, label)
        generator_values = self._generator_update(labels, reals)  # every real window of the element: a steadier statistics distance
        values = {"critic_loss": critic_loss, "gradient_penalty": penalty, "wasserstein": distance, **generator_values}
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def _noise(self, batch):
        """Latent noise (B, noise_dim) ~ N(0, 1) from the model's seeded stream."""
        return keras.random.normal((batch, self.noise_dim), seed=self.seed_generator)

    def generated(self, label, training: bool = True):
        """What the critic judges of freshly generated windows of ``label`` (B, 2 + T, 3)."""
        return self.representation([self._noise(tf.shape(label)[0]), label], training=training)

    def generator_objective(self, label, real):
        """(loss to minimise, {tracker name: value}) of one generator step on classes ``label``,
        beside the real representations ``real`` (B, 2 + T, 3) of those classes."""
        fake = self.generated(label)
        adversarial = -tf.reduce_mean(self.critic([fake, label], training=True))
        return self.with_statistics(adversarial, {"generator_loss": adversarial}, fake, real, label)

    def with_statistics(self, loss, values: dict, fake, real, label):
        """``loss`` plus statistics_weight x the statistics distance of representations ``fake`` and ``real``
        (both (B, 2 + T, 3), classes ``label``); ``values`` gains the distance as "statistics"."""
        scale = self.generator.get_layer("class_scale")(label)
        generated_statistics = representation_statistics(fake, scale)
        directions = random_directions(self.projections, generated_statistics.shape[-1], self.seed_generator)
        distance = sliced_wasserstein(generated_statistics, representation_statistics(real, scale), label, directions)
        return loss + self.statistics_weight * distance, {**values, "statistics": distance}

    def critic_update(self, real, label):
        """One critic step; returns (loss, gradient penalty, critic's Wasserstein estimate)."""
        fake = self.generated(label)
        with tf.GradientTape() as tape:
            real_score = self.critic([real, label], training=True)
            fake_score = self.critic([fake, label], training=True)
            distance = tf.reduce_mean(real_score) - tf.reduce_mean(fake_score)
            penalty = self._gradient_penalty(real, fake, label)
            loss = -distance + self.gp_weight * penalty
        grads = tape.gradient(loss, self.critic.trainable_variables)
        self.critic_optimizer.apply_gradients(zip(grads, self.critic.trainable_variables))
        return loss, penalty, distance

    def _gradient_penalty(self, real, fake, label):
        """E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = a * real + (1 - a) * fake, a ~ U[0, 1] per sample."""
        alpha = keras.random.uniform((tf.shape(real)[0], 1, 1), seed=self.seed_generator)
        mixed = alpha * real + (1.0 - alpha) * fake
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            score = self.critic([mixed, label], training=True)
        grads = tape.gradient(score, mixed)
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2]) + NORM_EPSILON)
        return tf.reduce_mean(tf.square(norm - 1.0))

    def _generator_update(self, label, real=None):
        """One generator step on ``generator_objective``; returns its tracked values."""
        with tf.GradientTape() as tape:
            loss, values = self.generator_objective(label, real)
        grads = tape.gradient(loss, self.generator.trainable_variables)
        self.generator_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))
        return values
