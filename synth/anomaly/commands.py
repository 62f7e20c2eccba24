"""``synth anomaly``: autoencoder anomaly detection, centralised, federated (Flower) or compared."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.core.command_line import command_group, echo_lines, load_tensorflow
from synth.federated.commands import FlowerRun, submit_and_follow

FLOWER_APP = Path(__file__).parent / "federated" / "flower_app"  # the anomaly Flower App that `flwr run` bundles
ConfigFile = Annotated[Path, typer.Option("--config", "-c", help="Run config with an 'anomaly' section (and 'data' for windows).")]
OutOption = Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder (default: anomaly.run_dir/<command>).")]
ForceOption = Annotated[bool, typer.Option(help="Replace a non-empty output folder.")]
NodesOption = Annotated[Optional[int], typer.Option(help="Simulated nodes (default: anomaly.nodes).")]
DetectorOption = Annotated[Path, typer.Option(help="A detector folder (from train, federate or compare).")]

app = command_group("Autoencoder anomaly detection: central, federated (Flower), compared, scored.")


@app.command()
def train(config: ConfigFile, out: OutOption = None, force: ForceOption = False) -> None:
    """Train one detector on all the config's rows (centralised) and score its test rows."""
    from synth.anomaly.actions import train_central

    echo_lines(train_central(config, out, force, ready=load_tensorflow))


@app.command()
def federate(config: ConfigFile, nodes: NodesOption = None, out: OutOption = None, force: ForceOption = False) -> None:
    """FedAvg with N simulated nodes on this machine (Flower's simulation engine, offline)."""
    from synth.anomaly.actions import federate_simulated

    load_tensorflow()
    echo_lines(federate_simulated(config, nodes, out, force))


@app.command()
def compare(config: ConfigFile, nodes: NodesOption = None, out: OutOption = None, force: ForceOption = False) -> None:
    """Local-only, federated and centralised detectors side by side: report.json, report.md, plots."""
    from synth.anomaly.actions import compare_methods

    load_tensorflow()
    echo_lines(compare_methods(config, nodes, out, force))


@app.command()
def evaluate(config: ConfigFile, detector: DetectorOption, out: OutOption = None, force: ForceOption = False) -> None:
    """Score a detector on the config's test rows: report.json, report.md, plots."""
    from synth.anomaly.actions import evaluate_detector

    load_tensorflow()
    echo_lines(evaluate_detector(config, detector, out, force))


@app.command()
def score(
    detector: DetectorOption,
    input: Annotated[Path, typer.Option("--input", help="Rows to score: a file (or N-BaIoT folder) of the detector's source, or a capture CSV for windows.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="CSV of row, error (score for window detectors), anomalous (default: print a summary only).")] = None,
) -> None:
    """Flag the anomalous rows of a file with a detector."""
    from synth.anomaly.actions import score_file

    load_tensorflow()
    echo_lines(score_file(detector, input, out))


@app.command("run")
def run(
    link: Annotated[str, typer.Option("--link", help="SuperLink address HOST:PORT (as its certificate names it).")],
    ca: Annotated[Path, typer.Option("--ca", help="CA certificate (ca.crt from 'synth share keys').")],
    config: Annotated[Path, typer.Option("--config", "-c", help="Run config with an 'anomaly' section, as a path on the SuperLink's machine.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the detector and federated.json, on the SuperLink's machine.")],
    wait: Annotated[bool, typer.Option(help="Follow the run to its end (--no-wait: print the run ID).")] = True,
) -> None:
    """Federated training on a real cluster: submit the anomaly Flower App to a SuperLink (see 'synth share')."""
    from synth.anomaly.federated.apps import CONFIG_KEY
    from synth.anomaly.federated.server import LOG_FILE

    submit_and_follow(FlowerRun(FLOWER_APP, "anomaly", CONFIG_KEY, LOG_FILE), link, ca, config, out, wait)
