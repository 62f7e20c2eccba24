"""synth finetune: the differentiable sensor and classifier pieces, and whole runs on the shipped generator."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from tests.conftest import ROOT
from tests.test_cli import assert_one_line_error

SHIPPED = ROOT / "synth" / "assets" / "generators" / "st_har_lsm6dsl_4g"


def finetune_config(run_dir: Path, **finetune) -> dict:
    """A tiny fine-tuning run of the shipped generator on ST HAR windows of 48 samples."""
    return {
        "seed": 4,
        "data": {"source": "st_har", "path": "builtin", "window": 48, "stride": 48,
                 "test_groups": ["walking_03_26Hz_4g_mg"]},
        "model": {"critic_filters": 8},
        "train": {"steps": 4, "batch_size": 16, "n_critic": 2, "steps_per_epoch": 2},
        "finetune": {"generator": str(SHIPPED), "profiles": ["lsm6dsl_2g"], "critic_warmup_steps": 2,
                     "evaluation_critic_steps": 2, "evaluation_windows": 20, "run_dir": str(run_dir), **finetune},
    }


@pytest.mark.parametrize("name", ["lsm6dsl_2g", "lsm6dsl_4g", "lsm6dsl_6g"])
def test_sensor_ops_output_what_the_numpy_profile_outputs(name):
    import tensorflow as tf

    from synth.models.sensor_tf import sensor_output_tf
    from synth.core.profiles import load_profile
    from synth.core.transforms import apply_profile

    profile = load_profile(name)
    x = np.random.default_rng(0).normal(0.0, 3.0, (64, 48, 3)).astype(np.float32)
    expected, _ = apply_profile(x, profile)
    got = sensor_output_tf(tf.constant(x), profile).numpy()
    lsb = profile.sensitivity_mg_per_lsb / 1000.0
    assert np.abs(got - expected).max() <= lsb * 1.001  # float32 rounding may move an exact tie by one code
    assert np.mean(np.abs(got - expected) < 1e-7) > 0.999


def test_clip_stops_gradients_and_quantisation_passes_them():
    import tensorflow as tf

    from synth.models.sensor_tf import sensor_output_tf
    from synth.core.profiles import load_profile

    x = tf.constant([[[0.5, -1.0, 1.23456], [2.5, -3.0, 0.0]]], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(sensor_output_tf(x, load_profile("lsm6dsl_2g")))
    gradient = tape.gradient(total, x).numpy()
    np.testing.assert_array_equal(gradient, [[[1, 1, 1], [0, 0, 1]]])


def test_tensorflow_representation_matches_the_critics_training_data():
    import tensorflow as tf

    from synth.models.finetune_gan import representation_tf
    from synth.models.zoo import to_representation

    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 1, (10, 24, 3)).astype(np.float32), rng.integers(0, 3, 10)
    scales = np.array([[0.02, 0.02, 0.03], [0.3, 0.2, 0.25], [0.9, 1.0, 0.8]], np.float32)
    got = representation_tf(tf.constant(x), tf.constant(np.eye(3, dtype=np.float32)[y]), scales).numpy()
    np.testing.assert_allclose(got, to_representation(x, y, scales), rtol=1e-5, atol=1e-5)


def test_bsd3_feedback_agrees_with_the_numpy_classifier_and_prefers_the_true_class():
    import tensorflow as tf

    from synth.classify.classifiers import StBsd3Classifier
    from synth.data.st_har import load_st_har
    from synth.classify.feedback import load_feedback

    windows = load_st_har(window=48, stride=48).to_units("g")
    feedback = load_feedback("st_bsd3")
    names = np.asarray(feedback.classes, dtype=object)[feedback.predict_indices(windows.x)]
    np.testing.assert_array_equal(names, StBsd3Classifier().predict(windows.x))
    targets = feedback.target_indices(windows.classes)[windows.y]
    true = feedback.cross_entropy(tf.constant(windows.x), tf.constant(targets)).numpy()
    wrong = feedback.cross_entropy(tf.constant(windows.x), tf.constant((targets + 1) % 3)).numpy()
    assert true < 0.5 < wrong


def test_classifier_lacking_a_generator_class_is_named():
    from synth.core.errors import ConfigError
    from synth.classify.feedback import load_feedback

    with pytest.raises(ConfigError, match="has no class for cycling"):
        load_feedback("st_bsd3").target_indices(("walking", "cycling"))


def test_classifier_windows_and_rate_are_checked():
    from synth.core.errors import ConfigError
    from synth.classify.feedback import load_feedback

    feedback = load_feedback("st_bsd3")
    with pytest.raises(ConfigError, match="26-sample windows, longer than the generator's 24"):
        feedback.check_windows(24, 26.0)
    with pytest.raises(ConfigError, match="takes 26 Hz data but the generator makes 52 Hz"):
        feedback.check_windows(48, 52.0)


def save_model_with_unknown_layer(path: Path) -> None:
    """A valid .h5 whose config names a layer class Keras does not know."""
    import keras

    model = keras.Sequential([keras.Input((48, 3, 1)), keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")])
    model.save(path)
    with h5py.File(path, "r+") as f:
        config = f.attrs["model_config"]
        f.attrs["model_config"] = config.replace('"Flatten"', '"VendorFlatten"') if isinstance(config, str) else \
            config.replace(b'"Flatten"', b'"VendorFlatten"')


def test_keras_file_checks(tmp_path):
    import keras

    from synth.core.errors import ConfigError, ModelError
    from synth.classify.feedback import load_feedback

    save_model_with_unknown_layer(tmp_path / "vendor.h5")
    with pytest.raises(ModelError, match="vendor.h5: cannot load it as a Keras model"):
        load_feedback(str(tmp_path / "vendor.h5"))
    flat = keras.Sequential([keras.Input((48, 3)), keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")])
    flat.save(tmp_path / "flat.h5")
    with pytest.raises(ModelError, match=r"input shape \(None, 48, 3\) is not \(batch, window, 3, 1\)"):
        load_feedback(str(tmp_path / "flat.h5"))
    with pytest.raises(ConfigError, match="cannot give gradients"):
        load_feedback(str(tmp_path / "model.tflite"))


def test_zoo_style_model_gets_gravity_preprocessing_and_class_order(tmp_path):
    import keras

    from synth.core.errors import ModelError
    from synth.classify.feedback import load_feedback

    model = keras.Sequential([keras.Input((24, 3, 1)), keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")])
    model.save(tmp_path / "zoo.h5")
    feedback = load_feedback(str(tmp_path / "zoo.h5"))
    assert feedback.window == 24 and feedback.classes == ("Jogging", "Stationary", "Stairs", "Walking")
    np.testing.assert_array_equal(feedback.target_indices(("stationary", "walking", "running")), [1, 3, 0])
    assert feedback.predict_indices(np.zeros((5, 48, 3), np.float32)).shape == (5,)
    with pytest.raises(ModelError, match="4 outputs but 3 class names"):
        load_feedback(str(tmp_path / "zoo.h5"), classes=["a", "b", "c"])


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    """One tiny fine-tuning run for +-2 g (shared by the tests that read it)."""
    from synth.core.config import parse_config
    from synth.gan.finetune import run_finetune

    root = tmp_path_factory.mktemp("finetune")
    raw = finetune_config(root / "runs")
    (folder,) = run_finetune(parse_config(raw), base_dir=ROOT)
    return folder, raw


def test_finetune_writes_a_generator_with_before_after_figures(finetuned):
    from synth.models.artifact import load_generator

    folder, _ = finetuned
    assert folder.name == "lsm6dsl_2g"
    assert {"generator", "finetune.json", "losses.csv", "before_after.png", "samples_walking.png"} <= {p.name for p in folder.iterdir()}
    report = json.loads((folder / "finetune.json").read_text())
    for side in ("before", "after"):
        assert set(report[side]["per_class"]) == {"stationary", "walking", "running"}
        assert 0.0 <= report[side]["accuracy"] <= 1.0
        assert all(np.isfinite(c["critic_distance"]) for c in report[side]["per_class"].values())
    assert report["classifier"]["name"] == "st_bsd3" and report["profile"]["name"] == "lsm6dsl_2g"
    assert report["seed"] == 4 and len(report["data_hash"]) == 64
    generator, info = load_generator(folder / "generator")
    assert info.profile == "lsm6dsl_2g" and info.provenance["classifier"] == "st_bsd3"
    assert info.weights_sha256 != json.loads((SHIPPED / "generator.json").read_text())["weights_sha256"]
    assert "classifier_ce" in (folder / "losses.csv").read_text().splitlines()[0]


def test_finetune_is_reproducible(finetuned, tmp_path):
    from synth.core.config import parse_config
    from synth.gan.finetune import run_finetune

    folder, raw = finetuned
    (again,) = run_finetune(parse_config({**raw, "finetune": {**raw["finetune"], "run_dir": str(tmp_path)}}), base_dir=ROOT)
    assert (again / "generator" / "generator.weights.npz").read_bytes() == (folder / "generator" / "generator.weights.npz").read_bytes()
    assert json.loads((again / "finetune.json").read_text())["after"] == json.loads((folder / "finetune.json").read_text())["after"]


def test_cli_refuses_an_unknown_profile_before_loading_anything(run_cli, write_config, tmp_path):
    config = write_config(finetune_config(tmp_path / "runs"))
    result = run_cli("finetune", "--config", str(config), "--profile", "lsm6dsl_3g")
    assert_one_line_error(result, "lsm6dsl_3g")
    assert not (tmp_path / "runs").exists()


def test_cli_refuses_a_generator_the_classifier_cannot_judge(run_cli, write_config, tmp_path, trained_run):
    config = write_config(finetune_config(tmp_path / "runs", generator=str(trained_run.generator_dir)))
    result = run_cli("finetune", "--config", str(config))
    assert_one_line_error(result, "the classifier st_bsd3 takes 26-sample windows, longer than the generator's 24")
    assert not (tmp_path / "runs").exists()


def test_cli_refuses_a_classifier_lacking_a_data_class(run_cli, write_config, tmp_path):
    import keras

    model = keras.Sequential([keras.Input((24, 3, 1)), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    model.save(tmp_path / "two.h5")
    config = write_config(finetune_config(tmp_path / "runs", classifier=str(tmp_path / "two.h5"),
                                          classifier_classes=["Walking", "Jogging"]))
    result = run_cli("finetune", "--config", str(config))
    assert_one_line_error(result, "has no class for stationary (its classes: Walking, Jogging)")
