"""Shared fixtures: a tiny seeded training config, a tiny generator trained once per session on
the shipped ST HAR recordings, config files for ``synth generate``, and a CLI runner."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY_STEPS = 20

# Every tiny training, fine-tuning and simulated node compiles the same few XLA programs again in
# a fresh process (about 5 s each on 2 cores, most of a tiny run). TensorFlow's persistent compile
# cache lets the session compile each once: bin/test's workers and the CLI subprocesses inherit
# the variable, entries are written atomically and checked against the program before use, so
# the tests run the very code they would compile. One folder per session, removed at its end.
_XLA_CACHE_OWNER = "TF_XLA_FLAGS" not in os.environ
if _XLA_CACHE_OWNER:
    os.environ["TF_XLA_FLAGS"] = "--tf_xla_persistent_cache_directory=" + tempfile.mkdtemp(prefix="synth-tests-xla-")


def pytest_unconfigure(config) -> None:
    """Remove the session's compile cache (in the process that made it)."""
    if _XLA_CACHE_OWNER:
        shutil.rmtree(os.environ["TF_XLA_FLAGS"].split("=", 1)[1], ignore_errors=True)


def tiny_training_config(run_dir: Path, steps: int = TINY_STEPS, **train) -> dict:
    """A raw config that trains a tiny seeded WGAN-GP on the shipped ST HAR windows of 24 samples."""
    return {
        "seed": 3,
        "profile": "lsm6dsl_4g",
        "data": {"source": "st_har", "path": "builtin", "window": 24, "stride": 24},
        "model": {"noise_dim": 8, "generator_units": 8, "critic_filters": 8},
        "train": {"steps": steps, "batch_size": 16, "n_critic": 2, "checkpoint_every": 10,
                  "steps_per_epoch": 10, "statistics_weight": 1.0, "run_dir": str(run_dir), **train},
    }


@dataclass(frozen=True)
class TrainedRun:
    """A finished tiny training run and the raw config that made it."""

    run_dir: Path
    config: dict

    @property
    def generator_dir(self) -> Path:
        return self.run_dir / "generator"

    @property
    def weights(self) -> Path:
        return self.generator_dir / "generator.weights.npz"


# The files that take minutes (Flower simulations and clusters, GAN training and fine-tuning,
# evaluation): bin/test's workers take them first, so that no worker is left with one of them
# after the others have finished (pytest-xdist hands out files in collection order).
LONG_FILES = (
    "share/test_share_simulate.py", "federated/test_share_deploy.py", "gan/test_train.py", "evaluate/test_evaluate.py",
    "share/test_share.py", "gan/test_finetune_transfer.py", "gan/test_finetune.py", "anomaly/test_anomaly_cli.py",
)


def pytest_collection_modifyitems(items) -> None:
    """Collect LONG_FILES first, in that order; the rest keep theirs."""
    def rank(item) -> int:
        path = item.path.as_posix()
        return next((i for i, name in enumerate(LONG_FILES) if path.endswith(name)), len(LONG_FILES))

    items.sort(key=rank)  # stable: tests within a file keep their order

@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> TrainedRun:
    """Train the tiny generator once per session and share its run directory (read it, never change it)."""
    from synth.core.config import parse_config
    from synth.gan.train import run_training

    raw = tiny_training_config(tmp_path_factory.mktemp("trained") / "run")
    run_dir = run_training(parse_config(raw), base_dir=ROOT, resume=True, verbose=0)
    return TrainedRun(Path(run_dir), raw)


@pytest.fixture
def tiny_config() -> Callable[..., dict]:
    """Factory: tiny_config(run_dir, steps=20, **train_overrides) -> raw training config."""
    return tiny_training_config


@pytest.fixture
def generate_config(trained_run) -> Callable[..., dict]:
    """Factory: a raw config whose 'generate' section uses the session's tiny generator."""

    def make(seed: int = 5, **generate) -> dict:
        settings = {"generator": str(trained_run.generator_dir), "windows_per_class": 3, **generate}
        return {"seed": seed, "generate": settings}

    return make


@pytest.fixture
def write_config(tmp_path) -> Callable[..., Path]:
    """write_config(raw, name='config.json') -> path of the JSON file written in tmp_path."""

    def write(raw: object, name: str = "config.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(raw))
        return path

    return write


@pytest.fixture
def run_cli(tmp_path) -> Callable[..., subprocess.CompletedProcess]:
    """run_cli(*args) runs ``python -m synth.cli *args`` in a fresh process, in tmp_path."""

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "synth.cli", *map(str, args)]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture
def flower_task_identity():
    """Flower stamps messages with the running task's identity; give this process one."""
    from flwr.supercore.task_identity import TaskIdentity

    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 0, 1
    yield


@pytest.fixture
def folder_bytes() -> Callable[[Path], dict[str, bytes]]:
    """folder_bytes(folder) -> {relative path: bytes} of every file below ``folder``."""

    def read(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}

    return read


@pytest.fixture
def sha256() -> Callable[[Path], str]:
    """sha256(path) -> hex digest of the file's bytes."""
    return lambda path: hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def disk_full() -> Callable[..., None]:
    """A stand-in for any writer that crashes: it raises OSError(ENOSPC) whatever its arguments."""

    def fail(*_args, **_kwargs) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    return fail


@pytest.fixture
def existing_output(tmp_path) -> Path:
    """tmp_path/out, an existing non-empty directory holding keep.txt."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("keep")
    return out
