"""``synth evaluate``: the quality report of a synthetic data set against real recordings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.core.command_line import load_tensorflow
from synth.core.limits import SEED_MAX


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
    report = run_evaluation(real, synthetic, out, force=force, budget=budget, before_models=load_tensorflow, classifiers=specs)
    for block in report["classifiers"]:
        typer.echo(f"{block['classifier']}: {block['synthetic']['overall']:.3f} on synthetic ({block['real']['overall']:.3f} on held-out real)")
    typer.echo(f"TSTR {report['tstr']['overall']:.3f} (TRTR {report['trtr']['overall']:.3f}); report written to {out}")
