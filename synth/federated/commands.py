"""``synth share keys | link | register | node``: a cluster of Flower 1.42 for synth's Flower Apps.

Thin wrappers over Flower's own programs (flower-superlink, flower-supernode, flwr) that check
their inputs first, so a missing or wrong certificate or an unreachable SuperLink is one line and
exit code 2, and that always start Flower with TLS and node authentication. ``link`` and
``node`` become the Flower process (exec), which is what a systemd unit wants. The modules
behind them (cryptography, ssl) are imported inside the commands so that every other ``synth``
command starts without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.core.command_line import INTERRUPTED

LINK_PORT = 8000  # Flower 1.42's SuperLink port (Fleet, Control and Runtime APIs share it)
NODE_RUNTIME_PORT = 9094  # Flower's loopback port between a SuperNode and its ClientApp process
LinkOption = Annotated[str, typer.Option("--link", help="SuperLink address HOST:PORT (as its certificate names it).")]
CaOption = Annotated[Path, typer.Option("--ca", help="CA certificate (ca.crt from 'synth share keys') that signed the SuperLink's.")]


def register(share_app: typer.Typer) -> None:
    """Add the cluster commands (keys, link, register, node) to the ``synth share`` group."""
    share_app.command("keys")(make_keys)
    share_app.command("link")(start_link)
    share_app.command("register")(register_nodes)
    share_app.command("node")(start_node)


def make_keys(
    out: Annotated[Path, typer.Option("--out", "-o", help="Key folder (existing files are kept).")],
    nodes: Annotated[int, typer.Option(help="Number of SuperNode key pairs: PREFIX-01 ... PREFIX-N.")] = 0,
    prefix: Annotated[str, typer.Option(help="Node name prefix.")] = "pi",
    node: Annotated[Optional[list[str]], typer.Option("--node", help="A node name (repeatable), instead of or besides --nodes.")] = None,
    host: Annotated[Optional[list[str]], typer.Option("--host", help="A name or IP the SuperLink is reached by (repeatable); localhost and 127.0.0.1 are always in.")] = None,
) -> None:
    """Make a CA, the SuperLink's TLS certificate and ECDSA P-384 key pairs for the SuperNodes."""
    from synth.federated import keys

    names = [*(keys.node_names(nodes, prefix) if nodes else []), *(node or [])]
    written = keys.make_cluster_keys(out, names, host or [])
    for path in written:
        typer.echo(f"wrote {path}")
    if not written:
        typer.echo(f"{out} already holds every file asked for")


def start_link(
    certs: Annotated[Path, typer.Option(help="Key folder from 'synth share keys' (ca.crt, server.pem, server.key).")],
    state_dir: Annotated[Path, typer.Option(help="SuperLink state: database of registered nodes and runs, installed app bundles.")],
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface, for a cluster).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of Flower's Fleet, Control and Runtime APIs.")] = LINK_PORT,
) -> None:
    """Start the SuperLink (flower-superlink) with TLS and node authentication."""
    from synth.federated import deploy

    files = deploy.check_link_files(certs)
    deploy.check_port_free(host, port)
    deploy.make_state_dir(state_dir)
    command = deploy.link_command(files, state_dir, host, port)
    typer.echo(f"SuperLink on {host}:{port}, state in {state_dir}", err=True)
    deploy.exec_flower(command, deploy.flower_environment(state_dir))


def register_nodes(
    public_keys: Annotated[list[Path], typer.Argument(help="SuperNode public keys (NAME.pub, OpenSSH format).", show_default=False)],
    link: LinkOption,
    ca: CaOption,
) -> None:
    """Register SuperNode public keys with the SuperLink; only registered nodes may connect."""
    from synth.federated import deploy, keys

    for public_key in public_keys:
        keys.load_public_key(public_key)  # every key is checked before the first is registered
    deploy.check_link(link, ca)
    for public_key in public_keys:
        node_id = deploy.register_node(public_key, link, ca, name=public_key.stem)
        typer.echo(f"{public_key.stem}: {node_id}")


def start_node(
    link: LinkOption,
    ca: CaOption,
    key: Annotated[Path, typer.Option(help="This node's private key (NAME.key from 'synth share keys', or ssh-keygen -t ecdsa -b 384).")],
    data_config: Annotated[Path, typer.Option(help="synth JSON config whose 'data' section names this node's recordings.")],
    state_dir: Annotated[Path, typer.Option(help="This node's persistent state (models, round progress) and Flower's app bundles.")],
    name: Annotated[str, typer.Option(help="Node name in logs and round reports, e.g. pi-01.")],
    runtime_port: Annotated[int, typer.Option(help="Loopback port between this SuperNode and its ClientApp process; one per node on a machine.")] = NODE_RUNTIME_PORT,
) -> None:
    """Start a SuperNode (flower-supernode) that authenticates with its key and serves the ClientApp."""
    from synth.federated import deploy, keys

    keys.load_private_key(key)
    deploy.check_config_section(data_config, "data")
    deploy.check_port_free("127.0.0.1", runtime_port)
    deploy.check_link(link, ca)
    deploy.make_state_dir(state_dir)
    node_config = {"data-config": str(data_config.resolve()), "state-dir": str(state_dir.resolve()), "node-name": name}
    command = deploy.node_command(ca, key, link, node_config, runtime_port)
    typer.echo(f"SuperNode {name} -> {link}, state in {state_dir}", err=True)
    deploy.exec_flower(command, deploy.flower_environment(state_dir))


@dataclass(frozen=True)
class FlowerRun:
    """What one of synth's Flower Apps needs: its folder, config section, run-config key and round log."""

    app: Path
    section: str
    config_key: str
    log_file: str


def submit_and_follow(run: FlowerRun, link: str, ca: Path, config: Path, out: Path, wait: bool) -> None:
    """Check the inputs, submit ``run.app`` with ``config`` (flwr run), and follow the run to its end."""
    from synth.federated import deploy

    if config.is_file():  # on the SuperLink's machine: check now and pass an absolute path
        deploy.check_config_section(config, run.section)
        config = config.resolve()
    deploy.check_link(link, ca)
    run_id = deploy.submit_run(link, ca, str(config), str(out.resolve()), run.app, run.config_key)
    typer.echo(f"run {run_id} started", err=True)
    if not wait:
        typer.echo(run_id)
        return
    try:
        status, details = deploy.wait_for_run(run_id, link, ca)
    except KeyboardInterrupt:
        typer.echo(f"run {run_id} stopped", err=True)
        raise SystemExit(INTERRUPTED) from None  # not the CLI's generic note, which is about training
    if status != "finished:completed":
        raise deploy.DeployError(f"run {run_id} {status.replace('finished:', '')}: {details}")
    outcome = deploy.run_log_status(out.resolve(), run.log_file) or "completed"
    if outcome != "completed":
        raise deploy.DeployError(f"run {run_id} {outcome} (round log in {out / run.log_file})")
    typer.echo(f"run {run_id} completed; round log in {out / run.log_file}")
