"""The Flower apps of federated anomaly detection: ``server_app`` (FedAvg) and ``client_app`` (a node).

Deployment (``synth anomaly run`` / ``flwr run`` against a SuperLink started by ``synth share
link``) uses the module-level apps, configured by Flower:
- run config: ``anomaly-config`` (the run's synth config on the SuperLink machine) and ``out-dir``
  (and ``min-nodes``, which only a simulation sets);
- node config (``synth share node`` / ``flower-supernode --node-config``): ``data-config`` (the
  node's own synth config, whose anomaly section, and data section for windows, name its rows;
  all of them are the node's) and ``node-name``.
A simulation (simulate.py) builds the same apps with the values given up front; its nodes take
their share of the config's rows by Flower's ``partition-id``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Mapping

from flwr.app import Context, Message
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from synth.anomaly.dataset import load_anomaly_data
from synth.anomaly.federated.node import Site, answer
from synth.anomaly.federated.server import serve
from synth.anomaly.partition import NodeRows, partition
from synth.core.config import Config, load_config
from synth.federated.run_config import OUT_DIR, run_config, run_setting

CONFIG_KEY = "anomaly-config"
DATA_CONFIG, NODE_NAME = "data-config", "node-name"


def make_apps(defaults: Mapping[str, str] | None = None) -> tuple[ServerApp, ClientApp]:
    """(ServerApp, ClientApp); ``defaults`` stand in for run-config keys Flower does not provide."""
    defaults = dict(defaults or {})
    server, client = ServerApp(), ClientApp()

    @server.main()
    def _serve(grid: Grid, context: Context) -> None:
        config = run_config(context, defaults, CONFIG_KEY, "anomaly")
        serve(grid, config, Path(run_setting(context.run_config, defaults, OUT_DIR, config.anomaly.run_dir)))

    @client.train()
    def _train(message: Message, context: Context) -> Message:
        return answer(message, lambda config: _site(context, defaults, config))

    return server, client


def _site(context: Context, defaults: Mapping[str, str], config: Config):
    """The Site of the node this context runs: its own rows (deployment) or its simulated share."""
    node_config = context.node_config
    if DATA_CONFIG in node_config:
        name = str(node_config.get(NODE_NAME) or f"node-{context.node_id}")
        return deployed_site(str(node_config[DATA_CONFIG]), name)
    sites = simulated_sites(run_setting(context.run_config, defaults, CONFIG_KEY), int(node_config["num-partitions"]))
    return sites[int(node_config["partition-id"])]


@functools.lru_cache(maxsize=2)
def simulated_sites(config_file: str, nodes: int) -> tuple:
    """Every simulated node's Site from a config file, loaded once per process."""
    config = load_config(config_file)
    data = load_anomaly_data(config, Path(config_file).parent)
    settings = config.anomaly
    parts = partition(data.train, data.validation, data.test, nodes, settings.split, config.seed, settings.non_iid_alpha)
    return tuple(Site(rows, i, data.full_scale_g, data.rate_hz) for i, rows in enumerate(parts))


@functools.lru_cache(maxsize=2)
def deployed_site(data_config_file: str, name: str):
    """A real node's Site: every row its own data config gives, split as the config says."""
    data = load_anomaly_data(load_config(data_config_file), Path(data_config_file).parent)
    return Site(NodeRows(name, data.train, data.validation, data.test), 0, data.full_scale_g, data.rate_hz)


# two plain assignments: `flwr run` finds the apps by reading this module's source
_apps = make_apps()
server_app = _apps[0]
client_app = _apps[1]
__all__ = ["client_app", "make_apps", "server_app"]
