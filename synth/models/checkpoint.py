"""Training checkpoints of the conditional WGAN-GP: every variable needed to resume exactly.

A checkpoint is one deterministic .npz (see synth.core.npz) holding the generator's and critic's
weights, both optimizers' state and the model's random-stream state, written atomically as
``checkpoints/step_<NNNNNNNN>.npz``. Resuming from it and replaying the data stream from the
same step gives the same weights as a run that was never interrupted.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from synth.core.errors import ModelError
from synth.core.npz import load_npz, save_npz

_NAME = re.compile(r"step_(\d{8})\.npz$")
KEEP_LAST = 2


def training_variables(model) -> list:
    """All stateful variables of a ConditionalWGANGP in a fixed order (optimizers must be built)."""
    return [
        *model.generator.weights,
        *model.critic.weights,
        *model.generator_optimizer.variables,
        *model.critic_optimizer.variables,
        model.seed_generator.state,
    ]


def build_optimizers(model) -> None:
    """Create optimizer slots now so that a checkpoint can be restored before the first step."""
    model.generator_optimizer.build(model.generator.trainable_variables)
    model.critic_optimizer.build(model.critic.trainable_variables)


def save_checkpoint(folder: Path, model, step: int) -> Path:
    """Write the state after ``step`` generator steps; keep only the last KEEP_LAST checkpoints."""
    path = Path(folder) / f"step_{step:08d}.npz"
    arrays = {f"v{i:04d}": np.asarray(v.numpy()) for i, v in enumerate(training_variables(model))}
    save_npz(path, arrays)
    for old in list_checkpoints(folder)[:-KEEP_LAST]:
        old[1].unlink()
    return path


def restore_checkpoint(path: Path, model) -> None:
    """Assign a checkpoint's arrays to the model; ModelError if it was made by another architecture."""
    arrays = load_npz(path)
    variables = training_variables(model)
    if len(arrays) != len(variables):
        raise ModelError(f"checkpoint {path} holds {len(arrays)} variables, the model has {len(variables)}: was the model config changed?")
    for i, variable in enumerate(variables):
        value = arrays[f"v{i:04d}"]
        if tuple(value.shape) != tuple(variable.shape):
            raise ModelError(f"checkpoint {path} does not fit the model ({variable.path}: {value.shape} vs {tuple(variable.shape)})")
        variable.assign(value)


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint in ``folder``, oldest first."""
    found = [(int(m.group(1)), p) for p in Path(folder).glob("step_*.npz") if (m := _NAME.search(p.name))]
    return sorted(found)


def latest_checkpoint(folder: Path) -> tuple[int, Path] | None:
    """The newest (step, path) in ``folder``, or None when there is none."""
    found = list_checkpoints(folder)
    return found[-1] if found else None
