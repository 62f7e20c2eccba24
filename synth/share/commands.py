"""``synth share``: GAN-sharing between nodes that keep their data (simulation and deployment)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.core.command_line import command_group, echo_lines, load_tensorflow
from synth.core.errors import ConfigError
from synth.federated import commands as cluster
from synth.federated.commands import CaOption, FlowerRun, LinkOption, submit_and_follow

FLOWER_APP = Path(__file__).with_name("flower_app")  # the GAN-sharing Flower App that `flwr run` bundles

app = command_group("Share generators between nodes that keep their data (Flower).")
cluster.register(app)  # keys, link, register, node: a real cluster


@app.command("run")
def run_app(
    link: LinkOption,
    ca: CaOption,
    config: Annotated[Path, typer.Option("--config", "-c", help="synth JSON config with a 'share' section, as a path on the SuperLink's machine.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the server's round log share.json, on the SuperLink's machine.")],
    wait: Annotated[bool, typer.Option(help="Show the run's log and wait for its end (--no-wait: print the run ID and return).")] = True,
    app: Annotated[Optional[Path], typer.Option(help="Flower App folder to submit (default: synth's, synth/share/flower_app).")] = None,
) -> None:
    """Submit the GAN-sharing Flower App to the SuperLink (flwr run) and follow it to its end."""
    submit_and_follow(FlowerRun(app or FLOWER_APP, "share", "share-config", "share.json"), link, ca, config, out, wait)


@app.command()
def simulate(
    config: Annotated[Path, typer.Option(help="Run config with data, model, train, classifier and share sections.")],
    nodes: Annotated[Optional[int], typer.Option(help="Simulated nodes (default: share.nodes).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default: share.run_dir).")] = None,
    force: Annotated[bool, typer.Option(help="Replace a non-empty output folder.")] = False,
    parallel: Annotated[int, typer.Option(help="Nodes trained at once (each in its own worker).")] = 1,
) -> None:
    """Run every round with N simulated nodes on this machine (Flower's simulation engine, offline)."""
    from synth.share.simulate import run_share_simulation
    from synth.share.summary import summary_lines

    if parallel < 1:
        raise ConfigError(f"--parallel must be at least 1, got {parallel}")
    load_tensorflow()
    folder, run_log = run_share_simulation(config, nodes, out, force=force, parallel=parallel)
    echo_lines(summary_lines(run_log))
    typer.echo(f"round log and node states in {folder}")
