"""The ``synth`` command line: one thin command per stage.

Heavy libraries (TensorFlow) are imported inside the commands that need them so that
``synth --help`` answers at once. User errors (SynthError) become one red line and exit 2.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.core.errors import SynthError
from synth.core.limits import SEED_MAX
from synth.core.quiet import library_output_muted, quiet_tensorflow_loggers, set_muting

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up chatter is not for users

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.splitlines()[0])
data_app = typer.Typer(no_args_is_help=True, help="Download and inspect real data sets.")
app.add_typer(data_app, name="data")

_state = {"debug": False}
INTERRUPTED = 130  # exit code of a command ended by Ctrl-C (128 + SIGINT)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="JSON configuration file.")]


@app.callback()
def _main(debug: Annotated[bool, typer.Option(help="Show full tracebacks for errors.")] = False) -> None:
    """synth: synthetic accelerometer data for a specific microcontroller sensor."""
    _state["debug"] = debug
    set_muting(not debug)
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, format="%(message)s")


@app.command()
def train(
    config: ConfigOption,
    fresh: Annotated[bool, typer.Option(help="Ignore checkpoints in the run directory and start over.")] = False,
) -> None:
    """Train the conditional WGAN-GP; resumes from the run directory's last checkpoint."""
    from synth.core.config import load_config
    from synth.gan.train import run_training

    settings = load_config(config)
    _state["interrupt_note"] = "the training run resumes from its last checkpoint when run again"
    verbose = 1 if sys.stderr.isatty() else 2
    run_dir = run_training(settings, base_dir=config.parent, resume=not fresh, verbose=verbose, before_models=_load_tensorflow)
    typer.echo(f"run written to {run_dir}")


@app.command()
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
    _load_tensorflow()
    card = generate_dataset(settings, out, force=force, seed=seed, base_dir=config.parent)
    if card["filter"] is not None:
        typer.echo(f"realism filter dropped {card['filter']['rejected_total']} generated windows")
    typer.echo(f"{card['total_windows']} windows written to {out}")


@app.command()
def evaluate(
    real: Annotated[Path, typer.Option(help="JSON config whose 'data' section names the real recordings; data.test_groups are held out.")],
    synthetic: Annotated[Path, typer.Option(help="Dataset folder written by 'synth generate'.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report directory.")],
    force: Annotated[bool, typer.Option(help="Replace a non-empty report directory.")] = False,
    seed: Annotated[int, typer.Option(min=0, max=SEED_MAX, help="Seed of the classifiers and splits.")] = 0,
    steps: Annotated[int, typer.Option(min=1, help="Training updates of every classifier.")] = 1500,
    folds: Annotated[int, typer.Option(min=2, max=20, help="Cross-validation folds (of whole recordings) of the discriminative scores.")] = 5,
    classifier: Annotated[Optional[list[Path]], typer.Option("--classifier", help="Your ST model-zoo classifier (.h5, .keras or full-int8 .tflite; 26 Hz, input (B, wl, 3, 1) in m/s^2) to score too; repeatable.")] = None,
    classifier_classes: Annotated[Optional[list[str]], typer.Option("--classifier-classes", help="Comma-separated output class order: one per --classifier or one for all (default Jogging,Stationary,Stairs,Walking).")] = None,
) -> None:
    """Report synthetic data quality (TSTR/TRTR/TRTS, ST classifiers, discriminative score, spectra, NN)."""
    from synth.evaluate.evaluate import classifier_specs
    from synth.evaluate.evaluate import evaluate as run_evaluation
    from synth.evaluate.evaluate_metrics import Budget

    specs = classifier_specs(classifier or [], classifier_classes or [])
    budget = Budget(steps=steps, seed=seed, folds=folds)
    report = run_evaluation(real, synthetic, out, force=force, budget=budget, before_models=_load_tensorflow, classifiers=specs)
    for block in report["classifiers"]:
        typer.echo(f"{block['classifier']}: {block['synthetic']['overall']:.3f} on synthetic ({block['real']['overall']:.3f} on held-out real)")
    typer.echo(f"TSTR {report['tstr']['overall']:.3f} (TRTR {report['trtr']['overall']:.3f}); report written to {out}")


@app.command("train-classifier")
def train_classifier(config: ConfigOption) -> None:
    """Train an ST-compatible activity classifier (IGN or GMP) and report its held-out accuracy."""
    from synth.classify.train_classifier import run_classifier_training

    _train_model(config, run_classifier_training, "classifier")


@app.command("train-autoencoder")
def train_autoencoder(config: ConfigOption) -> None:
    """Train the realism filter's autoencoder and set its threshold on held-out real recordings."""
    from synth.realism.filter import run_autoencoder_training

    _train_model(config, run_autoencoder_training, "autoencoder")


def _train_model(config: Path, run, what: str) -> None:
    """Load ``config``, then ``run(settings, base_dir=, verbose=)`` -> output folder, and name the folder."""
    from synth.core.config import load_config

    settings = load_config(config)
    _load_tensorflow()
    folder = run(settings, base_dir=config.parent, verbose=2 if _state["debug"] else 0)
    typer.echo(f"{what} written to {folder}")


@app.command()
def finetune(
    config: ConfigOption,
    profile: Annotated[Optional[list[str]], typer.Option("--profile", "-p", help="Sensor profile to fine-tune for (repeatable; default: finetune.profiles).")] = None,
    force: Annotated[bool, typer.Option(help="Replace non-empty output folders.")] = False,
) -> None:
    """Fine-tune a generator to a sensor profile with a frozen activity classifier's feedback."""
    from synth.core.config import load_config
    from synth.gan.finetune import run_finetune

    settings = load_config(config)
    _load_tensorflow()
    verbose = 1 if sys.stderr.isatty() else 2
    for folder in run_finetune(settings, base_dir=config.parent, profiles=profile, force=force, verbose=verbose):
        typer.echo(f"fine-tuned generator written to {folder}")


@data_app.command("fetch")
def data_fetch(
    name: Annotated[str, typer.Argument(help="Data set to download: pamap2 or hapt.")],
    dest: Annotated[Path, typer.Option(help="Destination directory.")] = Path("data"),
    url: Annotated[Optional[str], typer.Option(help="Override the download address (mirrors).")] = None,
) -> None:
    """Download a public data set (pamap2 or hapt), verify it (PAMAP2: each file's official size and sha256; HAPT, without published digests: its structure) and unpack it."""
    from synth.data.fetch import fetch_dataset

    folder = fetch_dataset(name, dest, url=url)
    typer.echo(f"{name} ready in {folder}")


def _load_tensorflow() -> None:
    """Import TensorFlow with its native start-up log lines (oneDNN, XLA, absl) muted; ``--debug`` keeps them."""
    with library_output_muted():
        import tensorflow  # noqa: F401
    quiet_tensorflow_loggers()


def _register(module: str) -> None:
    """Add the commands of a command module: it defines ``register(app, load_tensorflow)``."""
    import importlib

    importlib.import_module(module).register(app, _load_tensorflow)


# command modules of the later stages (one line each)
_register("synth.commands_stream")
_register("synth.commands_export")
_register("synth.commands_export_c")
_register("synth.commands_share")
_register("synth.commands_anomaly")


def main() -> None:
    """Entry point: run the app, turning user errors into one line and exit code 2."""
    try:
        code = app(standalone_mode=False)  # returns an exit code instead of exiting
    except SynthError as exc:
        if _state["debug"]:
            raise
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if code == INTERRUPTED:  # Typer turns Ctrl-C into this code
        note = _state.get("interrupt_note")
        typer.secho(f"interrupted ({note})" if note else "interrupted; nothing was written", fg=typer.colors.YELLOW, err=True)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
