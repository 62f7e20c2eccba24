"""``synth train-classifier``: ST-compatible classifiers trained on the shipped ST recordings."""

import json
from pathlib import Path

import numpy as np
import pytest

from synth.core.config import parse_config
from synth.core.errors import ConfigError, DataError
from synth.core.windows import Windows

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MOBILITY = SHARED / "st_mobility_v1" / "train.pkl"
TEST_GROUPS = ["stationary_03_26Hz_4g_mg", "walking_03_26Hz_4g_mg", "running_03_26Hz_4g_mg"]


def classifier_config(run_dir: Path, architecture: str = "ign", epochs: int = 2, **data) -> dict:
    """A raw config training a small seeded classifier on 48-sample windows of the shipped recordings."""
    return {
        "seed": 5,
        "data": {"source": "st_har", "path": "builtin", "window": 48, "stride": 24, "test_groups": TEST_GROUPS, **data},
        "classifier": {"architecture": architecture, "epochs": epochs, "batch_size": 32, "run_dir": str(run_dir)},
    }


def train(raw: dict) -> Path:
    from synth.classify.train_classifier import run_classifier_training

    return run_classifier_training(parse_config(raw), base_dir=Path("."))


@pytest.fixture(scope="module")
def ign_run(tmp_path_factory) -> Path:
    """An IGN classifier trained once for this module (read it, never change it)."""
    return train(classifier_config(tmp_path_factory.mktemp("ign") / "run", epochs=8))


def test_run_folder_records_contract_provenance_and_held_out_figures(ign_run):
    info = json.loads((ign_run / "classifier.json").read_text())
    assert (ign_run / "classifier.keras").is_file()
    assert info["classes"] == ["stationary", "walking", "running"]
    assert (info["window"], info["rate_hz"], info["units"], info["g_to_ms2"]) == (48, 26.0, "m/s^2", 9.8)
    assert info["preprocessing"]["inside_model"] is True
    assert info["seed"] == 5 and len(info["data_hash"]) == 64
    assert info["test_recordings"] == sorted(TEST_GROUPS)
    held_out = info["held_out"]
    counts = np.asarray(held_out["confusion_matrix"]["counts"])
    assert counts.shape == (3, 3) and counts.sum() == sum(held_out["windows_per_class"].values()) > 0
    assert held_out["accuracy"] == pytest.approx(np.trace(counts) / counts.sum())
    assert set(held_out["per_class"]) == set(info["classes"])


def test_a_short_training_already_separates_the_held_out_recordings(ign_run):
    assert json.loads((ign_run / "classifier.json").read_text())["held_out"]["accuracy"] > 0.8


def test_saved_model_takes_raw_windows_and_preprocesses_them_like_numpy(ign_run):
    import keras

    from synth.data.st_har import load_st_har
    from synth.classify.har import build_har_classifier
    from synth.classify.preprocessing import gravity_rotation_suppression
    from synth.classify.train_classifier import model_input

    saved = keras.models.load_model(ign_run / "classifier.keras", compile=False)
    bare = build_har_classifier("ign", 48, 3, preprocess=False)
    bare.set_weights(saved.get_weights())  # the preprocessing layer holds no weights
    raw = model_input(load_st_har(window=48, stride=480).x)
    expected = bare.predict(gravity_rotation_suppression(raw[..., 0]).astype(np.float32)[..., None], verbose=0)
    assert np.allclose(saved.predict(raw, verbose=0), expected, atol=1e-4)


def test_loaded_run_predicts_class_names(ign_run):
    from synth.data.st_har import load_st_har
    from synth.classify.train_classifier import load_trained_classifier

    classifier = load_trained_classifier(ign_run)
    assert (classifier.window, classifier.preprocess) == (48, False)
    windows = load_st_har(window=48, stride=480)
    assert set(classifier.predict(windows.x)) <= {"stationary", "walking", "running"}


def test_same_seed_gives_the_same_model_and_gmp_trains(tmp_path):
    first = train(classifier_config(tmp_path / "a", "gmp", epochs=1))
    second = train(classifier_config(tmp_path / "b", "gmp", epochs=1))
    info = [json.loads((run / "classifier.json").read_text()) for run in (first, second)]
    assert info[0]["held_out"] == info[1]["held_out"] and info[0]["architecture"] == "gmp"


@pytest.mark.parametrize("change, message", [
    ({"test_groups": []}, "must name the recordings held out"),
    ({"test_groups": ["no_such_recording"]}, "does not hold: no_such_recording"),
])
def test_bad_test_groups_are_config_errors(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        train(classifier_config(tmp_path / "run", **change))


def test_window_too_short_for_ign_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="longer than 16 samples"):
        train(classifier_config(tmp_path / "run", window=16, stride=16))


def test_evaluation_matches_aliases_and_refuses_classes_the_classifier_lacks(ign_run):
    from synth.classify.train_classifier import evaluate_classifier, load_trained_classifier

    classifier = load_trained_classifier(ign_run)
    x = np.zeros((2, 48, 3), np.float32)
    x[..., 2] = 1.0
    jogging = Windows(x, np.array([0, 0]), ("Jogging",), 26.0, "g", np.array(["a", "a"]))
    assert evaluate_classifier(classifier, jogging)["windows_per_class"] == {"Jogging": 2}
    biking = Windows(x, np.array([0, 0]), ("biking",), 26.0, "g", np.array(["a", "a"]))
    with pytest.raises(DataError, match="no class for biking"):
        evaluate_classifier(classifier, biking)


@pytest.mark.skipif(not MOBILITY.is_file(), reason=f"ST mobility_v1 (SLA0044) not found at {MOBILITY}")
def test_classifier_trained_on_st_har_recognises_st_mobility_recordings(ign_run):
    from synth.data.st_mobility import load_st_mobility
    from synth.classify.train_classifier import evaluate_classifier, load_trained_classifier

    other = load_st_mobility(MOBILITY, 26.0, 48, 48, {"stationary": [0], "walking": [1], "jogging": [2]})
    report = evaluate_classifier(load_trained_classifier(ign_run), other)
    assert report["accuracy"] > 0.7, report


def test_cli_reports_a_missing_classifier_section_in_one_line(run_cli, write_config):
    raw = classifier_config("run")
    del raw["classifier"]
    result = run_cli("train-classifier", "--config", write_config(raw))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: config: the 'classifier' section is required for this command"]


def test_cli_trains_and_writes_the_run_folder(run_cli, write_config, tmp_path):
    result = run_cli("train-classifier", "--config", write_config(classifier_config(tmp_path / "run", epochs=1)))
    assert result.returncode == 0, result.stderr
    assert "classifier written to" in result.stdout
    assert (tmp_path / "run" / "classifier.keras").is_file()
