"""HAPT loader: UCI's RawData layout, 1-based inclusive segments, class maps, resampling, errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synth.core.config import DataConfig, load_config
from synth.data.hapt import check_layout, count_lines, load_hapt, read_labels, segments_by_file
from synth.data.loading import load_windows, resolve_path
from synth.core.errors import DataError
from hapt_fixtures import LABELS, acc_text, hapt_files, write_files

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / ".." / "shared" / "data" / "uci_hapt"
WITH_TRANSITIONS = {"stationary": [4, 5, 6, 7, 8, 9, 10, 11, 12], "walking": [1, 2, 3]}

# Runs the real entry point (SynthError -> one line, exit 2) and reports whether TensorFlow was loaded.
TRAIN_SCRIPT = """
import sys
from synth.cli import main
sys.argv = ["synth", "train", "--config", sys.argv[1]]
try:
    main()
except SystemExit as exc:
    print(exc.code, sorted(name for name in ("tensorflow", "keras") if name in sys.modules))
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A HAPT folder (holding RawData/) with the fixture of hapt_fixtures."""
    return write_files(tmp_path / "hapt", hapt_files())


def lines_of(window: np.ndarray) -> np.ndarray:
    """The 1-based line numbers a window's samples came from (x encodes them)."""
    return np.rint(window[:, 0] * 1000).astype(int)


def test_each_segment_is_cut_on_its_own_with_1_based_inclusive_indices(folder: Path) -> None:
    windows = load_hapt(folder, rate_hz=50.0, window=10, stride=10)
    assert windows.classes == ("stationary", "walking") and windows.units == "g"
    # walking 200 + upstairs 200 samples; sitting 240 + standing 190; transitions and the rest dropped
    assert windows.class_counts() == {"stationary": 24 + 19, "walking": 20 + 20}
    starts = sorted((group, int(lines_of(x)[0])) for x, group in zip(windows.x, windows.groups))
    assert ("user01", 1) in starts and ("user02", 11) in starts and ("user02", 391) in starts  # 391-400: last line kept
    segments = {"user01": [(1, 200), (261, 500)], "user02": [(11, 210), (211, 400)]}
    for x, group in zip(windows.x, windows.groups):
        lines = lines_of(x)
        assert np.array_equal(lines, np.arange(lines[0], lines[0] + 10))  # contiguous samples
        assert any(a <= lines[0] and lines[-1] <= b for a, b in segments[group])  # inside one segment


def test_groups_are_subjects_and_split_by_subject(folder: Path) -> None:
    windows = load_hapt(folder, 50.0, 10)
    assert sorted(set(windows.groups.tolist())) == ["user01", "user02"]
    y_of_user = {group: set(np.rint(windows.x[windows.groups == group][:, :, 1]).ravel()) for group in ("user01", "user02")}
    assert y_of_user == {"user01": {0.0}, "user02": {1.0}}  # y encodes the experiment file
    train, test = windows.split_by_group(["user02"])
    assert set(test.groups.tolist()) == {"user02"} and set(train.groups.tolist()) == {"user01"}


def test_transitions_are_kept_when_a_class_lists_them(folder: Path) -> None:
    windows = load_hapt(folder, 50.0, 10, classes=WITH_TRANSITIONS)
    assert windows.class_counts() == {"stationary": 24 + 19 + 6, "walking": 40}
    first_lines = {int(lines_of(x)[0]) for x, group in zip(windows.x, windows.groups) if group == "user01"}
    assert {201, 251} <= first_lines  # the 60 samples of stand_to_sit, as their own recording


def test_labels_by_id_or_case_insensitive_name(folder: Path) -> None:
    by_name = load_hapt(folder, 50.0, 10, classes={"moving": ["WALKING", "walking_upstairs"], "still": ["Sitting", "5"]})
    by_id = load_hapt(folder, 50.0, 10, classes={"moving": [1, 2], "still": [4, 5]})
    assert by_name.class_counts() == by_id.class_counts() == {"moving": 40, "still": 43}
    with pytest.raises(DataError, match="unknown HAPT activity 'running' \\(allowed: 1 walking, .*12 lie_to_stand\\)"):
        load_hapt(folder, 50.0, 10, classes={"run": ["running"]})


def test_resampling_50_to_26_hz_keeps_a_constant_signal(tmp_path: Path) -> None:
    constant = np.tile([0.1, -0.2, 0.98], (1000, 1))
    raw = write_files(tmp_path / "RawData", {
        "acc_exp01_user01.txt": acc_text(constant).encode(), "labels.txt": b"1 1 4 1 1000\n",
    })
    windows = load_hapt(raw, rate_hz=26.0, window=48, stride=8)  # the RawData folder itself works too
    assert windows.rate_hz == 26.0
    assert len(windows) == (520 - 48) // 8 + 1  # 1000 samples at 50 Hz -> 520 at 26 Hz
    # the polyphase filter's gain at 0 Hz differs from 1 by about 5e-5 per phase: well below
    # the LSM6DSL +-4 g step of 0.122 mg, and no droop at the recording's ends
    np.testing.assert_allclose(windows.x, np.broadcast_to([0.1, -0.2, 0.98], windows.x.shape), atol=1e-4)


def test_dispatcher_resolves_a_relative_path(folder: Path) -> None:
    config = DataConfig(source="hapt", path="hapt", window=10, test_groups=["user02"])
    windows = load_windows(config, 50.0, folder.parent)
    assert windows.class_counts() == {"stationary": 43, "walking": 40}


def test_the_shipped_config_points_where_fetch_puts_the_data() -> None:
    config = load_config(REPO / "configs" / "train_hapt.json")
    assert config.data.source == "hapt" and config.profile == "lsm6dsl_4g"
    assert resolve_path(config.data, REPO / "configs").resolve() == (REPO / "data" / "uci_hapt").resolve()
    assert config.data.test_groups == [f"user{n:02d}" for n in (5, 10, 15, 20, 25, 30)]
    assert (config.train.steps, config.train.run_dir) == (20000, "runs/hapt_lsm6dsl_4g")


def test_count_lines_counts_a_last_line_without_newline(tmp_path: Path) -> None:
    for text, lines in [("", 0), ("1 2 3\n", 1), ("1 2 3\n4 5 6", 2)]:
        (tmp_path / "f.txt").write_text(text)
        assert count_lines(tmp_path / "f.txt") == lines


def test_check_layout_accepts_the_fixture_without_parsing_values(folder: Path) -> None:
    check_layout(folder)
    assert list(segments_by_file(read_labels(folder / "RawData"))) == ["acc_exp01_user01.txt", "acc_exp02_user02.txt"]


# --- bad input: one line each, naming what is wrong and what is allowed -------------------------


def break_fixture(folder: Path, path: str, text: str) -> None:
    """Replace one file of the fixture (relative to the HAPT folder) with ``text``."""
    (folder / path).write_text(text)


def numbered(lines: int, bad_line: int, bad: str) -> str:
    """An acc file of ``lines`` good lines whose line ``bad_line`` is ``bad`` instead."""
    rows = ["0.1 0.2 0.98"] * lines
    rows[bad_line - 1] = bad
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    "path, text, message",
    [
        ("RawData/labels.txt", "1 1 1 1 200\n1 1 4 261\n", r"labels.txt line 2: expected 5 integers 'experiment user activity start end', found '1 1 4 261'"),
        ("RawData/labels.txt", "1 1 walking 1 200\n", r"labels.txt line 1: expected 5 integers"),
        ("RawData/labels.txt", "1 1 1.5 1 200\n", r"labels.txt line 1: expected 5 integers"),
        ("RawData/labels.txt", "1 1 13 1 200\n", r"labels.txt line 1: activity 13 is not a HAPT activity \(allowed: 1-12\)"),
        ("RawData/labels.txt", "1 1 1 0 200\n", r"labels.txt line 1: 0-200 is not a range of samples \(sample indices count from 1"),
        ("RawData/labels.txt", "\n\n", r"labels.txt holds no segment"),
        ("RawData/labels.txt", "1 1 1 1 200\n1 1 4 261 601\n", r"labels.txt line 2: segment end 601 is past the end of acc_exp01_user01.txt, which holds 600 samples"),
        ("RawData/labels.txt", "1 1 1 1 200\n9 5 4 1 10\n", r"labels.txt line 2: experiment file acc_exp09_user05.txt is missing from"),
        ("RawData/acc_exp01_user01.txt", numbered(600, 5, "0.1 abc 0.98"), r"acc_exp01_user01.txt line 5: 'abc' is not a number; expected lines of 3 numbers 'x y z' in g"),
        ("RawData/acc_exp01_user01.txt", numbered(600, 7, "0.1 0.2"), r"acc_exp01_user01.txt line 7: fewer than 3 values or a NaN"),
        ("RawData/acc_exp01_user01.txt", numbered(600, 7, "0.1 0.2 0.3 0.4"), r"acc_exp01_user01.txt: expected lines of 3 numbers 'x y z' in g \(.*Expected 3 fields in line 7, saw 4"),
        ("RawData/acc_exp01_user01.txt", numbered(600, 1, "0.1 0.2 0.3 0.4"), r"acc_exp01_user01.txt line 1: 4 values"),
        ("RawData/acc_exp01_user01.txt", numbered(600, 9, ""), r"acc_exp01_user01.txt line 9: fewer than 3 values"),
        ("RawData/acc_exp01_user01.txt", "", r"acc_exp01_user01.txt is empty"),
    ],
    ids=[
        "labels-4-fields", "labels-name", "labels-float", "labels-activity", "labels-start-0", "labels-empty",
        "segment-past-end", "missing-experiment", "acc-text", "acc-short-line", "acc-long-line", "acc-4-columns",
        "acc-blank-line", "acc-empty",
    ],
)
def test_bad_input_is_one_line_naming_file_and_line(folder: Path, path: str, text: str, message: str) -> None:
    break_fixture(folder, path, text)
    with pytest.raises(DataError, match=message) as error:
        load_hapt(folder, 50.0, 10)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "prepare, message",
    [
        (lambda root: None, "HAPT folder not found: .*hapt \\(expected a folder holding RawData/"),
        (lambda root: (root / "RawData").mkdir(parents=True), "HAPT folder .*RawData is empty"),
        (lambda root: write_files(root, {"RawData/acc_exp01_user01.txt": b"1 2 3\n"}), "no labels.txt in HAPT folder"),
        (lambda root: write_files(root, {"RawData/labels.txt": b"1 1 1 1 1\n"}), r"no acc_exp\*_user\*.txt files in HAPT folder"),
    ],
    ids=["missing", "empty", "no-labels", "no-acc-files"],
)
def test_missing_or_incomplete_folder(tmp_path: Path, prepare, message: str) -> None:
    prepare(tmp_path / "hapt")
    with pytest.raises(DataError, match=message):
        load_hapt(tmp_path / "hapt", 50.0, 10)


def test_no_segment_of_the_requested_classes_is_unlabelled(folder: Path) -> None:
    with pytest.raises(DataError, match=r"no segment has an activity of the requested classes \(6\); every sample is unlabelled"):
        load_hapt(folder, 50.0, 10, classes={"lying": ["laying"]})


def test_cli_train_with_broken_labels_fails_before_tensorflow(tmp_path: Path, folder: Path) -> None:
    break_fixture(folder, "RawData/labels.txt", "\n".join(LABELS[:2] + ["1 1 4 261 five hundred"]) + "\n")
    config = tmp_path / "train.json"
    config.write_text(json.dumps({"data": {"source": "hapt", "path": "hapt", "window": 10}, "train": {"run_dir": str(tmp_path / "run")}}))
    result = subprocess.run([sys.executable, "-c", TRAIN_SCRIPT, str(config)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "2 []", result.stdout + result.stderr  # exit code 2, TensorFlow never loaded
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "labels.txt line 3: expected 5 integers" in lines[0]
    assert not (tmp_path / "run").exists()


# --- the real data set, where it is available -------------------------------------------------


@pytest.mark.skipif(not REAL.is_dir(), reason=f"the real HAPT folder {REAL} is absent (a user's own download)")
def test_real_folder_has_61_experiments_30_subjects_and_both_classes() -> None:
    assert len(segments_by_file(read_labels(REAL / "RawData"))) == 61
    windows = load_hapt(REAL, 26.0, 48, 8)
    assert len(set(windows.groups.tolist())) == 30
    counts = windows.class_counts()
    assert counts["stationary"] > 10_000 and counts["walking"] > 10_000
