"""``synth share``: GAN-sharing between nodes that keep their data (simulation and deployment)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Callable, Optional

import typer


def register(app: typer.Typer, load_tensorflow: Callable[[], None]) -> None:
    """Add the ``synth share`` group to ``app``."""
    share_app = typer.Typer(help="Share generators between nodes that keep their data (Flower).", no_args_is_help=True)
    app.add_typer(share_app, name="share")
    from synth.share.deploy_commands import register as register_deployment

    register_deployment(share_app)  # keys, link, register, node, run: a real cluster

    @share_app.command()
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
            from synth.core.errors import ConfigError

            raise ConfigError(f"--parallel must be at least 1, got {parallel}")
        load_tensorflow()
        folder, run_log = run_share_simulation(config, nodes, out, force=force, parallel=parallel)
        for line in summary_lines(run_log):
            typer.echo(line)
        typer.echo(f"round log and node states in {folder}")
