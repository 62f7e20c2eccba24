"""What the fault statistics of synth.anomaly.window_features respond to, on synthetic windows quantised at the
LSM6DSL's 4 g LSB: a board lying still (noise of a few LSB) and a gait (a 1.8 Hz swing of 0.3 g per axis)."""

from __future__ import annotations

import numpy as np
import pytest

from synth.anomaly.fault_rule import levels
from synth.anomaly.window_features import FEATURES, LOG, MAX_SAMPLES, motion_level, window_features

T, RATE_HZ, LSB_G, FULL_SCALE_G, COUNT = 48, 26.0, 0.122e-3, 4.0, 100


def _quantised(x: np.ndarray) -> np.ndarray:
    return (np.round(x / LSB_G) * LSB_G).astype(np.float32)


@pytest.fixture(scope="module")
def still() -> np.ndarray:
    """COUNT windows of a board lying still: gravity and 2 mg of noise."""
    return _quantised(np.float32([0.1, -0.2, 0.97]) + np.random.default_rng(0).normal(0.0, 0.002, (COUNT, T, 3)))


@pytest.fixture(scope="module")
def gait() -> np.ndarray:
    """COUNT windows of walking: a 0.3 g swing at 1.8 Hz per axis (phases apart) and 10 mg of noise."""
    rng = np.random.default_rng(1)
    t = np.arange(T)[None, :, None] / RATE_HZ
    swing = 0.3 * np.sin(2 * np.pi * 1.8 * t + rng.uniform(0, 2 * np.pi, (COUNT, 1, 1)) + np.arange(3))
    return _quantised(np.float32([0.0, 0.0, 1.0]) + swing + rng.normal(0.0, 0.01, (COUNT, T, 3)))


def _statistic(x: np.ndarray, name: str) -> np.ndarray:
    return window_features(x, FULL_SCALE_G)[:, FEATURES.index(name)]


def test_an_axis_stuck_on_a_still_board_is_surprising_however_long_it_is_stuck(still):
    from_start, midway = still.copy(), still.copy()
    from_start[:, :, 0] = still[:, :1, 0]  # stuck from sample 0: no changes of its own to compare with
    midway[:, T // 3 :, 0] = still[:, T // 3 : T // 3 + 1, 0]
    normal = window_features(still, FULL_SCALE_G)
    own, cross = FEATURES.index("flat_surprise"), FEATURES.index("flat_surprise_cross")
    assert _statistic(from_start, "flat_surprise_cross").min() > 5 * normal[:, cross].max()
    assert _statistic(midway, "flat_surprise").min() > 3 * normal[:, own].max()
    assert (_statistic(from_start, "flat_surprise") <= normal[:, own]).all()  # no changes of its own: the cross case
    assert (_statistic(from_start, "flat_run") <= normal[:, FEATURES.index("flat_run")]).all()  # nor flat_run's


def test_a_board_below_its_lsb_is_not_surprising():
    flat = np.repeat(np.float32([[[0.0, 0.0, 1.0]]]), 2, axis=0).repeat(T, axis=1)
    flat[1, ::12, 2] += np.float32(LSB_G)  # an LSB now and then: hardly any changes anywhere
    assert (_statistic(flat, "flat_surprise") <= 2 * np.log(T)).all()
    assert (_statistic(flat, "flat_surprise_cross") <= 2 * np.log(T)).all()  # far below a stuck axis beside working ones


def test_a_spike_on_one_axis_is_isolated_and_an_impact_on_all_axes_is_not(gait):
    glitch, impact = gait.copy(), gait.copy()
    glitch[:, T // 2, 1] += 1.0
    impact[:, T // 2, :] += 1.0
    normal = _statistic(gait, "spike_isolation")
    assert _statistic(glitch, "spike_isolation").min() > 5 * normal.max()
    assert _statistic(impact, "spike_isolation").max() <= 1.1 * normal.max()
    assert _statistic(impact, "spike_ratio").min() > 5 * _statistic(gait, "spike_ratio").max()  # spike_ratio cannot tell


def test_noise_in_a_third_of_the_window_is_a_burst_and_noise_all_along_is_not(gait):
    rng = np.random.default_rng(2)
    burst, steady = gait.copy(), gait + rng.normal(0.0, 0.3, gait.shape).astype(np.float32)
    burst[:, T // 3 : 2 * T // 3] += rng.normal(0.0, 0.3, (COUNT, T // 3, 3)).astype(np.float32)
    normal = _statistic(gait, "burst_contrast")
    assert _statistic(burst, "burst_contrast").min() > 5 * normal.max()
    assert np.median(_statistic(steady, "burst_contrast")) < 2 * normal.max()
    assert (_statistic(np.zeros((1, T, 3), np.float32), "burst_contrast") == 0).all()  # the floor keeps it finite


def test_motion_level_is_zero_when_still_and_a_spike_hardly_moves_it(still, gait):
    assert motion_level(np.ones((1, T, 3), np.float32))[0] == 0
    for windows in (still, gait):
        spiked = windows.copy()
        spiked[:, T // 2, 1] += 2.0
        before, after = motion_level(windows), motion_level(spiked)
        assert np.array_equal(levels(before), levels(after))
        assert (np.abs(after - before) <= 0.5 * before).all()  # while the spike itself moved |a| by 2 g
    assert (levels(motion_level(still)) == 0).all() and (levels(motion_level(gait)) >= 1).all()


def test_the_log_table_is_float32_log_and_long_windows_are_refused():
    assert LOG.dtype == np.float32 and LOG[0] == 0 and LOG[9] == np.float32(np.log(10.0))
    with pytest.raises(ValueError, match=f"3 to {MAX_SAMPLES} samples"):
        window_features(np.zeros((1, MAX_SAMPLES + 1, 3), np.float32), FULL_SCALE_G)


def test_a_window_detector_over_windows_too_long_for_the_log_table_is_refused_before_loading():
    from synth.anomaly.dataset import load_anomaly_data
    from synth.core.config import parse_config
    from synth.core.errors import ConfigError

    config = parse_config({"profile": "lsm6dsl_4g", "data": {"source": "st_har", "path": "builtin", "window": MAX_SAMPLES + 1},
                           "anomaly": {"source": "windows"}})
    with pytest.raises(ConfigError, match=f"data.window is {MAX_SAMPLES + 1}: .* at most {MAX_SAMPLES} samples"):
        load_anomaly_data(config)
