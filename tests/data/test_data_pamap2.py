"""PAMAP2 loader: exact file layout, golden rows, dropouts, cuts, labels, units, errors."""

from pathlib import Path

import numpy as np
import pytest

from synth.core.config import DataConfig
from synth.data.loading import load_windows
from synth.data.pamap2 import acc_columns, load_pamap2, read_subject, segments
from synth.core.errors import DataError
from synth.core.transforms import ms2_to_g
from synth.core.windows import UNLABELLED

# The first two rows of Protocol/subject101.dat, verbatim (docs/facts.md).
GOLDEN_1 = "8.38 0 104 30 2.37223 8.60074 3.51048 2.43954 8.76165 3.35465 -0.0922174 0.0568115 -0.0158445 14.6806 -69.2128 -5.58905 1 0 0 0 31.8125 0.23808 9.80003 -1.68896 0.265304 9.81549 -1.41344 -0.00506495 -0.00678097 -0.00566295 0.47196 -51.0499 43.2903 1 0 0 0 30.3125 9.65918 -1.65569 -0.0997967 9.64689 -1.55576 0.310404 0.00830026 0.00925038 -0.0175803 -61.1888 -38.9599 -58.1438 1 0 0 0"  # noqa: E501
GOLDEN_2 = "8.39 0 NaN 30 2.18837 8.5656 3.66179 2.39494 8.55081 3.64207 -0.0244132 0.0477585 0.00647434 14.8991 -69.2224 -5.82311 1 0 0 0 31.8125 0.31953 9.61282 -1.49328 0.234939 9.78539 -1.42846 0.013685 0.00148646 -0.0415218 1.0169 -50.3966 43.1768 1 0 0 0 30.3125 9.6937 -1.57902 -0.215687 9.6167 -1.6163 0.280488 -0.00657665 -0.00463778 0.00036825 -59.8479 -38.8919 -58.5253 1 0 0 0"  # noqa: E501
ANKLE = 37  # 0-based temperature column of the ankle block

# Scenario rows (100 Hz): activity per row range; ankle acc16 x encodes the row index.
PLAN = [(0, 100, 0), (100, 500, 4), (500, 800, 5), (800, 900, 1), (900, 1000, 24)]
SHORT_GAP = range(150, 155)  # 0.05 s of NaN: interpolated
LONG_GAP = range(300, 350)  # 0.5 s of NaN: cuts
JUMP_AT = 500  # timestamps jump 20 s forward here (a splice)


def row(t: float, activity: int, acc: tuple | None) -> str:
    """A PAMAP2 line built from golden row 1 with time, activity and ankle acc16 replaced
    (acc None: the whole ankle block is NaN, as in a wireless dropout)."""
    fields = GOLDEN_1.split()
    fields[0], fields[1] = f"{t:.2f}", str(activity)
    if acc is None:
        fields[ANKLE : ANKLE + 17] = ["NaN"] * 17
    else:
        fields[ANKLE + 1 : ANKLE + 4] = [f"{v:.6g}" for v in acc]
    return " ".join(fields)


def activity_of(i: int) -> int:
    return next(a for start, stop, a in PLAN if start <= i < stop)


def scenario_lines() -> list[str]:
    """The golden rows, then rows 2..999 of the scenario, then a truncated line."""
    lines = [GOLDEN_1, GOLDEN_2]
    for i in range(2, 1000):
        t = 8.38 + i * 0.01 + (20.0 if i >= JUMP_AT else 0.0)
        missing = i in SHORT_GAP or i in LONG_GAP
        lines.append(row(t, activity_of(i), None if missing else (i * 0.01, 0.0, 9.80665)))
    lines.append(row(8.38 + 1000 * 0.01 + 20, 1, (1.0, 2.0, 3.0))[:60])  # interrupted download
    return lines


@pytest.fixture
def subject(tmp_path: Path) -> Path:
    path = tmp_path / "subject101.dat"
    path.write_text("\n".join(scenario_lines()))  # no final newline: the last line is cut short
    return path


def write_constant(path: Path, activity: int, rows: int = 200) -> Path:
    """``rows`` copies of golden row 1 (as ``activity``), 100 Hz."""
    golden_acc = (9.65918, -1.65569, -0.0997967)
    path.write_text("".join(row(8.38 + i * 0.01, activity, golden_acc) + "\n" for i in range(rows)))
    return path


def test_golden_rows_parse_to_the_documented_columns(tmp_path):
    path = tmp_path / "subject101.dat"
    path.write_text(GOLDEN_1 + "\n" + GOLDEN_2 + "\n")
    ankle = read_subject(path)
    assert ankle.time_s.tolist() == [8.38, 8.39] and ankle.activity.tolist() == [0, 0]
    assert ankle.acc_ms2.tolist() == [[9.65918, -1.65569, -0.0997967], [9.6937, -1.57902, -0.215687]]
    assert read_subject(path, "hand").acc_ms2[0].tolist() == [2.37223, 8.60074, 3.51048]
    assert read_subject(path, "chest").acc_ms2[0].tolist() == [0.23808, 9.80003, -1.68896]
    assert read_subject(path, "ankle", "6g").acc_ms2[0].tolist() == [9.64689, -1.55576, 0.310404]
    assert acc_columns("ankle", "16g") == [38, 39, 40] and acc_columns("hand", "16g") == [4, 5, 6]


def test_windows_are_in_g(tmp_path):
    windows = load_pamap2(write_constant(tmp_path / "subject101.dat", activity=1), rate_hz=26, window=8)
    assert windows.units == "g" and windows.x.dtype == np.float32
    assert ms2_to_g(read_subject(tmp_path / "subject101.dat").acc_ms2[0, 0]) == pytest.approx(0.98497, abs=1e-5)
    # the same 0.98497 g at every sample, ends included (the polyphase filter ripples by < 0.1 mg)
    np.testing.assert_allclose(windows.x[..., 0], 0.98497, atol=1e-4)
    assert windows.classes == ("stationary", "walk", "run") and set(windows.y) == {0}


def test_truncated_last_line_is_dropped_and_counted(subject):
    table = read_subject(subject)
    assert table.dropped_lines == 1 and len(table.time_s) == 1000


def test_chunked_parsing_matches_and_names_the_right_line(subject, tmp_path):
    whole, chunked = read_subject(subject), read_subject(subject, chunk_rows=7)
    np.testing.assert_array_equal(whole.acc_ms2, chunked.acc_ms2)
    assert chunked.dropped_lines == 1 and (whole.activity == chunked.activity).all()
    lines = scenario_lines()[:-1]
    lines[40] = lines[40].replace(" 0.4 ", " x0.4 ")  # ankle acc16 x of line 41
    bad = tmp_path / "subject102.dat"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="subject102.dat: line 41, column 39: 'x0.4' is not a number"):
        read_subject(bad, chunk_rows=7)


def test_short_gaps_are_interpolated_long_gaps_and_jumps_cut(subject):
    table = read_subject(subject)
    assert segments(table.time_s, table.acc_ms2, max_gap_s=0.1) == [(0, 300), (350, 500), (500, 1000)]


def test_gap_of_exactly_max_gap_is_bridged():
    time_s = 0.01 * np.arange(40)
    acc = np.zeros((40, 3))
    acc[10:20] = np.nan  # 10 samples = 0.1 s
    acc[25:36, 1] = np.nan  # 11 samples, one axis only
    assert segments(time_s, acc, max_gap_s=0.1) == [(0, 25), (36, 40)]


def test_windows_never_straddle_a_cut_and_carry_majority_labels(subject):
    windows = load_pamap2(subject, rate_hz=100, window=60, stride=30)
    rows = np.rint(windows.x[:, :, 0] * 9.80665 / 0.01).astype(int)  # ankle x encodes the row
    assert (np.diff(rows, axis=1) == 1).all(), "a window skips rows: it straddles a cut"
    assert not np.isin(rows, list(LONG_GAP)).any()
    classes = {1: 0, 2: 0, 3: 0, 4: 1, 5: 2}
    for window_rows, label in zip(rows, windows.y):
        per_row = [classes.get(activity_of(i), UNLABELLED) for i in window_rows]
        values, counts = np.unique(per_row, return_counts=True)
        assert label == values[counts.argmax()] != UNLABELLED


def test_short_gap_is_filled_by_linear_interpolation(subject):
    windows = load_pamap2(subject, rate_hz=100, window=50)
    rows = windows.x[:, :, 0] * 9.80665 / 0.01
    gap_window = rows[(rows[:, 0] < 152) & (rows[:, -1] > 152)]
    np.testing.assert_allclose(gap_window, np.arange(150, 200)[None], atol=1e-3)


def test_activity_zero_and_unmapped_activities_label_no_window(subject):
    windows = load_pamap2(subject, rate_hz=100, window=50)
    assert windows.class_counts() == {"stationary": 2, "walk": 7, "run": 6}


def test_resampling_to_26_hz(subject):
    windows = load_pamap2(subject, rate_hz=26, window=13)
    assert windows.rate_hz == 26 and windows.x.shape[1:] == (13, 3)
    assert windows.class_counts() == {"stationary": 2, "walk": 7, "run": 6}
    assert set(windows.groups) == {"subject101"}


def test_class_mapping_by_id_and_name(subject):
    windows = load_pamap2(subject, 100, 50, classes={"moving": [4, "running"], "jump": ["24"]})
    assert windows.classes == ("moving", "jump")
    assert windows.class_counts() == {"moving": 13, "jump": 2}


def test_activity_zero_cannot_be_a_class(subject):
    with pytest.raises(DataError, match="activity 0"):
        load_pamap2(subject, 100, 50, classes={"transient": [0]})
    with pytest.raises(DataError, match="unknown PAMAP2 activity 8"):
        load_pamap2(subject, 100, 50, classes={"x": [8]})


def test_folder_loads_every_subject_and_splits_by_subject(tmp_path):
    write_constant(tmp_path / "subject101.dat", activity=4)
    write_constant(tmp_path / "subject102.dat", activity=5)
    (tmp_path / "readme.txt").write_text("not a subject file")
    windows = load_pamap2(tmp_path, rate_hz=50, window=10)
    train, test = windows.split_by_group(["subject102"])
    assert set(train.groups) == {"subject101"} and set(train.y) == {1}
    assert set(test.groups) == {"subject102"} and set(test.y) == {2}


def test_dispatcher_resolves_a_relative_path(subject):
    data = DataConfig(source="pamap2", path=subject.name, window=50, classes={"walk": [4]})
    windows = load_windows(data, rate_hz=100, base_dir=subject.parent)
    assert windows.class_counts() == {"walk": 7}


@pytest.mark.parametrize(
    "lines, message",
    [
        ([GOLDEN_1.rsplit(" ", 1)[0]], "line 1 has 53 fields; a PAMAP2 .dat line holds 54"),
        (["time_s activity " + GOLDEN_1.split(" ", 2)[2]], "line 1, column 1: 'time_s' is not a number"),
        ([GOLDEN_1, GOLDEN_2, GOLDEN_2.replace("9.6937", "walk")], "line 3, column 39: 'walk' is not a number"),
        ([GOLDEN_1, GOLDEN_2 + " 7"], "last line has 55 fields"),
        ([""], "line 1 is empty"),
    ],
)
def test_non_pamap2_files_are_rejected_with_file_and_line(tmp_path, lines, message):
    path = tmp_path / "subject101.dat"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=message) as error:
        load_pamap2(path, 100, 50)
    assert str(path) in str(error.value)


def test_missing_file_or_empty_folder(tmp_path):
    with pytest.raises(DataError, match="PAMAP2 data not found: .*subject999.dat"):
        load_pamap2(tmp_path / "subject999.dat", 26, 24)
    with pytest.raises(DataError, match="no subject\\*.dat files in PAMAP2 data folder"):
        load_pamap2(tmp_path, 26, 24)
