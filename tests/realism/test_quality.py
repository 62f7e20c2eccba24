"""Quality metrics on toy arrays; ST's classifiers on real recordings (WISDM ones skip without ../shared/data)."""

from pathlib import Path

import numpy as np
import pytest

from synth.classify.classifiers import canonical_class, crop_windows, majority_vote, spell_as
from synth.realism.quality import classifier_report, clip_fraction, compare_per_class, window_metrics, window_statistics

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
RATE = 26.0
T = 48


def sine_windows(n: int, freq_hz: float, amplitude_g: float, seed: int = 0) -> np.ndarray:
    """(n, T, 3) g: gravity on z plus a sine on x with random phase."""
    rng = np.random.default_rng(seed)
    t = np.arange(T) / RATE
    x = np.zeros((n, T, 3))
    x[..., 0] = amplitude_g * np.sin(2 * np.pi * freq_hz * t + rng.uniform(0, 2 * np.pi, (n, 1)))
    x[..., 2] = 1.0
    return x


def test_window_metrics_of_a_toy_signal():
    m = window_metrics(sine_windows(20, 2.7, 0.5), RATE, 4.0)
    assert m["windows"] == 20
    np.testing.assert_allclose(m["mean_g"], [0, 0, 1], atol=0.05)
    np.testing.assert_allclose(m["window_std_g"], [0.5 / np.sqrt(2), 0, 0], atol=0.03)
    assert m["dominant_hz"] == pytest.approx(2.7, abs=0.6)  # frequency resolution is 26/48 Hz
    assert 2.0 < m["median_dynamic_ms2"] < 4.9  # 0.5 g sine: |a| between 0 and 4.9 m/s^2
    assert m["clip_fraction"] == 0.0


def test_clip_fraction_counts_values_at_full_scale():
    x = np.zeros((1, 4, 3))
    x[0, 0] = [3.9976, -3.9976, 0.0]  # the int16 saturation codes of +-4 g
    x[0, 1, 0] = 3.9  # close, but not clipped
    assert clip_fraction(x, 4.0) == pytest.approx(2 / 12)


def test_window_statistics_of_a_toy_signal_and_a_still_board():
    x = sine_windows(20, 2.7, 0.5)  # |a| = sqrt(1 + 0.25 sin^2): std about 0.044 g, peak sqrt(1.25) g
    x[0, :, 0] = 0.0  # a still board: no spread, no motion, peak 1 g
    stats = window_statistics(x, RATE)
    assert stats.shape == (20, 3)
    np.testing.assert_allclose(stats[0], [0.0, 0.0, 1.0], atol=1e-9)
    std, rms, peak = stats[1:].T
    assert np.all((0.02 < std) & (std < 0.07)) and np.all((1.09 < peak) & (peak <= np.sqrt(1.25) + 1e-9))
    assert np.all((0.2 < rms) & (rms < 0.6))  # 0.5 g sine: RMS 0.35 g, plus the high-pass's start-up from the first sample


def test_identical_sets_compare_equal_and_different_ones_do_not():
    real = sine_windows(30, 2.0, 0.4, seed=1)
    same = compare_per_class((real, np.zeros(30, int)), (real, np.zeros(30, int)), ["walking"], RATE)
    assert same["walking"]["psd_distance_db"] == pytest.approx([0.0, 0.0, 0.0])
    loud = compare_per_class((real, np.zeros(30, int)), (real * 3, np.zeros(30, int)), ["walking"], RATE)
    assert loud["walking"]["psd_distance_db"][0] == pytest.approx(20 * np.log10(3), rel=1e-3)


def test_compare_skips_classes_missing_on_a_side():
    x = sine_windows(4, 2.0, 0.4)
    report = compare_per_class((x, np.array([0, 0, 1, 1])), (x, np.zeros(4, int)), ["walking", "running"], RATE)
    assert list(report) == ["walking"]


def test_class_names_match_case_insensitively_with_aliases():
    assert {canonical_class(n) for n in ["Jogging", "RUN", "running "]} == {"running"}
    assert canonical_class("Walk") == "walking"
    assert list(spell_as(np.array(["running", "stairs"]), ["Jogging", "Walking"])) == ["Jogging", "stairs"]


def test_crops_and_majority_vote():
    assert crop_windows(np.zeros((2, 52, 3)), 26).shape == (2, 2, 26, 3)
    assert crop_windows(np.zeros((2, 48, 3)), 26).shape == (2, 1, 26, 3)  # first 26 samples only
    votes_win = np.array([[[0.99, 0.01], [0.45, 0.55], [0.45, 0.55]]])  # 2 votes beat a higher mean score
    assert list(majority_vote(votes_win)) == [1]
    ties = np.array([[[0.9, 0.1], [0.4, 0.6]], [[0.1, 0.9], [0.55, 0.45]]])  # one vote each: mean score decides
    assert list(majority_vote(ties)) == [0, 1]


class FixedClassifier:
    """Calls every window 'Jogging'."""

    name = "fixed"

    def predict(self, x_g, class_names=None):
        return np.array(["Jogging"] * len(x_g), dtype=object)


def test_classifier_report_gives_recall_per_class_and_set():
    x = np.zeros((4, T, 3))
    report = classifier_report(FixedClassifier(), {"real": (x, np.array([0, 0, 1, 1])), "generated": (x[:1], np.array([1]))},
                               ["walking", "running"])
    assert report["real"]["per_class"]["walking"]["accuracy"] == 0.0
    assert report["real"]["per_class"]["running"]["accuracy"] == 1.0
    assert report["real"]["overall"] == 0.5
    assert report["generated"]["per_class"] == {"running": {"windows": 1, "accuracy": 1.0, "predicted": {"Jogging": 1}}}


@pytest.fixture(scope="module")
def real_st_har():
    from synth.data.st_har import load_st_har

    return load_st_har(window=52, stride=52)


def test_bsd3_classifier_recognises_real_recordings(real_st_har):
    from synth.classify.classifiers import StBsd3Classifier

    report = classifier_report(StBsd3Classifier(), {"real": (real_st_har.x, real_st_har.y)}, real_st_har.classes)
    for name, row in report["real"]["per_class"].items():
        assert row["accuracy"] > 0.95, (name, row)


@pytest.mark.skipif(not (SHARED / "st_model_zoo_wisdm").is_dir(),
                    reason=f"ST WISDM models (SLA0044) not found at {SHARED / 'st_model_zoo_wisdm'}")
def test_wisdm_classifiers_see_stationary_and_running(real_st_har):
    from synth.classify.classifiers import StZooClassifier, zoo_model_paths

    paths = zoo_model_paths(SHARED)
    assert paths
    for path in paths:
        report = classifier_report(StZooClassifier(path), {"real": (real_st_har.x, real_st_har.y)}, real_st_har.classes)
        per_class = report["real"]["per_class"]
        # WISDM models call most ST walking "stairs"; stationary and running transfer
        assert per_class["stationary"]["accuracy"] > 0.95 and per_class["running"]["accuracy"] > 0.85, (path, per_class)


def test_orientation_coverage_names_where_gravity_lies():
    from synth.realism.quality import orientation_coverage

    x = np.zeros((4, 10, 3), np.float32)
    x[0, :, 2] = 1.0    # face up
    x[1, :, 2] = -1.0   # upside down
    x[2, :, 0] = -0.9   # on its side
    x[2, :, 1] = 0.3
    x[3, :, 1] = 1.0
    shares = orientation_coverage(x)
    assert shares == {"+x": 0.0, "-x": 0.25, "+y": 0.25, "-y": 0.0, "+z": 0.25, "-z": 0.25}
