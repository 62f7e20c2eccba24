"""Sensor-fault injection: each fault changes what it should and nothing else, seeded and pure."""

import numpy as np
import pytest

from synth.anomaly import faults
from synth.anomaly.faults import FAULTS, fault_params, inject_faults
from synth.core.errors import ConfigError, DataError

FULL_SCALE_G = 4.0
N, T = 12, 64


def _windows(seed: int = 0) -> np.ndarray:
    """(N, T, 3) float32 smooth-ish motion in g, within +-2 g: 1 g of gravity on z plus movement."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0.0, 0.05, (N, T, 3)), axis=1)
    x = np.clip(walk + rng.normal(0.0, 0.02, (N, T, 3)), -0.9, 0.9)
    x[:, :, 2] += 1.0
    return x.astype(np.float32)


def _apply(name: str, x: np.ndarray, full_scale_g: float = FULL_SCALE_G, seed: int = 3, **overrides) -> np.ndarray:
    function = getattr(faults, name)
    return function(x, np.random.default_rng(seed), fault_params(name, overrides), full_scale_g)


def _single_changed_axis(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """(N,) the one axis that differs in each window; fails when another axis changed."""
    changed_axes = (out != x).any(axis=1)  # (N, 3)
    assert (changed_axes.sum(axis=1) == 1).all()
    return changed_axes.argmax(axis=1)


def _is_one_block(mask: np.ndarray) -> bool:
    """True when the True values of a 1-D bool mask are contiguous (and there is at least one)."""
    where = np.flatnonzero(mask)
    return len(where) > 0 and where[-1] - where[0] + 1 == len(where)


def test_stuck_holds_one_axis_from_onset_for_at_least_min_fraction():
    x = _windows()
    out = _apply("stuck", x)
    for i, axis in enumerate(_single_changed_axis(x, out)):
        onset = np.flatnonzero(out[i, :, axis] != x[i, :, axis])[0] - 1  # the onset sample keeps its value
        assert (out[i, onset:, axis] == x[i, onset, axis]).all()
        assert T - onset >= T // 2
        assert np.array_equal(out[i, :onset], x[i, :onset])


def test_stuck_with_min_fraction_one_freezes_the_whole_axis():
    x = _windows()
    out = _apply("stuck", x, min_fraction=1.0)
    for i, axis in enumerate(_single_changed_axis(x, out)):
        assert (out[i, :, axis] == x[i, 0, axis]).all()


def test_spikes_change_exactly_count_samples_on_one_axis_by_the_amplitude():
    x = _windows()
    out = _apply("spikes", x, count=4)
    axes = _single_changed_axis(x, out)
    diff = out[np.arange(N), :, axes] - x[np.arange(N), :, axes]
    assert ((diff != 0).sum(axis=1) == 4).all()
    np.testing.assert_allclose(np.abs(diff[diff != 0]), 2.0, atol=1e-5)
    assert np.abs(out).max() <= FULL_SCALE_G


def test_spikes_at_the_rail_point_away_from_it_and_stay_in_range():
    x = np.full((N, T, 3), 2.0, np.float32)
    out = _apply("spikes", x, full_scale_g=2.0, count=5, amplitude_g=3.0)
    diff = out - x
    assert ((diff != 0).sum(axis=(1, 2)) == 5).all()
    assert (diff <= 0).all() and (out >= -2.0).all()


def test_saturation_reaches_full_scale_and_scales_the_rest():
    x = _windows()
    out = _apply("saturation", x, full_scale_g=2.0)
    assert np.isclose(np.abs(out).max(), 2.0) and (np.abs(out) <= 2.0).all()
    assert (out == 2.0).any()  # gravity on z (about 1 g) x 3 passes +2 g
    inside = np.abs(x * 3.0) < 2.0
    np.testing.assert_allclose(out[inside], x[inside] * 3.0, rtol=1e-6)


def test_bias_drift_adds_a_linear_ramp_to_one_axis():
    x = _windows()
    out = _apply("bias_drift", x, drift_g=0.25)
    axes = _single_changed_axis(x, out)
    diff = out[np.arange(N), :, axes] - x[np.arange(N), :, axes]  # (N, T)
    ends = diff[:, -1]
    np.testing.assert_allclose(np.abs(ends), 0.25, atol=1e-5)
    np.testing.assert_allclose(diff, ends[:, None] * np.linspace(0.0, 1.0, T)[None, :], atol=1e-5)
    assert (ends > 0).any() and (ends < 0).any()  # the sign is random


def test_dropout_zeroes_one_contiguous_block_on_all_axes():
    x = _windows()
    out = _apply("dropout", x, fraction=0.25)
    changed = (out != x).any(axis=2)  # (N, T)
    for i in range(N):
        assert _is_one_block(changed[i]) and changed[i].sum() == round(0.25 * T)
        assert (out[i, changed[i]] == 0.0).all()
        assert np.array_equal(out[i, ~changed[i]], x[i, ~changed[i]])


def test_noise_burst_is_confined_to_one_block_and_clipped():
    x = _windows()
    out = _apply("noise_burst", x, full_scale_g=2.0, fraction=0.5, std_g=5.0)
    changed = (out != x).any(axis=2)
    length = round(0.5 * T)
    for i in range(N):
        where = np.flatnonzero(changed[i])
        assert where[-1] - where[0] < length and changed[i].sum() > length // 2
    assert (np.abs(out) <= 2.0).all() and (np.abs(out) == 2.0).any()


def test_noise_burst_default_has_about_the_requested_std():
    x = np.zeros((200, T, 3), np.float32)
    out = faults.noise_burst(x, np.random.default_rng(0), fault_params("noise_burst", None), FULL_SCALE_G)
    burst = out[out != 0]
    assert burst.size == 200 * round(0.3 * T) * 3
    assert burst.std() == pytest.approx(0.3, rel=0.05)


@pytest.mark.parametrize("name", FAULTS)
def test_faults_return_new_float32_arrays_and_leave_input_unchanged(name):
    x = _windows()
    before = x.copy()
    out = _apply(name, x)
    assert out.shape == x.shape and out.dtype == np.float32
    assert not np.shares_memory(out, x) and not np.array_equal(out, x)
    assert np.array_equal(x, before)


def test_inject_faults_labels_rows_by_fault_and_keeps_groups():
    x = _windows()
    groups = np.array([f"rec{i % 3}" for i in range(N)])
    rows = inject_faults(x, ["dropout", "stuck"], seed=1, full_scale_g=FULL_SCALE_G, group=groups)
    assert rows.x.shape == (2 * N, T, 3) and rows.x.dtype == np.float32
    assert rows.anomalous.all() and rows.feature_names == ("x", "y", "z")
    assert list(rows.kind) == ["dropout"] * N + ["stuck"] * N
    assert list(rows.group) == list(groups) * 2
    assert set(inject_faults(x, "spikes", 1, FULL_SCALE_G).group) == {"windows"}


def test_inject_faults_is_byte_identical_for_the_same_seed():
    x = _windows()
    first = inject_faults(x, FAULTS, seed=7, full_scale_g=FULL_SCALE_G).x
    again = inject_faults(x.copy(), FAULTS, seed=7, full_scale_g=FULL_SCALE_G).x
    other = inject_faults(x, FAULTS, seed=8, full_scale_g=FULL_SCALE_G).x
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() != other.tobytes()


def test_each_fault_stream_is_independent_of_the_other_faults():
    x = _windows()
    alone = inject_faults(x, ["noise_burst"], seed=5, full_scale_g=FULL_SCALE_G).x
    together = inject_faults(x, ["stuck", "spikes", "noise_burst"], seed=5, full_scale_g=FULL_SCALE_G)
    assert together.subset(together.kind == "noise_burst").x.tobytes() == alone.tobytes()
    reordered = inject_faults(x, ["noise_burst", "dropout"], seed=5, full_scale_g=FULL_SCALE_G,
                              params={"dropout": {"fraction": 0.9}})
    assert reordered.subset(reordered.kind == "noise_burst").x.tobytes() == alone.tobytes()


def test_fault_params_defaults_and_overrides():
    assert fault_params("spikes", None) == faults.SpikesParams(count=3, amplitude_g=2.0)
    assert fault_params("bias_drift", {"drift_g": 1}).drift_g == 1
    assert FAULTS == ("stuck", "spikes", "saturation", "bias_drift", "dropout", "noise_burst")


@pytest.mark.parametrize(
    "name, overrides, message",
    [
        ("wobble", None, "unknown fault 'wobble' (allowed: stuck, spikes, saturation, bias_drift, dropout, noise_burst)"),
        ("spikes", {"size": 2}, "fault 'spikes' has no parameter size (allowed: count, amplitude_g)"),
        ("dropout", {"fraction": 1.5}, "fault 'dropout': fraction must be a number in (0, 1] (fraction of the window), got 1.5"),
        ("stuck", {"min_fraction": 0}, "min_fraction must be a number in (0, 1]"),
        ("spikes", {"count": 2.5}, "count must be an integer in [1, 10000]"),
        ("spikes", {"count": True}, "count must be an integer"),
        ("saturation", {"gain": "3"}, "gain must be a number in (1, 100] (times the signal), got '3'"),
        ("noise_burst", {"std_g": float("nan")}, "std_g must be a number in (0, 32] (g)"),
    ],
)
def test_bad_fault_names_and_params_raise_config_errors(name, overrides, message):
    with pytest.raises(ConfigError) as caught:
        fault_params(name, overrides)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"names": []}, ConfigError, "no faults to inject (allowed: stuck"),
        ({"names": ["stuck", "stuck"]}, ConfigError, "faults listed more than once: stuck"),
        ({"params": {"dropout": {"fraction": 0.1}}}, ConfigError, "parameters given for faults not injected: dropout"),
        ({"params": {"spikes": {"count": T + 1}}, "names": ["spikes"]}, ConfigError, f"count {T + 1} is more than the {T} samples"),
        ({"seed": -1}, ConfigError, "seed must be an integer >= 0, got -1"),
        ({"full_scale_g": 0}, ConfigError, "full_scale_g must be a number > 0"),
        ({"group": ["a", "b"]}, DataError, f"groups must have shape ({N},)"),
        ({"x_g": np.zeros((N, T, 2), np.float32)}, DataError, "windows of shape (N, T, 3)"),
        ({"x_g": np.zeros((N, 1, 3), np.float32)}, DataError, "at least 2 samples"),
    ],
)
def test_bad_inject_arguments_raise_one_line_errors(kwargs, error, message):
    arguments = {"x_g": _windows(), "names": ["stuck"], "seed": 0, "full_scale_g": FULL_SCALE_G} | kwargs
    with pytest.raises(error) as caught:
        inject_faults(**arguments)
    assert message in str(caught.value)
