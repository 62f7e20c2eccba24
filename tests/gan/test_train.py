"""``synth train``: the run directory, determinism across processes, exact resume, the generator artefact."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from synth.core.config import parse_config
from synth.core.errors import ConfigError, ModelError
from synth.gan.train import run_training

CLASSES = ("stationary", "walking", "running")


def train(raw: dict):
    """Train in this process (the shipped data needs no base directory)."""
    return run_training(parse_config(raw), base_dir=Path("."), resume=True, verbose=0)


def test_run_directory_holds_every_artefact(trained_run):
    names = {str(p.relative_to(trained_run.run_dir)) for p in trained_run.run_dir.rglob("*") if p.is_file()}
    expected = {"config.json", "run.json", "losses.csv", "checkpoints/step_00000010.npz", "checkpoints/step_00000020.npz",
                "generator/generator.json", "generator/generator.weights.npz", "generator/generator.keras",
                *(f"samples_{name}.png" for name in CLASSES)}
    assert names == expected
    assert all((trained_run.run_dir / f"samples_{name}.png").read_bytes().startswith(b"\x89PNG") for name in CLASSES)


def test_config_and_run_info_are_recorded(trained_run):
    saved = json.loads((trained_run.run_dir / "config.json").read_text())
    assert parse_config(saved) == parse_config(trained_run.config)
    info = json.loads((trained_run.run_dir / "run.json").read_text())
    assert info["seed"] == 3 and len(info["data_hash"]) == 64
    assert info["window"] == 24 and info["rate_hz"] == 26 and set(info["class_counts"]) == set(CLASSES)


def test_losses_have_one_row_per_epoch(trained_run):
    with open(trained_run.run_dir / "losses.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["epoch"]) for row in rows] == [0, 1]
    for name in ("critic_loss", "generator_loss", "gradient_penalty", "wasserstein", "statistics"):
        assert all(np.isfinite(float(row[name])) for row in rows)


def test_same_seed_gives_identical_weights_in_another_process(trained_run, tiny_config, write_config, run_cli, tmp_path):
    config = write_config(tiny_config(tmp_path / "again"))
    result = run_cli("train", "--config", config)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "again/generator/generator.weights.npz").read_bytes() == trained_run.weights.read_bytes()


def test_resumed_run_matches_an_uninterrupted_one(tiny_config, tmp_path):
    train(tiny_config(tmp_path / "resumed", steps=20))
    train(tiny_config(tmp_path / "resumed", steps=40))
    train(tiny_config(tmp_path / "straight", steps=40))
    resumed, straight = (tmp_path / name / "generator/generator.weights.npz" for name in ("resumed", "straight"))
    assert resumed.read_bytes() == straight.read_bytes()
    assert sorted(p.name for p in (tmp_path / "resumed/checkpoints").iterdir()) == ["step_00000030.npz", "step_00000040.npz"]
    with open(tmp_path / "resumed/losses.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 4


def test_resuming_with_another_config_is_refused(trained_run, tiny_config):
    saved = (trained_run.run_dir / "config.json").read_bytes()
    with pytest.raises(ConfigError, match="different config.*--fresh"):
        train(tiny_config(trained_run.run_dir, learning_rate=0.01))
    assert (trained_run.run_dir / "config.json").read_bytes() == saved


def test_load_generator_round_trips(trained_run, sha256):
    import keras
    import tensorflow as tf

    from synth.models.artifact import load_generator

    generator, info = load_generator(trained_run.generator_dir / "generator.json")
    assert info.classes == CLASSES and (info.window, info.rate_hz, info.seed) == (24, 26, 3)
    assert info.weights_sha256 == sha256(trained_run.weights)
    assert info.data_hash == json.loads((trained_run.run_dir / "run.json").read_text())["data_hash"]
    inputs = [tf.random.stateless_normal((6, info.noise_dim), seed=(0, 1)), tf.gather(tf.eye(3), [0, 1, 2, 0, 1, 2])]
    saved_by_keras = keras.saving.load_model(trained_run.generator_dir / "generator.keras")
    np.testing.assert_array_equal(generator(inputs).numpy(), saved_by_keras(inputs).numpy())


def test_load_generator_names_a_missing_folder(tmp_path):
    from synth.models.artifact import load_generator

    with pytest.raises(ModelError, match="no generator found"):
        load_generator(tmp_path)


def test_ctrl_c_then_rerun_resumes_from_the_last_checkpoint(tiny_config, write_config, tmp_path):
    import signal

    from process_support import interruptible
    import subprocess
    import sys
    import time

    config = write_config(tiny_config(tmp_path / "interrupted", steps=600))
    command = [sys.executable, "-m", "synth.cli", "train", "--config", str(config)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    checkpoints = tmp_path / "interrupted/checkpoints"
    deadline = time.monotonic() + 120
    while not any(checkpoints.glob("step_*.npz")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "interrupted/generator").exists()
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0 and "resuming" in resumed.stderr and "of 600" in resumed.stderr
    train(tiny_config(tmp_path / "straight", steps=600))
    assert (tmp_path / "interrupted/generator/generator.weights.npz").read_bytes() == \
        (tmp_path / "straight/generator/generator.weights.npz").read_bytes()
