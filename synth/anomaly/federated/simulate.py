"""Federated anomaly detection with N nodes on one machine, on Flower's simulation engine.

Every node's rows are loaded and dealt before the engine starts, so bad input fails in a second
with one line. Round 1 waits for every simulated node. The output folder is built aside and
moved into place only when every stage has run: ``detector/`` (the federated detector) and the
round log ``federated.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from synth.anomaly.federated.apps import CONFIG_KEY, make_apps, simulated_sites
from synth.anomaly.federated.server import LOG_FILE
from synth.core.atomic import build_directory
from synth.federated.rounds import FederatedRunError
from synth.federated.run_config import MIN_NODES, OUT_DIR
from synth.federated.simulate import run_engine


def run_federated_simulation(config_file: Path, nodes: int, out_dir: Path, force: bool = False) -> tuple[Path, dict]:
    """(output folder, round log) of a simulated federation of ``nodes`` nodes."""
    config_file = Path(config_file).resolve()
    if nodes < 2:
        raise FederatedRunError(f"a federation needs at least 2 nodes, got {nodes}")
    simulated_sites(str(config_file), nodes)  # every node's rows, checked before the engine starts
    target = Path(out_dir).resolve()
    with build_directory(target, force) as staging:
        _run_engine(config_file, staging, nodes)
        run_log = json.loads((staging / LOG_FILE).read_text()) if (staging / LOG_FILE).is_file() else {}
        if run_log.get("status") != "completed":
            raise FederatedRunError(f"the federation did not complete: {run_log.get('status', 'no round log was written')}")
    return target, run_log


def _run_engine(config_file: Path, staging: Path, nodes: int) -> None:
    """Flower's Ray-backed simulation of the apps, one node at a time on every core."""
    server, client = make_apps({CONFIG_KEY: str(config_file), OUT_DIR: str(staging), MIN_NODES: str(nodes)})
    run_engine(server, client, nodes)
