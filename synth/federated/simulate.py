"""Flower's one-machine simulation engine (Ray): N simulated nodes of a ServerApp and a ClientApp."""

from __future__ import annotations

import importlib.util
import os

from synth.core.errors import ConfigError
from synth.core.quiet import library_output_muted

QUIET_ENVIRONMENT = {"FLWR_TELEMETRY_ENABLED": "0", "FLWR_DISABLE_UPDATE_CHECK": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
                     "RAY_DEDUP_LOGS": "0", "RAY_USAGE_STATS_ENABLED": "0"}


def require_simulation_engine() -> None:
    """ConfigError in one line when Flower's simulation engine (Ray, the ``simulation`` extra) is absent;
    Flower itself would end in a ten-line 'Exit Code: 701' message."""
    if importlib.util.find_spec("ray") is None:
        raise ConfigError("Flower's simulation engine (Ray) is not installed; simulated nodes need it: "
                          "pip install 'synth[simulation]' (a real cluster does not: see 'synth share node')")


def run_engine(server, client, nodes: int, parallel: int = 1) -> None:
    """Play ``nodes`` simulated nodes of the apps on Flower's Ray engine, ``parallel`` at a time
    (each worker gets an equal share of the cores)."""
    require_simulation_engine()
    from flwr.simulation import run_simulation

    os.environ.update(QUIET_ENVIRONMENT)
    cpus = os.cpu_count() or 1
    per_node = max(cpus / max(parallel, 1), 1)
    with library_output_muted():  # Ray's and Flower's start-up lines, the nodes' TensorFlow; synth's log stays
        run_simulation(
            server_app=server, client_app=client, num_supernodes=nodes,
            backend_config={"client_resources": {"num_cpus": per_node, "num_gpus": 0.0},
                            "init_args": {"num_cpus": cpus, "include_dashboard": False, "logging_level": "error"}},
        )
