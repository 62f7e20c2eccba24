"""Generator and critic builders, the gradient penalty and one WGAN-GP step."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from synth.core.errors import ConfigError
from synth.models.wgan_gp import ConditionalWGANGP
from synth.models.zoo import build_critic, build_generator, orientation_centres, representation_model, to_representation

N_CLASSES = 3
NOISE_DIM = 8
# layers the microcontroller interpreter can run once quantised (UpSampling would become TILE)
MCU_SAFE = {"InputLayer", "Dense", "Conv1D", "Conv1DTranspose", "LeakyReLU", "Activation", "Reshape",
            "Concatenate", "Add", "Multiply", "Rescaling", "Softmax"}


def tiny_generator(window: int = 24):
    return build_generator(window, N_CLASSES, NOISE_DIM, 8)


def tiny_critic(window: int = 24):
    return build_critic(window, N_CLASSES, 8)


def one_hot(labels) -> tf.Tensor:
    return tf.constant(np.eye(N_CLASSES, dtype=np.float32)[np.asarray(labels)])


def tiny_wgan(critic=None, n_critic: int = 2) -> ConditionalWGANGP:
    model = ConditionalWGANGP(tiny_generator(), critic or tiny_critic(), NOISE_DIM, n_critic=n_critic, seed=1)
    model.compile(keras.optimizers.Adam(1e-3, 0.0, 0.9), keras.optimizers.Adam(1e-3, 0.0, 0.9))
    return model


@pytest.mark.parametrize("window", [24, 26, 48])
def test_output_shapes(window):
    generator, inputs = tiny_generator(window), [tf.zeros((5, NOISE_DIM)), one_hot([0, 1, 2, 0, 1])]
    assert tuple(generator(inputs).shape) == (5, window, 3)
    representation = representation_model(generator)(inputs)  # what the critic judges: [offset; gravity; motion]
    assert tuple(representation.shape) == (5, 2 + window, 3)
    assert tuple(tiny_critic(window)([representation, inputs[1]]).shape) == (5, 1)


def test_generator_uses_only_mcu_safe_layers():
    kinds = {type(layer).__name__ for layer in tiny_generator().layers}
    assert kinds <= MCU_SAFE, kinds - MCU_SAFE
    assert not any("UpSampling" in kind for kind in kinds)


def test_orientation_centres_are_1g_long_and_cover_every_axis_direction():
    centres = orientation_centres(4.0) * 4.0
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1.0, atol=1e-6)
    for axis in np.concatenate([np.eye(3), -np.eye(3)]):
        assert np.any(np.all(np.isclose(centres, axis), axis=1))
    assert len(np.unique(np.round(centres, 6), axis=0)) == len(centres)


def test_a_sharp_orientation_choice_gives_a_1g_offset():
    """With the choice logits forced onto one centre and no tilt, the window's mean is that centre in g."""
    generator = tiny_generator()
    logits = generator.get_layer("orientation_logits")
    kernel, bias = logits.get_weights()
    bias[:] = -100.0
    bias[5] = 100.0  # the sixth centre: -z
    logits.set_weights([np.zeros_like(kernel), bias])
    tilt = generator.get_layer("offset_dense")
    tilt.set_weights([np.zeros_like(w) for w in tilt.get_weights()])
    for name in ("motion", "vertical"):
        layer = generator.get_layer(name)
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    windows = generator([tf.random.normal((4, NOISE_DIM)), one_hot([0, 1, 2, 0])]).numpy()
    np.testing.assert_allclose(windows, np.broadcast_to([0.0, 0.0, -1.0], windows.shape), atol=1e-5)


def test_vertical_motion_acts_along_gravity():
    """Without free motion, every sample's motion is parallel to the window's offset (an impact along gravity)."""
    generator = tiny_generator()
    free = generator.get_layer("motion")
    free.set_weights([np.zeros_like(w) for w in free.get_weights()])
    inputs = [tf.constant(np.random.default_rng(1).normal(size=(6, NOISE_DIM)), tf.float32), one_hot([0, 1, 2, 0, 1, 2])]
    windows = generator(inputs).numpy()  # the class scales are still 1 on every axis
    gravity = keras.Model(generator.inputs, generator.get_layer("offset_g").output)(inputs).numpy()
    motion = windows - gravity
    assert np.abs(motion).max() > 1e-4
    np.testing.assert_allclose(np.cross(motion, np.broadcast_to(gravity, motion.shape)), 0.0, atol=1e-5)


def test_the_critic_judges_generated_windows_as_it_judges_real_ones():
    generator = tiny_generator()
    inputs = [tf.random.normal((5, NOISE_DIM)), one_hot([0, 1, 2, 0, 1])]
    windows = generator(inputs).numpy()
    scales = generator.get_layer("class_scale").get_weights()[0]
    expected = to_representation(windows, np.array([0, 1, 2, 0, 1]), scales)
    np.testing.assert_allclose(representation_model(generator)(inputs).numpy(), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("window", [2, 7])
def test_window_too_short_for_the_critic_is_a_config_error(window):
    with pytest.raises(ConfigError, match=f"window length {window} is too short"):
        tiny_generator(window)
    with pytest.raises(ConfigError):
        tiny_critic(window)


def test_generator_output_depends_on_class():
    noise = tf.random.stateless_normal((3, NOISE_DIM), seed=(1, 2))
    generator = tiny_generator()
    first = generator([noise, one_hot([0, 0, 0])]).numpy()
    assert not np.allclose(first, generator([noise, one_hot([1, 1, 1])]).numpy())


class LinearCritic:
    """D(x, c) = <w, x>: its gradient is w at every point, so its penalty is (||w|| - 1)^2.

    It records every input so that the interpolation weights can be read back.
    """

    def __init__(self, w: np.ndarray):
        self.w = tf.constant(w, tf.float32)
        self.inputs = []

    def __call__(self, inputs, training=False):
        self.inputs.append(inputs[0])
        return tf.reduce_sum(inputs[0] * self.w, axis=[1, 2])[:, None]


def penalty_and_mixed(batch: int, w: np.ndarray):
    critic = LinearCritic(w)
    model = ConditionalWGANGP(tiny_generator(), critic, NOISE_DIM, seed=1)
    real, fake = np.ones((batch, 24, 3), np.float32), np.zeros((batch, 24, 3), np.float32)
    penalty = model._gradient_penalty(tf.constant(real), tf.constant(fake), one_hot(np.zeros(batch, int)))
    return float(penalty), critic.inputs[-1].numpy()


def test_gradient_penalty_of_a_linear_critic_is_norm_minus_one_squared():
    w = np.random.default_rng(0).standard_normal((24, 3)) * 0.2
    penalty, _ = penalty_and_mixed(16, w)
    assert penalty == pytest.approx((np.linalg.norm(w) - 1.0) ** 2, rel=1e-5)


def test_gradient_penalty_interpolates_with_one_uniform_weight_per_sample():
    _, mixed = penalty_and_mixed(4000, np.ones((24, 3)))
    alpha = mixed[:, 0, 0]  # real = 1, fake = 0: the mix is alpha itself
    np.testing.assert_array_equal(mixed, np.broadcast_to(alpha[:, None, None], mixed.shape))
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert alpha.mean() == pytest.approx(0.5, abs=0.03) and alpha.var() == pytest.approx(1 / 12, abs=0.01)


def test_one_train_step_updates_both_networks():
    model = tiny_wgan()
    before = [w.numpy().copy() for w in (*model.generator.weights, *model.critic.weights)]
    rng = np.random.default_rng(0)
    reals = rng.normal(0, 1, (2 * 8, 2 + 24, 3)).astype(np.float32)  # n_critic batches of representations
    metrics = model.train_step((tf.constant(reals), one_hot(rng.integers(0, N_CLASSES, 16))))
    assert set(metrics) == {"critic_loss", "generator_loss", "gradient_penalty", "wasserstein", "statistics"}
    n_generator = len(model.generator.weights)
    after = [w.numpy() for w in (*model.generator.weights, *model.critic.weights)]
    changed = [not np.array_equal(b, a) for b, a in zip(before, after)]
    assert any(changed[:n_generator]) and any(changed[n_generator:])
