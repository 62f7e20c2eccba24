"""``synth train``, ``synth generate`` and ``synth finetune``: the GAN's stages on the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.core.command_line import ConfigOption, load_tensorflow, note_on_interrupt
from synth.core.limits import SEED_MAX


def train(
    config: ConfigOption,
    fresh: Annotated[bool, typer.Option(help="Ignore checkpoints in the run directory and start over.")] = False,
) -> None:
    """Train the conditional WGAN-GP; resumes from the run directory's last checkpoint."""
    from synth.core.config import load_config
    from synth.gan.train import run_training

    settings = load_config(config)
    note_on_interrupt("the training run resumes from its last checkpoint when run again")
    verbose = 1 if sys.stderr.isatty() else 2
    run_dir = run_training(settings, base_dir=config.parent, resume=not fresh, verbose=verbose, before_models=load_tensorflow)
    typer.echo(f"run written to {run_dir}")


def generate(
    config: ConfigOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output dataset directory.")],
    force: Annotated[bool, typer.Option(help="Replace a non-empty output directory.")] = False,
    seed: Annotated[Optional[int], typer.Option(min=0, max=SEED_MAX, help="Override the config's seed.")] = None,
    filter: Annotated[Optional[Path], typer.Option("--filter", help="Autoencoder folder whose realism filter drops generated windows (overrides generate.filter).")] = None,
) -> None:
    """Generate a synthetic dataset in the sensor profile's units and raw int16 format."""
    from synth.core.config import load_config
    from synth.gan.generate import generate_dataset

    settings = load_config(config)
    if filter is not None and settings.generate is not None:
        # absolute, because config paths are read relative to the config file, this one to the shell
        section = settings.generate.model_copy(update={"filter": str(filter.resolve())})
        settings = settings.model_copy(update={"generate": section})
    load_tensorflow()
    card = generate_dataset(settings, out, force=force, seed=seed, base_dir=config.parent)
    if card["filter"] is not None:
        typer.echo(f"realism filter dropped {card['filter']['rejected_total']} generated windows")
    typer.echo(f"{card['total_windows']} windows written to {out}")


def finetune(
    config: ConfigOption,
    profile: Annotated[Optional[list[str]], typer.Option("--profile", "-p", help="Sensor profile to fine-tune for (repeatable; default: finetune.profiles).")] = None,
    force: Annotated[bool, typer.Option(help="Replace non-empty output folders.")] = False,
) -> None:
    """Fine-tune a generator to a sensor profile with a frozen activity classifier's feedback."""
    from synth.core.config import load_config
    from synth.gan.finetune import run_finetune

    settings = load_config(config)
    load_tensorflow()
    verbose = 1 if sys.stderr.isatty() else 2
    for folder in run_finetune(settings, base_dir=config.parent, profiles=profile, force=force, verbose=verbose):
        typer.echo(f"fine-tuned generator written to {folder}")
