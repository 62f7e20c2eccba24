"""``synth share simulate``: N nodes and the relay on one machine, on Flower's simulation engine.

Everything a node would refuse (unknown classes, a node without data, fewer than 2 nodes) is
checked here first, so bad input fails in a second with one line instead of inside the engine.
Round 1 waits for every simulated node to join (Flower registers them while the server starts).
The output folder is built aside and moved into place only when every round has run; it holds
the round log ``share.json`` and ``nodes/<name>/`` (each node's state, see synth.share.node_state).
By default one simulated node runs at a time, on all cores: the compiled models are shared by the
nodes a worker plays, and results do not depend on the order nodes are played in. The same seed
and the same ``parallel`` give the same bytes; another ``parallel`` gives each worker another
thread count, which changes floating-point summation order (results then agree only closely).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

from synth.core.atomic import build_directory
from synth.core.config import load_config, require
from synth.federated.aggregate import rule_of
from synth.federated.rounds import FederatedRunError
from synth.federated.run_config import MIN_NODES, OUT_DIR
from synth.federated.simulate import run_engine
from synth.share.apps import SHARE_CONFIG, make_apps
from synth.share.node_data import simulated_nodes
from synth.share.server import LOG_FILE

log = logging.getLogger("synth.share")


def run_share_simulation(config_file: Path, nodes: Optional[int] = None, out_dir: Optional[Path] = None,
                         force: bool = False, parallel: int = 1) -> tuple[Path, dict]:
    """Run every round of the config's share section with ``nodes`` simulated nodes.

    Returns (output folder, round log). ``parallel``: nodes played at once (one worker each).
    """
    config_file = Path(config_file).resolve()
    config = load_config(config_file)
    share = require(config.share, "share")
    nodes = nodes or share.nodes
    if share.mode in ("fedavg", "classifier_fedavg"):
        rule_of(share).check(nodes, "share")  # before the engine starts, as the server would at round 1
    simulated_nodes(config, config_file.parent, nodes)  # every node's data, checked before the engine starts
    target = Path(out_dir or share.run_dir).resolve()
    with build_directory(target, force) as staging:
        _run_engine(config_file, staging, nodes, parallel)
        run_log = json.loads((staging / LOG_FILE).read_text()) if (staging / LOG_FILE).is_file() else {}
        if run_log.get("status") != "completed":
            raise FederatedRunError(f"the simulation did not complete: {run_log.get('status', 'no round log was written')}")
    return target, run_log


def _run_engine(config_file: Path, staging: Path, nodes: int, parallel: int) -> None:
    """Flower's Ray-backed simulation of the apps, writing into ``staging``."""
    server, client = make_apps({SHARE_CONFIG: str(config_file), OUT_DIR: str(staging), MIN_NODES: str(nodes)})
    run_engine(server, client, nodes, parallel)
