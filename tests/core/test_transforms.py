"""Pure transforms: unit conversions, resampling, the sensor chain and apply_profile."""

from dataclasses import replace

import numpy as np
import pytest

from synth.core.profiles import load_profile
from synth.core.transforms import (
    STANDARD_GRAVITY,
    add_gravity,
    add_noise,
    add_zero_g_offset,
    apply_profile,
    clip_full_scale,
    g_to_mg,
    g_to_ms2,
    lsb_to_g,
    lsb_to_mg,
    mg_to_g,
    ms2_to_g,
    noise_sigma_g,
    quantise_lsb,
    resample,
    rotate,
)

QUARTER_TURN_Z = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=float)  # +90 degrees about z


def _windows(n: int = 50, t: int = 24, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 3.0, (n, t, 3)).astype(np.float32)


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values**2)))


def test_unit_conversions():
    assert ms2_to_g(9.80665) == pytest.approx(1.0)
    assert g_to_ms2(np.array([1.0, -2.0])) == pytest.approx([STANDARD_GRAVITY, -2 * STANDARD_GRAVITY])
    assert g_to_mg(0.5) == 500.0 and mg_to_g(250.0) == 0.25
    assert lsb_to_mg(np.array([1000], np.int16), 0.122)[0] == pytest.approx(122.0)
    assert lsb_to_g(np.array([-32768], np.int16), 0.061)[0] == pytest.approx(-1.998848)


def test_resample_keeps_2hz_and_suppresses_20hz():
    t = np.arange(0, 20, 0.01)  # 20 s at 100 Hz
    slow = np.sin(2 * np.pi * 2 * t)[:, None]
    fast = np.sin(2 * np.pi * 20 * t)[:, None]  # above the 13 Hz Nyquist rate of 26 Hz
    out_slow, out_fast = resample(slow, 100, 26), resample(fast, 100, 26)
    assert out_slow.shape == (520, 1)
    middle = slice(50, -50)  # away from the filter's edge transients
    assert _rms(out_slow[middle]) == pytest.approx(_rms(slow), rel=0.02)
    assert _rms(out_fast[middle]) < 0.01 * _rms(fast)


def test_rotate_quarter_turn():
    x = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.5]]])
    np.testing.assert_allclose(rotate(x, QUARTER_TURN_Z), [[[0, 1, 0], [-1, 0, 0.5]]], atol=1e-12)
    with pytest.raises(ValueError, match="3x3"):
        rotate(x, np.eye(2))


def test_add_gravity_along_a_unit_vector():
    x = np.zeros((2, 4, 3))
    np.testing.assert_allclose(add_gravity(x)[..., 2], 1.0)
    tilted = add_gravity(x, direction=(1.0, 0.0, 1.0))  # normalised: 1 g in total
    np.testing.assert_allclose(np.linalg.norm(tilted, axis=-1), 1.0)
    with pytest.raises(ValueError, match="non-zero"):
        add_gravity(x, direction=(0.0, 0.0, 0.0))


def test_noise_std_matches_density_times_root_half_odr():
    sigma = noise_sigma_g(90.0, 104.0)
    assert sigma == pytest.approx(90e-6 * np.sqrt(52.0))
    noisy = add_noise(np.zeros((400, 100, 3), np.float32), 90.0, 104.0, np.random.default_rng(1))
    assert noisy.std() == pytest.approx(sigma, rel=0.01)  # 120,000 draws: std error about 0.2 %
    assert abs(noisy.mean()) < 5 * sigma / np.sqrt(noisy.size)


def test_zero_g_offset_is_constant_per_window_and_within_bounds():
    offset = add_zero_g_offset(np.zeros((500, 24, 3), np.float32), 40.0, np.random.default_rng(2))
    assert np.all(np.abs(offset) <= 0.040)
    np.testing.assert_array_equal(offset, np.broadcast_to(offset[:, :1, :], offset.shape))
    per_window = offset[:, 0, :]
    assert per_window.max() > 0.035 and per_window.min() < -0.035  # uses the whole +-40 mg
    assert np.unique(per_window).size == per_window.size  # independent per window and axis


def test_clip_full_scale():
    np.testing.assert_array_equal(clip_full_scale(np.array([-7.0, -6.0, 0.1, 6.0, 9.0]), 6.0), [-6, -6, 0.1, 6, 6])


def test_quantise_edges_on_the_4g_profile():
    codes = quantise_lsb(np.array([4.0, 4.5, 100.0, -4.0, -4.5, 0.0, 0.000122, -0.000244]), 0.122, 4.0)
    assert codes.dtype == np.int16
    np.testing.assert_array_equal(codes, [32767, 32767, 32767, -32768, -32768, 0, 1, -2])
    assert codes[[0, 3]].astype("<i2").tobytes() == b"\xff\x7f\x00\x80"


def test_quantise_saturates_at_the_software_clip_code():
    codes = quantise_lsb(np.array([6.0, 7.9, -6.0, -8.0]), 0.244, 6.0)
    np.testing.assert_array_equal(codes, [24590, 24590, -24590, -24590])


def test_quantise_rounds_half_to_even():
    # 1000 / 1024 mg per code makes every half code exact in binary
    halves = np.array([0.5, 1.5, 2.5, -0.5, -1.5]) / 1024
    np.testing.assert_array_equal(quantise_lsb(halves, 1000 / 1024, 1.0), [0, 2, 2, 0, -2])


def test_quantise_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        quantise_lsb(np.array([0.0, np.nan]), 0.122, 4.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lsb_to_g_to_lsb_round_trip_is_exact(dtype):
    every_code = np.arange(-32768, 32768).astype(np.int16)
    for sensitivity, full_scale in [(0.061, 2.0), (0.122, 4.0), (0.244, 8.0), (0.488, 16.0)]:
        back = quantise_lsb(lsb_to_g(every_code, sensitivity, dtype), sensitivity, full_scale)
        np.testing.assert_array_equal(back, every_code)


def test_apply_profile_matches_clip_then_quantise():
    profile = load_profile("lsm6dsl_6g")
    x = _windows()
    x_q, lsb = apply_profile(x, profile)
    assert x_q.dtype == np.float32 and lsb.dtype == np.int16 and lsb.shape == x.shape
    np.testing.assert_array_equal(lsb, quantise_lsb(np.clip(x, -6, 6), 0.244, 6.0))
    assert np.abs(lsb).max() == 24590
    np.testing.assert_allclose(x_q, lsb * 0.000244, rtol=1e-6)
    assert np.all(np.abs(x_q - np.clip(x, -6, 6)) <= 0.000122 + 1e-6)  # within half a code


def test_apply_profile_rotates_by_the_mounting():
    profile = load_profile("lsm6dsl_4g")
    mounted = replace(profile, mounting=tuple(map(tuple, QUARTER_TURN_Z)))
    x = np.zeros((1, 2, 3), np.float32)
    x[0, :, 0] = 1.0  # 1 g along the body's x axis
    _, lsb = apply_profile(x, mounted)
    np.testing.assert_array_equal(lsb[0, 0], [0, 8197, 0])  # reads on the sensor's y axis


def test_apply_profile_noise_and_offset_are_seeded():
    profile = load_profile("lsm6dsl_2g")
    x = np.zeros((20, 24, 3), np.float32)
    first = apply_profile(x, profile, np.random.default_rng(3), add_noise=True, add_offset=True)
    again = apply_profile(x, profile, np.random.default_rng(3), add_noise=True, add_offset=True)
    np.testing.assert_array_equal(first[1], again[1])
    assert np.abs(first[0]).max() <= 0.040 + 6 * noise_sigma_g(90, 26)
    with pytest.raises(ValueError, match="rng"):
        apply_profile(x, profile, add_noise=True)


def test_inputs_are_never_modified():
    x = _windows()
    before = x.copy()
    rng = np.random.default_rng(4)
    rotate(x, QUARTER_TURN_Z), add_gravity(x), add_noise(x, 90, 26, rng), add_zero_g_offset(x, 40, rng)
    clip_full_scale(x, 2.0), quantise_lsb(x, 0.061, 2.0), resample(x, 100, 26)
    apply_profile(x, load_profile("lsm6dsl_2g"), rng, add_noise=True, add_offset=True)
    np.testing.assert_array_equal(x, before)


def test_random_orientations_turn_each_window_rigidly_and_reproducibly():
    from synth.core.transforms import random_orientations

    x = np.random.default_rng(0).normal(size=(200, 12, 3)).astype(np.float32)
    turned = random_orientations(x, np.random.default_rng(1))
    np.testing.assert_allclose(np.linalg.norm(turned, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-5)
    # one rotation per window: inner products between samples of a window are kept
    np.testing.assert_allclose(np.einsum("ntc,nsc->nts", turned, turned), np.einsum("ntc,nsc->nts", x, x), atol=1e-4)
    np.testing.assert_array_equal(turned, random_orientations(x, np.random.default_rng(1)))
    # gravity of a face-up board ends up anywhere: every direction about equally often
    up = np.zeros((3000, 1, 3), np.float32)
    up[..., 2] = 1.0
    directions = random_orientations(up, np.random.default_rng(2))[:, 0]
    assert np.all(np.abs(directions.mean(axis=0)) < 0.05)
