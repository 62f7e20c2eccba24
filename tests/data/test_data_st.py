"""ST loaders: the mobility_v1 pickle (real file when present) and the shipped BSD-3 HAR folder."""

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from synth.core.config import DataConfig
from synth.data.loading import load_windows
from synth.data.st_har import DEFAULT_FOLDER, LABELS, load_st_har, read_recording, recording_files
from synth.data.st_mobility import load_st_mobility, read_st_mobility
from synth.core.errors import DataError

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MOBILITY = SHARED_DATA / "st_mobility_v1" / "train.pkl"
needs_mobility = pytest.mark.skipif(
    not MOBILITY.is_file(), reason=f"ST mobility_v1 (SLA0044, not in the repository) is absent: {MOBILITY}"
)


def write_pickle(path: Path, value: object) -> Path:
    path.write_bytes(pickle.dumps(value))
    return path


def small_mobility(tmp_path: Path) -> Path:
    """A synthetic pickle in the mobility_v1 layout: one recording per label 0..4."""
    rng = np.random.default_rng(0)
    accs = [rng.normal(0, 0.3, (100 + 10 * label, 3)) for label in range(5)]
    value = {"files": [f"rec{label}.csv" for label in range(5)], "act": list(range(5)), "acc": accs}
    return write_pickle(tmp_path / "train.pkl", value)


@needs_mobility
def test_real_mobility_pickle():
    recordings = read_st_mobility(MOBILITY)
    assert len(recordings) == 11 and sum(len(acc) for _, _, acc in recordings) == 54_762
    windows = load_st_mobility(MOBILITY, rate_hz=26, window=24)
    assert windows.classes == ("stationary", "walking", "jogging", "biking")
    assert windows.class_counts() == {"stationary": 387, "walking": 360, "jogging": 385, "biking": 450}
    assert len(set(windows.groups)) == 8 and np.abs(windows.x).max() <= 4.1  # vehicle left out; +-4 g


def test_mobility_classes_by_int_or_name_and_groups(tmp_path):
    classes = {"still": ["Stationary"], "moving": [1, "jogging"]}
    windows = load_st_mobility(small_mobility(tmp_path), window=10, classes=classes)
    assert windows.class_counts() == {"still": 10, "moving": 23}
    assert sorted(set(windows.groups)) == ["rec0.csv", "rec1.csv", "rec2.csv"]


def test_mobility_resamples_on_request(tmp_path):
    windows = load_st_mobility(small_mobility(tmp_path), rate_hz=52, window=10)
    assert windows.rate_hz == 52
    assert windows.class_counts() == {"stationary": 20, "walking": 22, "jogging": 24, "biking": 26}


def test_corrupt_or_truncated_pickle(tmp_path):
    path = small_mobility(tmp_path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError, match=r"train.pkl: corrupt or truncated pickle .*expected a pickled dict \{files"):
        load_st_mobility(path)
    path.write_bytes(b"\x00not a pickle at all")
    with pytest.raises(DataError, match="corrupt or truncated pickle"):
        load_st_mobility(path)


@pytest.mark.parametrize(
    "value, message",
    [
        ([1, 2, 3], "expected a pickled dict .* got list"),
        ({"files": ["a"], "act": [0]}, "expected a pickled dict .* got dict"),
        ({"files": ["a"], "act": [0, 1], "acc": [np.zeros((5, 3))]}, "differ in length"),
        ({"files": ["a"], "act": [7], "acc": [np.zeros((5, 3))]}, r"recording 0 \(a\): label 7 is not one of"),
        (
            {"files": ["a"], "act": [0], "acc": [np.zeros((5, 2))]},
            r"expected a numeric \(N, 3\) array in g, got float64 array of shape \(5, 2\)",
        ),
    ],
)
def test_wrong_structure(tmp_path, value, message):
    with pytest.raises(DataError, match=message):
        load_st_mobility(write_pickle(tmp_path / "train.pkl", value))


def test_pickle_that_would_run_code_is_refused(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with pytest.raises(DataError, match="refers to (posix|os|nt).system.*refusing to load it"):
        load_st_mobility(write_pickle(tmp_path / "train.pkl", Exploit()))


def test_missing_mobility_file(tmp_path):
    with pytest.raises(DataError, match="ST mobility file not found: .*nothing.pkl"):
        load_st_mobility(tmp_path / "nothing.pkl")
    with pytest.raises(DataError, match="unknown ST mobility label 'swimming'"):
        load_st_mobility(small_mobility(tmp_path), classes={"swim": ["swimming"]})


def test_shipped_st_har_folder():
    counts = {label: len(recording_files(DEFAULT_FOLDER, label)) for label in LABELS}
    assert counts == {"stationary": 36, "walking": 39, "running": 17}
    assert all(read_recording(f).shape == (1000, 3) for label in LABELS for f in recording_files(DEFAULT_FOLDER, label))
    windows = load_st_har(window=24)
    assert windows.classes == LABELS and windows.rate_hz == 26 and windows.units == "g"
    assert windows.class_counts() == {"stationary": 36 * 41, "walking": 39 * 41, "running": 17 * 41}
    assert len(set(windows.groups)) == 92 and np.abs(windows.x).max() <= 4.1


def test_st_har_values_are_mg_converted_to_g():
    first = recording_files(DEFAULT_FOLDER, "stationary")[0]
    mg = read_recording(first)
    windows = load_st_har(window=24, classes={"still": [0]})
    np.testing.assert_allclose(windows.x[0], mg[:24] / 1000.0, rtol=1e-6)


def test_st_har_bad_file_and_labels(tmp_path):
    (tmp_path / "walking").mkdir()
    (tmp_path / "walking" / "w1.csv").write_text("1, 2\n3, 4\n")
    with pytest.raises(DataError, match=r"w1.csv: expected headerless 'x, y, z' lines"):
        load_st_har(tmp_path, classes={"walking": ["walking"]})
    with pytest.raises(DataError, match="no .csv recordings in .*running"):
        load_st_har(tmp_path, classes={"running": [2]})
    with pytest.raises(DataError, match="unknown ST HAR label 'cycling'"):
        load_st_har(tmp_path, classes={"cycling": ["cycling"]})
    with pytest.raises(DataError, match="ST HAR folder not found"):
        load_st_har(tmp_path / "nope")


def test_dispatcher_builtin_st_har_and_relative_mobility(tmp_path):
    windows = load_windows(DataConfig(source="st_har", path="builtin", window=48), rate_hz=26, base_dir=tmp_path)
    assert windows.length == 48 and len(set(windows.groups)) == 92
    small_mobility(tmp_path)
    windows = load_windows(DataConfig(source="st_mobility", path="train.pkl", window=10, stride=5), 26, tmp_path)
    assert windows.class_counts()["stationary"] == 19
