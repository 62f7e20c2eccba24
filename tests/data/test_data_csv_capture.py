"""CSV captures: the written format, round trips, rates, labels and bad files."""

import numpy as np
import pytest

from synth.core.config import DataConfig
from synth.data.csv_capture import load_captures, read_capture, write_capture
from synth.data.loading import load_windows
from synth.core.errors import DataError


def gait_mg(samples: int, rate_hz: float = 26.0) -> np.ndarray:
    """(samples, 3) integer mg: gravity on z plus a 2 Hz swing on x."""
    t = np.arange(samples) / rate_hz
    return np.column_stack([np.rint(300 * np.sin(2 * np.pi * 2 * t)), np.full(samples, -12.0), np.full(samples, 1000.0)])


def test_written_format(tmp_path):
    samples = [[1, -2, 1000], [3.5, 4, 999]]
    path = write_capture(tmp_path / "c.csv", samples, 26, labels=["walk", ""], metadata={"sensor": "lsm6dsl"})
    assert path.read_text().splitlines() == [
        "# rate_hz=26 sensor=lsm6dsl",
        "time_s,x_mg,y_mg,z_mg,label",
        "0.000000,1,-2,1000,walk",
        "0.038462,3.5,4,999,",
    ]
    assert not list(tmp_path.glob("*.part"))


def test_round_trip(tmp_path):
    samples = gait_mg(100)
    labels = ["walking"] * 60 + ["running"] * 40
    capture = read_capture(write_capture(tmp_path / "c.csv", samples, 26, labels, start_time=12.5))
    np.testing.assert_array_equal(capture.samples_mg, samples)
    assert capture.labels.tolist() == labels and capture.rate_hz == 26


def test_load_captures_windows_in_g_with_groups(tmp_path):
    write_capture(tmp_path / "a.csv", gait_mg(52), 26, ["walking"] * 52)
    write_capture(tmp_path / "b.csv", gait_mg(26), 26, ["running"] * 26)
    windows = load_captures(tmp_path, rate_hz=26, window=13)
    assert windows.classes == ("running", "walking") and windows.units == "g"
    assert windows.class_counts() == {"running": 2, "walking": 4}
    np.testing.assert_allclose(windows.x[windows.groups == "a"][0], gait_mg(13) / 1000, rtol=1e-6)


def test_rate_from_the_median_step_and_resampling(tmp_path):
    path = tmp_path / "c.csv"
    rows = [f"{i / 52:.6f},0,0,1000" for i in range(104)]
    path.write_text("time_s,x_mg,y_mg,z_mg\n" + "\n".join(rows) + "\n")
    assert read_capture(path).rate_hz == pytest.approx(52, rel=1e-4)
    windows = load_captures([path], rate_hz=26, window=13, unlabelled_class="still")
    assert windows.classes == ("still",) and windows.x.shape == (4, 13, 3)
    np.testing.assert_allclose(windows.x[..., 2], 1.0, atol=1e-4)


def test_unlabelled_capture_needs_a_class(tmp_path):
    path = write_capture(tmp_path / "c.csv", gait_mg(30), 26)
    with pytest.raises(DataError, match="c.csv has no label column: name the class of unlabelled captures"):
        load_captures(path, 26, 10)
    with pytest.raises(DataError, match="class 'run' for unlabelled captures is not one of: walk"):
        load_captures(path, 26, 10, classes={"walk": ["w"]}, unlabelled_class="run")


def test_class_mapping_and_unknown_label(tmp_path):
    write_capture(tmp_path / "c.csv", gait_mg(40), 26, ["walking"] * 20 + ["running"] * 20)
    windows = load_captures(tmp_path, 26, 10, classes={"moving": ["walking", "running"]})
    assert windows.class_counts() == {"moving": 4}
    with pytest.raises(DataError, match="no capture has label 'jogging' .labels found: running, walking"):
        load_captures(tmp_path, 26, 10, classes={"jog": ["jogging"]})


@pytest.mark.parametrize(
    "text, message",
    [
        ("x,y,z\n1,2,3\n", "expected header time_s,x_mg,y_mg,z_mg\\[,label\\] .*found x,y,z"),
        ("time_s,x_mg,y_mg,z_mg\n0,1,2,3\n0.1,1,oops,3\n", "line 3, column y_mg: 'oops' is not a number"),
        ("# rate_hz=fast\ntime_s,x_mg,y_mg,z_mg\n0,1,2,3\n", "rate_hz='fast' is not a positive number"),
        ("time_s,x_mg,y_mg,z_mg\n0,1,2,3\n", "cannot tell the rate"),
        ("", "not a capture"),
    ],
)
def test_bad_captures(tmp_path, text, message):
    path = tmp_path / "c.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        load_captures(path, 26, 1, unlabelled_class="x")


def test_missing_capture_and_bad_writes(tmp_path):
    with pytest.raises(DataError, match="capture not found: .*none.csv"):
        load_captures(tmp_path / "none.csv", 26, 10)
    with pytest.raises(DataError, match="no \\*.csv files in capture folder"):
        load_captures(tmp_path, 26, 10)
    with pytest.raises(DataError, match=r"shape \(S, 3\)"):
        write_capture(tmp_path / "c.csv", np.zeros((5, 2)), 26)
    with pytest.raises(DataError, match="holds a comma"):
        write_capture(tmp_path / "c.csv", np.zeros((1, 3)), 26, labels=["a,b"])


def test_dispatcher_gives_unlabelled_captures_the_only_class(tmp_path):
    write_capture(tmp_path / "caps" / "c.csv", gait_mg(30), 26)
    windows = load_windows(DataConfig(source="csv", path="caps", window=10, classes={"walk": ["walk"]}), 26, tmp_path)
    assert windows.class_counts() == {"walk": 3}
