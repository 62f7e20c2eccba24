"""``synth train``: fit the conditional WGAN-GP on real windows and write a run directory.

The run directory (see synth.core.runs) receives the resolved config, the seed and data hash, the
losses as CSV, checkpoints every ``checkpoint_every`` generator steps (rounded up to whole
epochs of ``steps_per_epoch``), a PNG per class of generated vs real windows, and the trained
generator. Training resumes from the newest checkpoint; with op determinism enabled the same
seed and data give the same weights, interrupted or not.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Callable

import numpy as np

from synth.core.atomic import write_json
from synth.core.config import Config, require
from synth.core.errors import ConfigError
from synth.core.plots import plot_real_vs_generated, spread_examples
from synth.core.profiles import load_profile
from synth.core.runs import (
    checkpoints_dir, config_path, generator_dir, hash_arrays, losses_path, run_info_path, samples_plot_path,
)
from synth.core.windows import Windows
from synth.data.loading import load_windows
from synth.models.artifact import GeneratorInfo, save_generator
from synth.models.checkpoint import latest_checkpoint, restore_checkpoint
from synth.models.sampling import sample_windows

log = logging.getLogger(__name__)


def run_training(
    config: Config, base_dir: Path = Path("."), resume: bool = True, verbose: int = 1,
    before_models: Callable[[], None] = lambda: None,
) -> Path:
    """Train per ``config``; returns the run directory. Data paths resolve against ``base_dir``.

    ``before_models`` runs once the data is loaded, before any model is built (the CLI loads
    TensorFlow there, so that bad data fails in seconds).
    """
    data_config = require(config.data, "data")
    profile = load_profile(config.profile)
    windows = load_windows(data_config, profile.odr_hz, base_dir)
    train_windows, _ = windows.split_by_group(data_config.test_groups)
    before_models()
    run_dir = Path(config.train.run_dir)
    _prepare_run_dir(run_dir, config, resume)
    data_hash = hash_arrays(train_windows.x, train_windows.y, extra=json.dumps(train_windows.classes))
    write_json(run_info_path(run_dir), _run_info(config, train_windows, data_hash, profile))
    trainer = _Trainer(config, train_windows, profile.full_scale_g, run_dir)
    trainer.fit(resume=resume, verbose=verbose)
    trainer.save_outputs(data_hash, profile.name)
    return run_dir


def _prepare_run_dir(run_dir: Path, config: Config, resume: bool) -> None:
    """Create the run directory; refuse to resume a run that was made with another config."""
    saved = config_path(run_dir)
    if resume and saved.is_file():
        if _without_steps(json.loads(saved.read_text())) != _without_steps(config.model_dump(mode="json")):
            raise ConfigError(f"{run_dir} holds a run with a different config: pass --fresh to start over or choose another train.run_dir")
    if not resume and checkpoints_dir(run_dir).is_dir():
        for old in checkpoints_dir(run_dir).glob("step_*.npz"):
            old.unlink()
        losses_path(run_dir).unlink(missing_ok=True)
    write_json(saved, config.model_dump(mode="json"))


def _without_steps(config: dict) -> dict:
    """A config dict minus train.steps: a run may be resumed with more (or fewer) steps."""
    return {**config, "train": {k: v for k, v in config["train"].items() if k != "steps"}}


def _run_info(config: Config, windows: Windows, data_hash: str, profile) -> dict:
    """What made this run: seed, data hash and shape, classes, profile and library versions."""
    import keras
    import tensorflow as tf

    return {
        "seed": config.seed,
        "data_hash": data_hash,
        "train_windows": len(windows),
        "class_counts": windows.class_counts(),
        "groups": sorted(set(windows.groups.tolist())),
        "window": windows.length,
        "rate_hz": windows.rate_hz,
        "profile": profile.name,
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__},
    }


class _Trainer:
    """Holds the model, the data stream and the run directory of one training run."""

    def __init__(self, config: Config, windows: Windows, full_scale_g: float, run_dir: Path):
        from synth.models.training import build_wgan, enable_determinism

        enable_determinism(config.seed)
        self.config, self.windows, self.run_dir = config, windows.to_units("g"), run_dir
        self.full_scale_g = full_scale_g
        self.model = build_wgan(config, self.windows, full_scale_g)

    def fit(self, resume: bool, verbose: int) -> None:
        """Train up to config.train.steps generator steps, resuming from the newest checkpoint."""
        import keras

        from synth.models.progress import StepProgress
        from synth.models.training import CheckpointEvery, make_dataset
        from synth.models.zoo import get_class_scales

        train = self.config.train
        start = latest_checkpoint(checkpoints_dir(self.run_dir)) if resume else None
        if start:
            restore_checkpoint(start[1], self.model)
            log.info("resuming %s from step %d of %d", self.run_dir, start[0], train.steps)
        done = start[0] if start else 0
        epochs = math.ceil(train.steps / train.steps_per_epoch)
        scales = get_class_scales(self.model.generator)
        dataset = make_dataset(self.windows, scales, train.batch_size * train.n_critic, self.config.seed).skip(done)
        callbacks = [
            keras.callbacks.CSVLogger(str(losses_path(self.run_dir)), append=done > 0),
            CheckpointEvery(checkpoints_dir(self.run_dir), train.checkpoint_every, train.steps_per_epoch),
            *([StepProgress(train.steps, done, f"training {self.run_dir.name}")] if verbose else []),
        ]
        self.model.fit(dataset, epochs=epochs, initial_epoch=done // train.steps_per_epoch,
                       steps_per_epoch=train.steps_per_epoch, callbacks=callbacks, verbose=0, shuffle=False)

    def save_outputs(self, data_hash: str, profile_name: str) -> None:
        """Write the generator folder and one real-vs-generated PNG per class."""
        model_config = self.config.model
        info = GeneratorInfo(
            classes=self.windows.classes, window=self.windows.length, rate_hz=self.windows.rate_hz,
            noise_dim=model_config.noise_dim, hidden_units=model_config.generator_units, full_scale_g=self.full_scale_g,
            profile=profile_name, seed=self.config.seed, data_hash=data_hash,
            provenance={"config": self.config.model_dump(mode="json"), "steps": self.config.train.steps},
        )
        save_generator(generator_dir(self.run_dir), self.model.generator, info)
        for index, name in enumerate(self.windows.classes):
            real = spread_examples(self.windows.x[self.windows.y == index])
            fake = sample_windows(self.model.generator, np.full(8, index), model_config.noise_dim, len(self.windows.classes), seed=self.config.seed)
            plot_real_vs_generated(real, fake, f"{name}: real vs generated", self.windows.rate_hz, samples_plot_path(self.run_dir, name))
