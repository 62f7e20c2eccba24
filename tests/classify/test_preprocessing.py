"""ST's gravity rotation + suppression on windows with known gravity and motion."""

import numpy as np
import pytest

from synth.classify.preprocessing import (
    gravity_directions,
    gravity_rotation_suppression,
    gravity_suppressed_magnitude,
    highpass,
    rotate_to_minus_z,
    split_gravity,
)

RATE = 26.0
T = 48


def tilted_gravity(n: int = 4, seed: int = 0) -> np.ndarray:
    """(n, 3) random gravity vectors of 9.81 m/s^2."""
    g = np.random.default_rng(seed).normal(size=(n, 3))
    return 9.81 * g / np.linalg.norm(g, axis=1, keepdims=True)


def test_constant_window_has_no_dynamic_part():
    x = np.repeat(tilted_gravity()[:, None, :], T, axis=1)
    assert np.abs(highpass(x, RATE)).max() < 1e-8
    assert np.abs(gravity_rotation_suppression(x, RATE)).max() < 1e-8


def test_highpass_removes_dc_and_keeps_a_step_frequency_tone():
    t = np.arange(520) / RATE
    tone = np.sin(2 * np.pi * 2.0 * t)  # 2 Hz: a walking step rate, far above the 0.2 Hz cut-off
    x = np.stack([5.0 + tone, -3.0 + 0 * t, 9.81 + 0 * t], axis=-1)[None]
    out = highpass(x, RATE)[0, 260:]  # after the filter has settled on the tone
    assert np.abs(out.mean(axis=0)).max() < 0.05
    assert np.std(out[:, 0]) == pytest.approx(np.std(tone), rel=0.05)


def test_gravity_ends_up_along_minus_z():
    g = tilted_gravity(8)
    directions = gravity_directions(np.repeat(g[:, None, :], T, axis=1))
    rotated = rotate_to_minus_z(directions, directions)
    np.testing.assert_allclose(rotated, np.broadcast_to([0.0, 0.0, -1.0], rotated.shape), atol=1e-12)


@pytest.mark.parametrize("gravity", [[0, 0, 9.81], [0, 0, -9.81]])
def test_gravity_exactly_along_z_gives_a_proper_rotation(gravity):
    directions = gravity_directions(np.array(gravity, float)[None, None])
    v = np.array([[[0.3, -0.7, 0.2]]])
    out = rotate_to_minus_z(v, directions)
    assert np.linalg.norm(out) == pytest.approx(np.linalg.norm(v))
    expected = v if gravity[2] < 0 else v * [1, -1, -1]  # identity, or 180 degrees about x
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_vertical_motion_lands_on_z_after_rotation():
    """A device tilted 90 degrees (gravity on +x) bobbing along gravity: motion must come out on z."""
    t = np.arange(T) / RATE
    bob = 2.0 * np.sin(2 * np.pi * 2.5 * t)
    x = np.stack([9.81 + bob, 0 * t, 0 * t], axis=-1)[None]
    out = gravity_rotation_suppression(x, RATE)[0, 20:]
    assert np.abs(out[:, :2]).max() < 0.05 * np.abs(out[:, 2]).max()


def test_split_gravity_adds_up_and_magnitude_is_rotation_invariant():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, T, 3)) + tilted_gravity(3)[:, None, :]
    dynamic, gravity = split_gravity(x, RATE)
    np.testing.assert_allclose(dynamic + gravity, x)
    magnitude = gravity_suppressed_magnitude(x, RATE)
    assert magnitude.shape == (3, T)
    np.testing.assert_allclose(magnitude, np.linalg.norm(gravity_rotation_suppression(x, RATE), axis=-1), atol=1e-9)


def test_inputs_are_not_modified():
    x = np.random.default_rng(2).normal(size=(2, T, 3))
    before = x.copy()
    gravity_rotation_suppression(x, RATE)
    np.testing.assert_array_equal(x, before)
