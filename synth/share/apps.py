"""The Flower apps of GAN-sharing: ``server_app`` (the relay) and ``client_app`` (a node).

Deployment (``flwr run`` against a SuperLink) uses the module-level apps, configured by Flower:
- run config (the Flower App's [tool.flwr.app.config], overridable with ``flwr run --run-config``):
  ``share-config`` (path of the run's synth config on the SuperLink machine) and ``out-dir``
  (and ``min-nodes``, which only a simulation sets: all its nodes, so that none misses round 1);
- node config (``flower-supernode --node-config``): ``data-config`` (path of the node's own synth
  config with a data section), ``state-dir`` (the node's state folder) and ``node-name``.
A simulation (synth.share.simulate) builds the same apps with those values given up front; its
nodes take their share of the config's data set by Flower's ``partition-id``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from flwr.app import Context, Message
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from synth.core.config import Config, require
from synth.core.errors import ConfigError
from synth.federated.run_config import OUT_DIR, run_config, run_setting
from synth.share.client import answer, introduce
from synth.share.node_data import cached_simulated_nodes, deployed_node, federation_classes
from synth.share.server import serve

SHARE_CONFIG = "share-config"
DATA_CONFIG, STATE_DIR, NODE_NAME = "data-config", "state-dir", "node-name"
NODES_SUBDIR = "nodes"


def make_apps(defaults: Mapping[str, str] | None = None) -> tuple[ServerApp, ClientApp]:
    """(ServerApp, ClientApp); ``defaults`` stand in for run-config keys Flower does not provide."""
    defaults = dict(defaults or {})
    server, client = ServerApp(), ClientApp()

    @server.main()
    def _serve(grid: Grid, context: Context) -> None:
        config = run_config(context, defaults, SHARE_CONFIG, "share")
        out_dir = Path(run_setting(context.run_config, defaults, OUT_DIR, config.share.run_dir))
        serve(grid, config, federation_classes(config), require(config.data, "data").window, out_dir)

    @client.train()
    def _train(message: Message, context: Context) -> Message:
        return answer(message, lambda config, classes: _node(context, defaults, config, classes))

    @client.query()
    def _name(message: Message, context: Context) -> Message:
        return introduce(message, _node_name(context, defaults))

    return server, client


def _node_name(context: Context, defaults: Mapping[str, str]) -> str:
    """The name of the node this context runs: its node-name, or its simulated share's."""
    node_config = context.node_config
    if DATA_CONFIG in node_config:
        return str(node_config.get(NODE_NAME) or f"node-{context.node_id}")
    return _simulated_node(context, defaults).name


def _simulated_node(context: Context, defaults: Mapping[str, str]):
    """The simulated node's data: its share (Flower's partition-id) of the config's data set."""
    config_file = run_setting(context.run_config, defaults, SHARE_CONFIG)
    nodes = cached_simulated_nodes(config_file, int(context.node_config["num-partitions"]))
    return nodes[int(context.node_config["partition-id"])]


def _node(context: Context, defaults: Mapping[str, str], config: Config, classes: tuple[str, ...]):
    """(NodeData, state folder) of the node this context runs: its own data, or its simulated share."""
    node_config = context.node_config
    if DATA_CONFIG in node_config:
        name = _node_name(context, defaults)
        state_dir = node_config.get(STATE_DIR)
        if not state_dir:
            raise ConfigError(f"node {name}: the node config needs {STATE_DIR} beside {DATA_CONFIG}")
        return deployed_node(str(node_config[DATA_CONFIG]), name, classes), Path(str(state_dir))
    data = _simulated_node(context, defaults)
    out_dir = Path(run_setting(context.run_config, defaults, OUT_DIR, config.share.run_dir))
    return data, out_dir / NODES_SUBDIR / data.name


# two plain assignments: `flwr run` finds the apps by reading this module's source
_apps = make_apps()
server_app = _apps[0]
client_app = _apps[1]
__all__ = ["client_app", "make_apps", "server_app"]
