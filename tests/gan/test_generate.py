"""``synth generate``: counts, the int16 dataset, per-class CSV, the card, reproducibility and atomicity."""

import json
import os

import numpy as np
import pandas as pd
import pytest

import synth.gan.generate
from synth.core.config import parse_config
from synth.core.errors import ConfigError, ModelError, OutputError
from synth.gan.generate import generate_dataset, load_dataset
from synth.core.profiles import load_profile

CLASSES = ["stationary", "walking", "running"]
CSV_COLUMNS = ["class", "window", "sample", "time_s", "x_mg", "y_mg", "z_mg", "x_lsb", "y_lsb", "z_lsb"]


@pytest.fixture
def generate(generate_config, tmp_path):
    """generate(out='out', seed=None, force=False, **settings) -> (output folder, card)."""

    def run(out: str = "out", seed=None, force: bool = False, **settings):
        card = generate_dataset(parse_config(generate_config(**settings)), tmp_path / out, force=force, seed=seed)
        return tmp_path / out, card

    return run


def test_windows_per_class(generate):
    out, card = generate(windows_per_class=3)
    assert card["counts"] == {name: 3 for name in CLASSES} and card["total_windows"] == 9
    assert np.bincount(load_dataset(out)["y"]).tolist() == [3, 3, 3]


def test_total_is_split_by_ratios_with_largest_remainders(generate):
    # 11 * (3, 2, 1) / 6 = (5.5, 3.67, 1.83): the two largest remainders get the two spare windows
    _, card = generate(windows_per_class=None, total=11, class_ratios={"stationary": 3, "walking": 2, "running": 1})
    assert card["counts"] == {"stationary": 5, "walking": 4, "running": 2}


def test_total_without_ratios_is_split_equally(generate):
    _, card = generate(windows_per_class=None, total=12)
    assert card["counts"] == {name: 4 for name in CLASSES}


def test_classes_restrict_generation(generate):
    out, card = generate(classes=["walking"])
    assert card["counts"] == {"walking": 3}
    assert sorted(p.name for p in out.iterdir()) == ["card.json", "dataset.npz", "walking.csv"]


@pytest.mark.parametrize("settings", [{"total": 5}, {"windows_per_class": None}])
def test_exactly_one_way_of_counting(generate, settings):
    with pytest.raises(ConfigError, match="exactly one of"):
        generate(**settings)


def test_dataset_holds_profile_shaped_codes(generate):
    out, _ = generate()
    data, profile = load_dataset(out), load_profile("lsm6dsl_4g")
    with np.load(out / "dataset.npz") as raw:
        assert sorted(raw.files) == ["classes", "lsb", "rate_hz", "sensitivity_mg_per_lsb", "y"]
    assert data["lsb"].shape == data["mg"].shape == (9, 24, 3) and data["lsb"].dtype == np.int16
    assert profile.min_lsb <= data["lsb"].min() and data["lsb"].max() <= profile.max_lsb
    np.testing.assert_allclose(data["mg"], data["lsb"] * profile.sensitivity_mg_per_lsb, rtol=1e-6)
    assert data["y"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2] and data["classes"].tolist() == CLASSES
    assert data["rate_hz"] == 26 and data["sensitivity_mg_per_lsb"] == profile.sensitivity_mg_per_lsb


def test_class_csv_matches_the_dataset(generate):
    out, _ = generate()
    data = load_dataset(out)
    table = pd.read_csv(out / "walking.csv")
    assert list(table.columns) == CSV_COLUMNS and len(table) == 3 * 24
    assert set(table["class"]) == {"walking"} and table["window"].max() == 2
    np.testing.assert_allclose(table["time_s"][:24], np.arange(24) / 26, atol=1e-6)
    walking = data["lsb"][data["y"] == 1].reshape(-1, 3)
    np.testing.assert_array_equal(table[["x_lsb", "y_lsb", "z_lsb"]].to_numpy(), walking)


def test_csv_can_be_switched_off(generate):
    out, _ = generate(csv=False)
    assert sorted(p.name for p in out.iterdir()) == ["card.json", "dataset.npz"]


def test_card_records_provenance_and_hashes(generate, trained_run, sha256):
    out, card = generate(seed=11)
    assert json.loads((out / "card.json").read_text()) == card
    assert card["generator"]["weights_sha256"] == sha256(trained_run.weights)
    assert card["profile"]["name"] == "lsm6dsl_4g" and card["rate_hz"] == 26 and card["full_scale_g"] == 4
    assert card["seed"] == 11 and card["total_windows"] == 9 and set(card["units"]) == {"mg", "lsb"}
    assert card["files"] == {name: sha256(out / name) for name in ("dataset.npz", "running.csv", "stationary.csv", "walking.csv")}
    assert card["software_clip_note"] is None


def test_6g_card_carries_the_software_clip_note(generate):
    out, card = generate(profile="lsm6dsl_6g")
    assert "clipped in software" in card["software_clip_note"] and card["full_scale_g"] == 6
    assert np.abs(load_dataset(out)["mg"]).max() <= 6000


def test_same_seed_gives_identical_bytes(generate, folder_bytes):
    first, _ = generate("a")
    second, _ = generate("b")
    assert folder_bytes(first) == folder_bytes(second)


def test_another_seed_gives_other_data(generate):
    first, _ = generate("a", seed=1)
    second, _ = generate("b", seed=2)
    assert not np.array_equal(load_dataset(first)["lsb"], load_dataset(second)["lsb"])


def test_non_empty_output_is_refused_without_force(generate, existing_output):
    with pytest.raises(OutputError, match="not empty.*--force"):
        generate()
    assert os.listdir(existing_output) == ["keep.txt"]


def test_force_replaces_the_output(generate, existing_output):
    generate(force=True)
    assert "keep.txt" not in os.listdir(existing_output) and (existing_output / "dataset.npz").is_file()


def test_unknown_class_names_the_known_ones(generate):
    with pytest.raises(ModelError, match="'cycling'.*stationary, walking, running"):
        generate(classes=["walking", "cycling"])


def test_missing_generator_is_a_model_error(generate_config, tmp_path):
    config = parse_config({**generate_config(), "generate": {"generator": str(tmp_path / "none"), "windows_per_class": 1}})
    with pytest.raises(ModelError, match="no generator found"):
        generate_dataset(config, tmp_path / "out")


def test_crash_while_writing_leaves_no_output(generate, tmp_path, monkeypatch, disk_full):
    monkeypatch.setattr(synth.gan.generate, "write_class_csv", disk_full)
    with pytest.raises(OSError, match="No space left"):
        generate()
    assert os.listdir(tmp_path) == []


def test_crash_while_writing_keeps_the_old_output(generate, existing_output, monkeypatch, disk_full):
    monkeypatch.setattr(synth.gan.generate, "write_class_csv", disk_full)
    with pytest.raises(OSError, match="No space left"):
        generate(force=True)
    assert os.listdir(existing_output.parent) == ["out"] and os.listdir(existing_output) == ["keep.txt"]
