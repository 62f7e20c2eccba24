"""``synth stream --source live --classifier DIR --autoencoder DIR``: a class and a realism verdict per window."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synth.core.config import parse_config
from synth.data.csv_capture import write_capture
from synth.core.errors import ModelError
from synth.stream.monitor import build_monitor
from test_stream_cli import socat_pair, stream_process, wait_for_line  # noqa: F401  (socat_pair is a fixture)

SENSITIVITY = 0.122
TEST_GROUPS = ["stationary_03_26Hz_4g_mg", "walking_03_26Hz_4g_mg", "running_03_26Hz_4g_mg"]
DATA = {"source": "st_har", "path": "builtin", "window": 48, "stride": 48, "test_groups": TEST_GROUPS}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(classifier folder, autoencoder folder), each trained for one epoch on 48-sample windows (read only)."""
    from synth.realism.filter import run_autoencoder_training
    from synth.classify.train_classifier import run_classifier_training

    root = tmp_path_factory.mktemp("models")
    classifier = run_classifier_training(parse_config(
        {"seed": 5, "data": DATA, "classifier": {"architecture": "ign", "epochs": 1, "batch_size": 64, "run_dir": str(root / "c")}}),
        base_dir=Path("."))
    autoencoder = run_autoencoder_training(parse_config(
        {"seed": 1, "profile": "lsm6dsl_4g", "data": DATA, "autoencoder": {"epochs": 1, "run_dir": str(root / "a")}}))
    return classifier, autoencoder


def still_lsb(count):
    """(count, 3) int16: a board lying flat (1 g on z) with a little noise, in lsm6dsl_4g codes."""
    mg = np.random.default_rng(2).normal(0, 5, (count, 3)) + [0, 0, 1000]
    return np.round(mg / SENSITIVITY).astype(np.int16)


def test_monitor_prints_one_class_and_one_verdict_per_window(models):
    lines = []
    monitor = build_monitor(models[0], models[1], 26.0, 4.0, SENSITIVITY, lines.append)
    for start in range(0, 130, 13):  # windows complete across uneven batches
        monitor.feed(still_lsb(130)[start : start + 13])
    classes = [line for line in lines if " class " in line]
    verdicts = [line for line in lines if "ANOMALOUS" in line or "normal" in line]
    assert len(classes) == len(verdicts) == 2 and classes[0].startswith("window 0 (0 ..): class ")
    monitor.feed(np.full((48, 3), 32767, np.int16))  # 4 g on every axis: nothing a person wears does that
    assert "ANOMALOUS" in lines[-1] and lines[-1].startswith("window 2")


def test_classifier_at_another_rate_is_refused(models):
    with pytest.raises(ModelError, match="26 Hz windows; the stream is 52 Hz"):
        build_monitor(models[0], None, 52.0, 4.0, SENSITIVITY, print)


def test_live_command_prints_the_class_of_each_window(models, tmp_path, socat_pair):
    path = write_capture(tmp_path / "still.csv", still_lsb(96) * SENSITIVITY, 26.0)
    receiver = stream_process(tmp_path, "--port", socat_pair[1], "--source", "live", "--format", "binary", "--samples", 96,
                              "--classifier", models[0], "--autoencoder", models[1])
    wait_for_line(receiver, "receiving")
    sender = subprocess.run([sys.executable, "-m", "synth.cli", "stream", "--port", socat_pair[0], "--source", "file",
                             "--input", str(path), "--speed", "10", "--format", "binary"], capture_output=True, text=True, timeout=60)
    stdout, stderr = receiver.communicate(timeout=120)
    assert sender.returncode == 0 and receiver.returncode == 0, stderr
    windows = [line for line in stdout.splitlines() if line.startswith("window ")]
    assert [line.split(":")[0] for line in windows] == ["window 0 (0 ..)", "window 0 (0 ..)", "window 1 (48 ..)", "window 1 (48 ..)"]
    assert sum(" class " in line for line in windows) == 2 and "received 96 samples" in stdout
