"""Atomic files and directories, and byte-reproducible .npz files."""

import os

import numpy as np
import pytest

from synth.core.atomic import build_directory, check_directory_target, write_bytes, write_json
from synth.core.errors import OutputError
from synth.core.npz import load_npz, save_npz


class Boom(Exception):
    pass


def test_build_directory_moves_the_result_into_place(tmp_path):
    with build_directory(tmp_path / "out") as staging:
        (staging / "a.txt").write_text("a")
    assert os.listdir(tmp_path) == ["out"] and (tmp_path / "out" / "a.txt").read_text() == "a"


def test_failing_block_leaves_no_directory_behind(tmp_path):
    with pytest.raises(Boom), build_directory(tmp_path / "out") as staging:
        (staging / "half.txt").write_text("half")
        raise Boom
    assert os.listdir(tmp_path) == []


def test_failing_block_leaves_an_existing_target_untouched(existing_output):
    with pytest.raises(Boom), build_directory(existing_output, force=True) as staging:
        (staging / "new.txt").write_text("new")
        raise Boom
    assert os.listdir(existing_output.parent) == ["out"] and os.listdir(existing_output) == ["keep.txt"]


def test_force_replaces_a_non_empty_target(existing_output):
    with build_directory(existing_output, force=True) as staging:
        (staging / "new.txt").write_text("new")
    assert os.listdir(existing_output) == ["new.txt"]


def test_non_empty_target_is_refused_without_force(existing_output):
    with pytest.raises(OutputError, match="not empty.*--force"), build_directory(existing_output):
        pytest.fail("the block must not run")
    assert os.listdir(existing_output) == ["keep.txt"]


def test_empty_target_is_accepted_without_force(tmp_path):
    (tmp_path / "out").mkdir()
    check_directory_target(tmp_path / "out")


def test_target_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(OutputError, match="not a directory"):
        check_directory_target(tmp_path / "out", force=True)


def test_target_under_a_file_is_refused_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        check_directory_target(tmp_path / "file" / "out")


def test_target_under_a_file_is_refused_when_building(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file"), build_directory(tmp_path / "file" / "out"):
        pytest.fail("the block must not run")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_read_only_location_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(OutputError, match="not writable"):
        check_directory_target(locked / "out")


def test_failed_file_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, disk_full):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_bytes(path, b"new")
    assert os.listdir(tmp_path) == ["data.bin"] and path.read_bytes() == b"old"


def test_write_json_is_sorted_and_stable(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1, "a": [1, 2]})
    write_json(tmp_path / "b.json", {"a": [1, 2], "b": 1})
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert (tmp_path / "a.json").read_text().startswith('{\n  "a"')


def sample_arrays():
    return {"x": np.arange(12, dtype=np.float32).reshape(3, 4), "y": np.array([1, 2, 3]), "name": np.array(["a", "bc"])}


def test_npz_bytes_do_not_depend_on_time_or_key_order(tmp_path, monkeypatch):
    save_npz(tmp_path / "a.npz", sample_arrays())
    monkeypatch.setattr("time.time", lambda: 2_000_000_000.0)
    monkeypatch.setattr("time.localtime", lambda *_: (2033, 5, 18, 3, 33, 20, 2, 138, 0))
    save_npz(tmp_path / "b.npz", dict(reversed(sample_arrays().items())))
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_npz_loads_with_numpy(tmp_path):
    save_npz(tmp_path / "a.npz", sample_arrays())
    with np.load(tmp_path / "a.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["name", "x", "y"]
        for name, array in sample_arrays().items():
            np.testing.assert_array_equal(archive[name], array)
            assert archive[name].dtype == array.dtype
    assert load_npz(tmp_path / "a.npz").keys() == {"name", "x", "y"}
