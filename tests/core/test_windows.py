"""The windows convention: cutting, majority labels, splits, units and concatenation."""

import numpy as np
import pytest

from synth.core.errors import DataError
from synth.core.windows import UNLABELLED, Windows, concat, cut_windows


def make_windows(n: int = 4, length: int = 6, units: str = "g", classes=("a", "b"), rate_hz: float = 26.0) -> Windows:
    x = np.arange(n * length * 3, dtype=np.float32).reshape(n, length, 3)
    y = np.arange(n, dtype=np.int64) % len(classes)
    groups = np.array([f"rec{i // 2}" for i in range(n)])
    return Windows(x, y, tuple(classes), rate_hz, units, groups)


def samples(n: int) -> np.ndarray:
    return np.arange(n * 3, dtype=float).reshape(n, 3)


def test_cut_windows_majority_label_and_stride():
    labels = np.array([0, 0, 1, 1, 1, 1, 0, 0])
    x, y = cut_windows(samples(8), labels, length=4, stride=2)
    assert x.shape == (3, 4, 3) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[1], samples(8)[2:6])
    assert y.tolist() == [0, 1, 0]  # [0,0,1,1] ties to the lowest label, [1,1,1,1], [1,1,0,0]


def test_cut_windows_stride_counts_full_windows_only():
    x, _ = cut_windows(samples(10), np.zeros(10, int), length=4, stride=3)
    assert len(x) == 3  # starts 0, 3, 6


def test_windows_mostly_unlabelled_are_dropped():
    labels = np.array([UNLABELLED] * 3 + [1] + [2] * 4)
    x, y = cut_windows(samples(8), labels, length=4, stride=4)
    assert y.tolist() == [2]
    np.testing.assert_array_equal(x[0], samples(8)[4:])


def test_recording_shorter_than_a_window_gives_none():
    x, y = cut_windows(samples(3), np.zeros(3, int), length=4, stride=1)
    assert x.shape == (0, 4, 3) and y.shape == (0,)


@pytest.mark.parametrize("length, stride", [(0, 1), (4, 0)])
def test_cut_windows_rejects_non_positive_sizes(length, stride):
    with pytest.raises(DataError):
        cut_windows(samples(8), np.zeros(8, int), length, stride)


def test_split_by_group_keeps_recordings_whole():
    train, test = make_windows(6).split_by_group(["rec1"])
    assert set(test.groups) == {"rec1"} and len(test) == 2
    assert set(train.groups) == {"rec0", "rec2"} and len(train) == 4
    np.testing.assert_array_equal(test.x, make_windows(6).x[2:4])


def test_to_units_round_trip():
    windows = make_windows()
    mg = windows.to_units("mg")
    assert mg.units == "mg" and mg.x.dtype == np.float32
    np.testing.assert_allclose(mg.x, windows.x * 1000)
    np.testing.assert_allclose(windows.to_units("m/s^2").x, windows.x * 9.80665, rtol=1e-6)
    np.testing.assert_allclose(mg.to_units("g").x, windows.x, rtol=1e-6)


def test_class_counts_lists_every_class():
    windows = make_windows(3, classes=("a", "b", "c"))
    assert windows.class_counts() == {"a": 1, "b": 1, "c": 1}
    assert windows.subset(windows.y == 0).class_counts() == {"a": 1, "b": 0, "c": 0}


def test_concat_stacks_windows():
    both = concat([make_windows(2), make_windows(4)])
    assert len(both) == 6 and both.y.tolist() == [0, 1, 0, 1, 0, 1]


@pytest.mark.parametrize("other", [
    make_windows(units="mg"), make_windows(rate_hz=50.0), make_windows(length=8), make_windows(classes=("a", "c")),
])
def test_concat_refuses_mismatched_windows(other):
    with pytest.raises(DataError, match="cannot concatenate"):
        concat([make_windows(), other])


def test_concat_of_nothing_is_an_error():
    with pytest.raises(DataError, match="no windows"):
        concat([])


def test_windows_validate_shape_lengths_and_units():
    x = np.zeros((2, 4, 3), np.float32)
    with pytest.raises(DataError, match="shape"):
        Windows(x[0], np.zeros(2, np.int64), ("a",), 26.0, "g", np.array(["r", "r"]))
    with pytest.raises(DataError, match="same length"):
        Windows(x, np.zeros(3, np.int64), ("a",), 26.0, "g", np.array(["r", "r"]))
    with pytest.raises(DataError, match="unknown units"):
        Windows(x, np.zeros(2, np.int64), ("a",), 26.0, "km", np.array(["r", "r"]))
