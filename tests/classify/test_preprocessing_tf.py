"""The TensorFlow gravity rotation + suppression matches the NumPy reference and passes gradients."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from synth.classify.preprocessing import ST_G_TO_MS2, gravity_rotation_suppression  # noqa: E402
from synth.classify.preprocessing_tf import GravityRotationSuppression, gravity_rotation_suppression_tf  # noqa: E402

TOLERANCE_MS2 = 1e-4


@pytest.fixture(scope="module")
def real_windows_ms2() -> np.ndarray:
    """Every 48-sample window of the shipped ST recordings (stationary, walking, running), m/s^2."""
    from synth.data.st_har import load_st_har

    return (load_st_har(window=48, stride=48).x * ST_G_TO_MS2).astype(np.float32)


def constant(vector, length: int = 24) -> np.ndarray:
    """One window (1, length, 3) float32 holding the same sample throughout."""
    return np.tile(np.asarray(vector, np.float32), (1, length, 1))


EDGE_CASES = {
    "zero window (no gravity at all)": constant([0.0, 0.0, 0.0]),
    "gravity exactly along +z": constant([0.0, 0.0, 9.8]),
    "gravity exactly along -z": constant([0.0, 0.0, -9.8]),
    "tilted constant window": constant([1.0, -2.0, 9.0]),
    "step along +z": np.concatenate([constant([0.0, 0.0, 9.8], 12), constant([0.0, 0.0, 19.6], 12)], axis=1),
    "short window of 4 samples": np.random.default_rng(1).normal(0.0, 3.0, (2, 4, 3)).astype(np.float32),
}


def test_tf_matches_numpy_on_real_windows(real_windows_ms2):
    expected = gravity_rotation_suppression(real_windows_ms2)
    got = gravity_rotation_suppression_tf(real_windows_ms2).numpy()
    assert got.dtype == np.float32 and got.shape == real_windows_ms2.shape
    assert np.abs(got - expected).max() < TOLERANCE_MS2


@pytest.mark.parametrize("name", EDGE_CASES)
def test_tf_matches_numpy_on_edge_cases(name):
    x = EDGE_CASES[name]
    got = gravity_rotation_suppression_tf(x).numpy()
    assert np.isfinite(got).all()
    assert np.abs(got - gravity_rotation_suppression(x)).max() < TOLERANCE_MS2


def gradient(x: np.ndarray) -> np.ndarray:
    """d/dx of the sum of squares of the preprocessed windows."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(tf.square(gravity_rotation_suppression_tf(x)))
    return tape.gradient(loss, x).numpy()


def test_gradients_are_finite_and_non_zero_on_real_windows(real_windows_ms2):
    grad = gradient(real_windows_ms2[::50])
    assert np.isfinite(grad).all()
    assert np.abs(grad).max() > 1e-3


@pytest.mark.parametrize("name", EDGE_CASES)
def test_gradients_stay_finite_on_edge_cases(name):
    assert np.isfinite(gradient(EDGE_CASES[name])).all()


def test_keras_layer_takes_st_layout_and_runs_in_a_tf_function(real_windows_ms2):
    layer = GravityRotationSuppression()
    x = real_windows_ms2[:8, :, :, None]
    out = tf.function(layer)(x).numpy()
    assert out.shape == x.shape
    assert np.abs(out[..., 0] - gravity_rotation_suppression(x[..., 0])).max() < TOLERANCE_MS2
