"""The window fault rule: statistics in a fixed float32 order, exact federated thresholds, faults caught
in quiet windows where a reconstruction threshold alone misses them."""

from __future__ import annotations

import numpy as np
import pytest

from synth.anomaly.fault_rule import (
    SCORE_THRESHOLD, STATISTICS, FaultRule, WindowHistograms, levels, statistics, trimmed_rule)
from synth.anomaly.faults import FAULTS, inject_faults
from synth.anomaly.window_features import FEATURES, median, motion_level, window_features
from synth.core.errors import DataError, ModelError
from synth.data.st_har import load_st_har

FULL_SCALE_G = 4.0


@pytest.fixture(scope="module")
def split():
    """ST's BSD-3 windows (48 samples, 26 Hz) in two halves by recording: (calibration, test, test labels)."""
    windows = load_st_har(rate_hz=26.0, window=48, stride=24)
    x = np.clip(windows.x.astype(np.float32), -FULL_SCALE_G, FULL_SCALE_G)
    recordings = np.unique(windows.groups)
    calibration = np.isin(windows.groups, np.random.default_rng(0).permutation(recordings)[: len(recordings) // 2])
    return x[calibration], x[~calibration], np.asarray(windows.y)[~calibration], windows.classes


def _rule(x: np.ndarray) -> FaultRule:
    return WindowHistograms.of(*statistics(x, np.zeros(len(x)), FULL_SCALE_G)).rule(0.01, 0.25)


def test_statistics_are_sums_in_sample_order_whatever_the_batch(split):
    x = split[0][:7]
    values = window_features(x, FULL_SCALE_G)
    assert values.dtype == np.float32 and values.shape == (7, len(FEATURES))
    assert np.array_equal(window_features(x[3:4], FULL_SCALE_G), values[3:4])  # a window's bits do not depend on its batch
    magnitude = np.sqrt((x[..., 0] * x[..., 0] + x[..., 1] * x[..., 1]) + x[..., 2] * x[..., 2])
    total = np.float32(0)
    for value in magnitude[2]:  # what a C loop adds up, one sample at a time
        total = np.float32(total + value)
    assert values[2, FEATURES.index("magnitude_high")] == np.float32(total / np.float32(48))
    assert median(np.array([[3, 1, 2, 10]], np.float32))[0] == np.float32(2.5)
    assert motion_level(np.ones((1, 48, 3), np.float32))[0] == 0


def test_histograms_of_nodes_add_up_to_the_rule_of_their_windows_pooled(split):
    calibration = split[0]
    values, level = statistics(calibration, np.linspace(0, 1, len(calibration)), FULL_SCALE_G)
    thirds = np.array_split(np.arange(len(calibration)), 3)
    parts = [WindowHistograms.of(values[i], level[i]) for i in thirds]
    pooled = WindowHistograms.of(values, level)
    assert np.array_equal(sum(parts[1:], parts[0]).counts, pooled.counts)
    assert np.array_equal(sum(parts[1:], parts[0]).rule(0.01, 0.25).thresholds, pooled.rule(0.01, 0.25).thresholds)


def test_faults_in_quiet_windows_are_caught_and_normal_windows_mostly_pass(split):
    calibration, test, labels, classes = split
    rule = _rule(calibration)
    normal = rule.flags(*statistics(test, np.zeros(len(test)), FULL_SCALE_G))
    for c, name in enumerate(classes):
        assert normal[labels == c].mean() <= 0.06, (name, normal[labels == c].mean())
    still = test[labels == classes.index("stationary")]
    faulted = inject_faults(still, FAULTS, seed=2, full_scale_g=FULL_SCALE_G)
    caught = rule.flags(*statistics(faulted.x, np.zeros(len(faulted.x)), FULL_SCALE_G))
    rates = {kind: caught[faulted.kind == kind].mean() for kind in FAULTS}
    assert all(rates[kind] >= 0.9 for kind in ("spikes", "saturation", "dropout", "noise_burst")), rates
    assert rates["bias_drift"] >= 0.5 and rates["stuck"] >= 0.25, rates  # a stuck axis below 1 LSB of noise looks still


def test_scores_are_above_the_threshold_exactly_for_flagged_windows_and_nan_is_flagged(split):
    calibration, test = split[0], split[1][:200].copy()
    test[5, 10, 1] = np.nan
    rule = _rule(calibration)
    values, level = statistics(test, np.zeros(len(test)), FULL_SCALE_G)
    flags, scores = rule.flags(values, level), rule.scores(values, level)
    assert flags[5] and np.isfinite(scores).all()
    assert np.array_equal(flags, scores > SCORE_THRESHOLD)


def test_a_rule_survives_json_and_a_malformed_one_is_refused(split):
    rule = _rule(split[0])
    again = FaultRule.from_json(rule.to_json())
    assert again.names == STATISTICS and np.array_equal(again.thresholds, rule.thresholds)
    broken = {**rule.to_json(), "thresholds": [[0.0] * 3]}
    with pytest.raises(DataError, match="a fault rule needs thresholds"):
        FaultRule.from_json(broken)
    old = [name for name in STATISTICS if name not in ("flat_surprise", "flat_surprise_cross", "burst_contrast",
                                                       "spike_isolation")]  # a detector saved before them
    with pytest.raises(ModelError, match="holds 11 statistics, this synth computes 15 .*: retrain the detector") as error:
        FaultRule.from_json({**rule.to_json(), "statistics": old, "thresholds": [[0.0] * len(old)] * 4})
    assert "\n" not in str(error.value)


def test_the_trimmed_rule_of_nodes_pools_the_honest_ones_and_is_not_moved_by_lying_nodes(split):
    calibration = split[0]
    values, level = statistics(calibration, np.linspace(0, 1, len(calibration)), FULL_SCALE_G)
    nodes = np.array_split(np.random.default_rng(1).permutation(len(calibration)), 4)  # IID
    honest = [WindowHistograms.of(values[i], level[i]) for i in nodes]
    pooled = sum(honest[1:], honest[0]).rule(0.01, 0.25)
    assert np.array_equal(trimmed_rule(honest, 0.01, 0.25, trim=0).thresholds, pooled.thresholds)

    def liar(bin_index: int, windows: int) -> WindowHistograms:
        """A node that claims ``windows`` windows, all in one bin, in every statistic and level."""
        counts = np.zeros_like(honest[0].counts)
        counts[..., bin_index] = windows
        return WindowHistograms(counts)

    flagged = lambda rule: rule.flags(values, level).mean()  # noqa: E731  (share of the honest windows)
    for liars, louder in (([liar(-1, 10 ** 6)], [liar(-1, 10 ** 9)]), ([liar(0, 10 ** 6)], [liar(0, 10 ** 9)]),
                          ([liar(-1, 10 ** 6), liar(0, 10 ** 6)], [liar(-1, 10 ** 9), liar(0, 10 ** 9)])):
        naive = sum(liars, sum(honest[1:], honest[0])).rule(0.01, 0.25)
        assert flagged(naive) in (0.0, 1.0) or len(liars) == 2  # pooled in, a liar decides every threshold
        rule = trimmed_rule(honest + liars, 0.01, 0.25, trim=len(liars))
        assert np.array_equal(rule.thresholds, trimmed_rule(honest + louder, 0.01, 0.25, trim=len(liars)).thresholds)
        assert abs(flagged(rule) - flagged(pooled)) < 0.015, (flagged(rule), flagged(pooled))
    with pytest.raises(DataError, match="no held-out normal windows"):
        trimmed_rule([liar(0, 0)], 0.01, 0.25, trim=1)
    assert levels(np.array([0.0, 0.01, 0.3], np.float32)).tolist() == [0, 1, 3]
