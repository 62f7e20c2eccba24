"""synth finetune on the transfer path: K target recordings per class, a class the source lacks,
K = 0 (classifier feedback only), captures checked against the profile, and every refusal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from synth.data.csv_capture import write_capture
from synth.data.st_har import load_st_har
from synth.data.target import recording_classes, select_recordings
from synth.core.errors import ConfigError, DataError
from tests.conftest import ROOT
from tests.test_cli import assert_one_line_error

HELD_OUT = ["stationary_03_26Hz_4g_mg", "walking_03_26Hz_4g_mg", "running_03_26Hz_4g_mg"]


@pytest.fixture(scope="module")
def st_windows():
    return load_st_har(rate_hz=26.0, window=48, stride=48)


@pytest.fixture(scope="module")
def two_class_source(tmp_path_factory) -> Path:
    """A tiny generator of stationary and walking only, as one trained on HAPT would be."""
    from synth.core.config import parse_config
    from synth.gan.train import run_training

    root = tmp_path_factory.mktemp("source")
    raw = {"seed": 1, "data": {"source": "st_har", "path": "builtin", "window": 48, "stride": 48,
                               "classes": {"stationary": ["stationary"], "walking": ["walking"]}, "test_groups": HELD_OUT},
           "model": {"noise_dim": 8, "generator_units": 32, "critic_filters": 8},
           "train": {"steps": 4, "batch_size": 16, "n_critic": 2, "steps_per_epoch": 2, "run_dir": str(root / "run")}}
    return run_training(parse_config(raw), ROOT, verbose=0) / "generator"


def transfer_config(run_dir: Path, generator: Path, **finetune) -> dict:
    """A tiny fine-tuning run of ``generator`` on BSD-3 with the three held-out recordings."""
    return {
        "seed": 3,
        "data": {"source": "st_har", "path": "builtin", "window": 48, "stride": 48, "test_groups": HELD_OUT},
        "model": {"noise_dim": 8, "generator_units": 32, "critic_filters": 8},
        "train": {"steps": 4, "batch_size": 16, "n_critic": 2, "steps_per_epoch": 2},
        "finetune": {"generator": str(generator), "profiles": ["lsm6dsl_4g"], "critic_warmup_steps": 2,
                     "evaluation_critic_steps": 2, "evaluation_windows": 20, "run_dir": str(run_dir), **finetune},
    }


# --- choosing the target recordings -------------------------------------------------------------


def test_k_recordings_per_class_never_include_held_out_ones(st_windows):
    chosen = select_recordings(st_windows, HELD_OUT, 2, None, seed=5)
    assert {c: len(r) for c, r in chosen.recordings.items()} == {"stationary": 2, "walking": 2, "running": 2}
    used = set(chosen.windows.groups.tolist())
    assert used == {r for rs in chosen.recordings.values() for r in rs} and not used & set(HELD_OUT)
    assert chosen.held_out == sorted(HELD_OUT) and chosen.per_class == 2
    owners = recording_classes(st_windows)
    assert all(owners[r] == c for c, rs in chosen.recordings.items() for r in rs)


def test_the_seed_draws_the_recordings_and_zero_or_all_are_allowed(st_windows):
    draw = lambda seed: select_recordings(st_windows, HELD_OUT, 1, None, seed).recordings  # noqa: E731
    assert draw(5) == draw(5) and any(draw(5) != draw(s) for s in range(6, 12))
    assert len(select_recordings(st_windows, HELD_OUT, 0, None, 5).windows) == 0
    every = select_recordings(st_windows, HELD_OUT, None, None, 5)
    assert len(every.windows) == int((~np.isin(st_windows.groups, HELD_OUT)).sum())


def test_k_larger_than_the_recordings_is_refused_naming_the_class(st_windows):
    with pytest.raises(ConfigError, match=r"recordings_per_class is 17 but the target has fewer training recordings of running 16"):
        select_recordings(st_windows, HELD_OUT, 17, None, 5)


def test_named_recordings_are_checked(st_windows):
    chosen = select_recordings(st_windows, HELD_OUT, None, ["walking_05_26Hz_4g_mg"], 5)
    assert chosen.recordings["walking"] == ["walking_05_26Hz_4g_mg"] and chosen.recordings["running"] == []
    with pytest.raises(ConfigError, match="held-out recording.*walking_03_26Hz_4g_mg"):
        select_recordings(st_windows, HELD_OUT, None, ["walking_03_26Hz_4g_mg"], 5)
    with pytest.raises(ConfigError, match="walking_99, not among"):
        select_recordings(st_windows, HELD_OUT, None, ["walking_99"], 5)
    with pytest.raises(ConfigError, match="recordings_per_class or finetune.recordings, not both"):
        select_recordings(st_windows, HELD_OUT, 1, ["walking_05_26Hz_4g_mg"], 5)


# --- carrying a generator over to the target's classes ------------------------------------------


def test_a_class_the_source_lacks_starts_from_its_donor_and_source_classes_keep_their_weights(two_class_source):
    from synth.models.artifact import build_from_info, load_generator
    from synth.models.class_transfer import ORIENTATION_LAYERS, transfer_generator
    from synth.models.sampling import sample_windows
    from synth.models.zoo import get_class_scales

    source, info = load_generator(two_class_source)
    wide = build_from_info(info.__class__(**{**info.__dict__, "classes": ("walking", "stationary", "running")}))
    scales = np.array([[0.3, 0.3, 0.3], [0.05, 0.05, 0.05], [1.0, 1.0, 1.0]], np.float32)
    moved = transfer_generator(source, wide, info.noise_dim, [1, 0, 1], scales)
    np.testing.assert_allclose(get_class_scales(moved), scales)
    np.testing.assert_allclose(get_class_scales(transfer_generator(source, build_from_info(info), info.noise_dim, [0, 1])),
                               get_class_scales(source))
    # same noise, same class: the source's stationary windows are the carried-over generator's
    before = sample_windows(source, np.zeros(4, int), info.noise_dim, 2, seed=1)
    moved_back = transfer_generator(source, build_from_info(info), info.noise_dim, [0, 1])
    np.testing.assert_allclose(sample_windows(moved_back, np.zeros(4, int), info.noise_dim, 2, seed=1), before, atol=1e-6)
    # a fresh orientation head keeps the new generator's own weights there, the source's elsewhere
    fresh = build_from_info(info)
    initial = [w.copy() for w in fresh.get_layer("offset_dense").get_weights()]
    relearn = transfer_generator(source, fresh, info.noise_dim, [0, 1], fresh=ORIENTATION_LAYERS)
    for mine, new in zip(initial, relearn.get_layer("offset_dense").get_weights()):
        np.testing.assert_array_equal(mine, new)
    np.testing.assert_array_equal(relearn.get_layer("motion").get_weights()[0], source.get_layer("motion").get_weights()[0])


# --- whole runs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_recording_run(two_class_source, tmp_path_factory) -> Path:
    """A fine-tuning run on one target recording per class, orientation relearned, one turned copy."""
    from synth.core.config import parse_config
    from synth.gan.finetune import run_finetune

    raw = transfer_config(tmp_path_factory.mktemp("k1") / "runs", two_class_source, recordings_per_class=1,
                          rotated_copies=1, relearn_orientation=True)
    (folder,) = run_finetune(parse_config(raw), ROOT)
    return folder


def test_k_recordings_teach_the_missing_class_and_the_card_says_so(one_recording_run):
    from synth.models.artifact import load_generator

    folder = one_recording_run
    report = json.loads((folder / "finetune.json").read_text())
    target = report["target"]
    assert target["learned_from_target_only"] == ["running"] and target["donors"] == {"running": "walking"}
    assert target["recordings_per_class"] == 1 and target["left_out"] == []
    assert all(len(r) == 1 for r in target["recordings"].values()) and target["held_out"] == sorted(HELD_OUT)
    assert set(report["after"]["per_class"]) == {"stationary", "walking", "running"}
    _, info = load_generator(folder / "generator")
    assert set(info.classes) == {"stationary", "walking", "running"}
    assert info.provenance["target"]["learned_from_target_only"] == ["running"]


def test_generated_data_and_its_report_say_which_class_the_target_alone_taught(one_recording_run, tmp_path):
    from synth.core.config import parse_config
    from synth.evaluate.evaluate import fine_tuning_target, target_notes
    from synth.gan.generate import generate_dataset

    folder = one_recording_run
    raw = {"generate": {"generator": str(folder / "generator"), "windows_per_class": 3, "csv": False}}
    generate_dataset(parse_config(raw), tmp_path / "data")
    target = fine_tuning_target(tmp_path / "data")
    assert target["learned_from_target_only"] == ["running"] and target["held_out"] == sorted(HELD_OUT)
    notes = target_notes(target)
    assert "3 target recording(s)" in notes[0] and notes[1].startswith("running: not in the source data")
    assert target_notes(None) == []
    report = json.loads((folder / "finetune.json").read_text())
    assert sum(report["real_windows"].values()) == 2 * 3 * 20  # one recording of 20 windows per class, and a turned copy


def test_k_zero_uses_the_classifier_alone_and_leaves_out_what_nothing_teaches(two_class_source, tmp_path):
    from synth.core.config import parse_config
    from synth.gan.finetune import run_finetune

    raw = transfer_config(tmp_path / "runs", two_class_source, recordings_per_class=0)
    (folder,) = run_finetune(parse_config(raw), ROOT)
    report = json.loads((folder / "finetune.json").read_text())
    assert report["target"]["left_out"] == ["running"] and report["real_windows"] == {"stationary": 0, "walking": 0}
    assert report["after"]["critic_distance"] is None and 0 <= report["after"]["accuracy"] <= 1
    assert {"anchor", "gravity", "classifier_ce"} <= set((folder / "losses.csv").read_text().splitlines()[0].split(","))
    (again,) = run_finetune(parse_config({**raw, "finetune": {**raw["finetune"], "run_dir": str(tmp_path / "again")}}), ROOT)
    assert (again / "generator" / "generator.weights.npz").read_bytes() == (folder / "generator" / "generator.weights.npz").read_bytes()


def test_k_beyond_the_recordings_is_refused_before_anything_is_written(tmp_path, two_class_source):
    from synth.core.config import parse_config
    from synth.gan.finetune import run_finetune

    with pytest.raises(ConfigError, match="recordings_per_class is 40"):
        run_finetune(parse_config(transfer_config(tmp_path / "runs", two_class_source, recordings_per_class=40)), ROOT)
    assert not (tmp_path / "runs").exists()


def test_cli_refuses_a_held_out_target_recording(run_cli, write_config, tmp_path, two_class_source):
    config = write_config(transfer_config(tmp_path / "runs", two_class_source, recordings=["running_03_26Hz_4g_mg"]))
    assert_one_line_error(run_cli("finetune", "--config", str(config)), "held-out recording(s) running_03_26Hz_4g_mg")
    assert not (tmp_path / "runs").exists()


def test_both_class_sets_are_named_when_the_source_has_a_class_the_target_lacks(tmp_path, two_class_source):
    from synth.core.config import parse_config
    from synth.gan.finetune import run_finetune

    raw = transfer_config(tmp_path / "runs", two_class_source)
    raw["data"]["classes"] = {"stationary": ["stationary"], "running": ["running"]}
    expected = r"the base generator's classes \(stationary, walking\) and the target data's \(stationary, running\) differ"
    with pytest.raises(DataError, match=expected):
        run_finetune(parse_config(raw), ROOT)
    assert not (tmp_path / "runs").exists()


def _captures(folder: Path, rate_hz: float, sensor: str) -> Path:
    """Two labelled captures (stationary, walking) of 200 samples each in ``folder``."""
    rng = np.random.default_rng(0)
    folder.mkdir()
    for name in ("stationary", "walking"):
        samples = np.array([0.0, 0.0, 1000.0]) + rng.normal(0, 20 if name == "stationary" else 300, (200, 3))
        write_capture(folder / f"{name}_1.csv", np.round(samples), rate_hz, [name] * 200, metadata={"sensor": sensor})
    return folder


@pytest.mark.parametrize("rate, sensor, expected", [
    (52.0, "lsm6dsl_4g", "captured at 52 Hz but lsm6dsl_4g outputs 26 Hz"),
    (26.0, "lsm6dsl_2g", "captured at +-2 g (lsm6dsl_2g), below lsm6dsl_4g's +-4 g"),
])
def test_captures_at_another_rate_or_a_smaller_full_scale_are_refused(tmp_path, two_class_source, rate, sensor, expected):
    from synth.core.config import parse_config
    from synth.gan.finetune import run_finetune

    raw = transfer_config(tmp_path / "runs", two_class_source, recordings_per_class=1)
    raw["data"] = {"source": "csv", "path": str(_captures(tmp_path / "captures", rate, sensor)), "window": 48, "stride": 24}
    with pytest.raises(DataError, match=re.escape(expected)):
        run_finetune(parse_config(raw), ROOT)
    assert not (tmp_path / "runs").exists()
