"""synth export: full-int8 TFLite, op audit, verification on tflite-micro and LiteRT, arena probe,
manifest, Raspberry Pi bundle and the CLI's one-line errors. Tiny seeded models throughout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from test_cli import assert_one_line_error

pytest.importorskip("tflite_micro")
pytest.importorskip("ai_edge_litert")

HELD_OUT = ["stationary_03_26Hz_4g_mg", "walking_03_26Hz_4g_mg", "running_03_26Hz_4g_mg"]


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory) -> Path:
    """A tiny GMP classifier run folder (preprocessing layer inside, as synth train-classifier writes it)."""
    from synth.core.atomic import save_keras, write_json
    from synth.classify.har import build_har_classifier

    folder = tmp_path_factory.mktemp("classifier")
    model = build_har_classifier("gmp", 24, 3, preprocess=True, seed=1)
    save_keras(model, folder / "classifier.keras")
    write_json(folder / "classifier.json", {
        "classes": ["stationary", "walking", "running"], "window": 24, "architecture": "gmp", "seed": 1,
        "data_hash": "x", "test_recordings": HELD_OUT, "config": {"data": {"test_groups": HELD_OUT}},
        "preprocessing": {"name": "gravity_rotation_suppression", "inside_model": True},
    })
    return folder


@pytest.fixture(scope="module")
def generator_source(trained_run):
    from synth.export.quantize import load_export_source

    return load_export_source("generator", trained_run.generator_dir, max_samples=120)


@pytest.fixture(scope="module")
def generator_tflite(generator_source) -> bytes:
    from synth.export.quantize import quantize_to_int8

    return quantize_to_int8(generator_source.model, generator_source.samples)


def test_generator_is_full_int8_batch_1_with_microcontroller_ops_only(generator_source, generator_tflite):
    from synth.export.audit import TFLM_BUILTIN_OPS, audit_ops
    from synth.core.tflite_file import read_model

    info = read_model(generator_tflite)
    assert [t.dtype for t in info.inputs + info.outputs] == ["INT8"] * 3
    assert [t.shape[0] for t in info.inputs + info.outputs] == [1, 1, 1]
    assert info.inputs[0].shape[1] == generator_source.samples[0].shape[1]  # noise first, as in the Keras model
    assert set(audit_ops(info)) <= TFLM_BUILTIN_OPS
    assert not any(op.name.startswith("CUSTOM") or "FLOAT32" in op.input_dtypes for op in info.ops)


def test_same_model_and_samples_give_the_same_bytes(generator_source, generator_tflite):
    from synth.export.quantize import quantize_to_int8

    assert quantize_to_int8(generator_source.model, generator_source.samples) == generator_tflite


def test_tflite_micro_and_litert_agree_with_the_float_generator(generator_source, generator_tflite):
    from synth.core.tflite_file import read_model
    from synth.export.verify import verify

    info = read_model(generator_tflite)
    report = verify(generator_source, generator_tflite, info)
    step = info.outputs[0].scale
    # int8 error accumulates over six layers: a few output steps at worst, about one on average; the
    # runtimes differ by their rounding of intermediate layers (and each has its own int8 softmax
    # for the orientation choice), which later layers can amplify to several LSB
    assert report["tflite_micro_vs_float"]["max_abs"] <= 6 * step
    assert report["tflite_micro_vs_float"]["rms"] <= 1.5 * step
    assert report["tflite_micro_vs_litert_max_lsb"] <= 8
    per_class = report["generator_error_profile_lsb"]["per_class"]
    assert sorted(per_class) == sorted(generator_source.metadata["labels"])
    scales = np.asarray(generator_source.metadata["generator"]["class_scales_g"])
    for k, label in enumerate(generator_source.metadata["labels"]):  # each class's motion has its own step
        assert per_class[label]["int8_motion_step_profile_lsb"] == pytest.approx(step * scales[k].max() / 0.000122, rel=1e-5)


def test_audit_names_the_op_and_the_layer_that_made_it():
    import keras

    from synth.core.errors import ModelError
    from synth.export.audit import audit_ops
    from synth.core.tflite_file import read_model
    from synth.export.quantize import quantize_to_int8

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 3))
    x = keras.layers.Conv1D(4, 3, padding="same", name="texture")(inputs)
    x = keras.layers.UpSampling1D(2, name="stretch")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(keras.layers.Flatten()(x)))
    tflite = quantize_to_int8(model, np.random.default_rng(0).standard_normal((40, 8, 3)))
    with pytest.raises(ModelError, match=r"op TILE \(from Keras layer 'stretch'\) has no kernel in the microcontroller"):
        audit_ops(read_model(tflite), [layer.name for layer in model.layers])


def test_no_representative_data_is_refused():
    from synth.core.errors import ModelError
    from synth.export.quantize import quantize_to_int8
    from synth.models.autoencoder import build_autoencoder

    with pytest.raises(ModelError, match="no representative data"):
        quantize_to_int8(build_autoencoder(16, 4.0, 4, 4), np.zeros((0, 16, 3), np.float32))


def test_arena_probe_finds_the_smallest_arena_that_allocates(generator_tflite):
    from synth.export.arena import ALIGNMENT, arena_fits, probe_arena

    size = probe_arena(generator_tflite)
    assert size % ALIGNMENT == 0
    assert arena_fits(generator_tflite, size)
    assert not arena_fits(generator_tflite, size - ALIGNMENT)


def test_cli_exports_a_classifier_without_its_preprocessing(run_cli, classifier_dir, tmp_path):
    result = run_cli("export", "--model", "classifier", "--target", "stm32", "--source", classifier_dir, "--out", "cls")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "cls"
    manifest = json.loads((folder / "manifest.json").read_text())
    tflite = (folder / "model.tflite").read_bytes()
    import hashlib

    assert manifest["model_sha256"] == hashlib.sha256(tflite).hexdigest() and manifest["model_bytes"] == len(tflite)
    assert manifest["labels"] == ["stationary", "walking", "running"]
    assert manifest["inputs"][0]["shape"] == [1, 24, 3, 1] and manifest["inputs"][0]["dtype"] == "int8"
    assert manifest["inputs"][0]["scale"] > 0 and -128 <= manifest["inputs"][0]["zero_point"] <= 127
    assert manifest["outputs"][0]["shape"] == [1, 3] and manifest["outputs"][0]["dtype"] == "int8"
    assert manifest["preprocessing"]["name"] == "gravity_rotation_suppression"
    assert manifest["preprocessing"]["done_by"] == "caller"
    assert manifest["profile"]["sensitivity_mg_per_lsb"] == 0.122 and manifest["profile"]["odr_hz"] == 26
    assert manifest["profile"]["full_scale_g"] == 4
    assert "CONV_2D" in manifest["ops"] and "SOFTMAX" in manifest["ops"]
    assert manifest["arena_bytes"] > 0 and manifest["source"]["sha256"]
    check = manifest["verification"]
    assert check["data"] == "held-out real windows" and check["samples"] > 0
    # an untrained model's scores are near ties, so its accuracy says little: its probabilities must agree
    assert set(check["accuracy"]) == {"float", "tflite_micro", "litert"} and "accuracy_drop_points" in check
    assert check["tflite_micro_vs_float"]["max_abs"] <= 0.1  # softmax probabilities, output step 1/256


def test_pi_bundle_generates_with_litert_only(trained_run, run_cli, tmp_path):
    result = run_cli("export", "--model", "generator", "--target", "pi", "--source", trained_run.generator_dir, "--out", "pi")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "pi"
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "model.tflite", "run.py"]
    runner = (folder / "run.py").read_text()
    assert "tensorflow" not in runner.replace("TensorFlow", "") and "import synth" not in runner
    done = subprocess.run([sys.executable, str(folder / "run.py"), "generate", "walking", "4", "--seed", "2",
                           "--out", str(tmp_path / "w.npz")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    windows = np.load(tmp_path / "w.npz")
    assert windows["g"].shape == (4, 24, 3) and windows["lsb"].dtype == np.int16
    assert np.all(np.abs(windows["lsb"]) <= 32768)
    # run.py assembles the windows from the core's rows as synth does: they follow the float generator's
    from synth.models.artifact import load_generator

    generator, info = load_generator(trained_run.generator_dir)
    noise = np.random.default_rng(2).standard_normal((4, info.noise_dim)).astype(np.float32)
    expected = generator.predict([noise, np.eye(len(info.classes), dtype=np.float32)[[info.classes.index("walking")] * 4]], verbose=0)
    assert np.sqrt(np.mean((windows["g"] - expected) ** 2)) < 0.05


def test_pi_runner_classifies_an_npz(classifier_dir, tmp_path):
    from synth.export.bundle import export_model

    manifest = export_model("classifier", classifier_dir, "pi", tmp_path / "bundle")
    x = np.random.default_rng(0).standard_normal((5, 24, 3)).astype(np.float32)
    np.savez(tmp_path / "x.npz", x=x)
    done = subprocess.run([sys.executable, str(tmp_path / "bundle" / "run.py"), "classify", str(tmp_path / "x.npz")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) == 5 and set(done.stdout.split()) <= set(manifest["labels"])


@pytest.mark.parametrize("args, fragment", [
    (["--model", "critic", "--target", "stm32", "--source", "."], "unknown model kind 'critic'"),
    (["--model", "generator", "--target", "esp32", "--source", "."], "unknown target 'esp32'"),
    (["--model", "generator", "--target", "pi", "--source", "missing"], "generator not found: missing"),
])
def test_bad_requests_fail_in_one_line(run_cli, args, fragment):
    assert_one_line_error(run_cli("export", *args, "--out", "out"), fragment)


def test_unwritable_output_fails_in_one_line(run_cli, tmp_path, trained_run):
    (tmp_path / "taken").write_text("a file")
    result = run_cli("export", "--model", "generator", "--target", "pi", "--source", trained_run.generator_dir,
                     "--out", "taken/out")
    assert_one_line_error(result, "taken")
