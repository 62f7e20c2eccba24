"""Where a node's windows come from: its own data config (deployment) or its share of a data set (simulation).

Every node labels windows by the federation's class list (the server's config), so that class
index k means the same activity on every node and in every shared generator. Windows are
(N, T, 3) float32 in g at the profile's rate.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np

from synth.core.config import Config, load_config, require
from synth.core.errors import ConfigError, DataError
from synth.core.profiles import load_profile
from synth.core.windows import Windows
from synth.data import hapt, pamap2, st_har
from synth.data.loading import load_windows
from synth.share.node import NodeData
from synth.share.partition import node_name, partition

_DEFAULT_CLASSES = {"st_har": st_har.DEFAULT_CLASSES, "pamap2": pamap2.DEFAULT_CLASSES, "hapt": hapt.DEFAULT_CLASSES}


def federation_classes(config: Config) -> tuple[str, ...]:
    """The class list all nodes share: data.classes' names, else the source's default classes."""
    data = require(config.data, "data")
    if data.classes:
        return tuple(data.classes)
    if data.source in _DEFAULT_CLASSES:
        return tuple(_DEFAULT_CLASSES[data.source])
    raise ConfigError(f"data.classes must name the federation's classes for source {data.source!r}")


def simulated_nodes(config: Config, base_dir: Path, nodes: int) -> tuple[list[NodeData], Windows]:
    """(one NodeData per simulated node, the held-out test windows) from the config's data set.

    The data section's ``test_groups`` recordings are held out for every node's test; the rest
    is dealt to ``nodes`` nodes by share.split / share.node_classes.
    """
    data, share = require(config.data, "data"), require(config.share, "share")
    if nodes < 2:
        raise ConfigError(f"share needs at least 2 nodes, got {nodes}")
    windows = load_windows(data, load_profile(config.profile).odr_hz, base_dir)
    windows = relabel(windows, federation_classes(config), "the data set")
    train, test = windows.split_by_group(data.test_groups)
    if len(train) == 0:
        raise DataError("data.test_groups holds out every recording: no node would have data")
    parts = partition(train, nodes, share.split, config.seed, share.node_classes)
    return [NodeData(node_name(i), part, test if len(test) else None) for i, part in enumerate(parts)], test


@functools.lru_cache(maxsize=2)
def cached_simulated_nodes(config_file: str, nodes: int) -> tuple[NodeData, ...]:
    """simulated_nodes for a config file, loaded once per process (a simulation plays many nodes)."""
    config = load_config(config_file)
    return tuple(simulated_nodes(config, Path(config_file).parent, nodes)[0])


def deployed_node(data_config_file: str, name: str, classes: tuple[str, ...]) -> NodeData:
    """A real node's windows from its own data config file (the data section; ``test_groups``, if
    any, are the node's held-out recordings, used to score its classifier)."""
    config = load_config(data_config_file)
    data = require(config.data, "data", data_config_file)
    windows = load_windows(data, load_profile(config.profile).odr_hz, Path(data_config_file).parent)
    windows = relabel(windows, classes, f"node {name}'s data")
    if len(windows) == 0:
        raise DataError(f"node {name} has no data: {data_config_file} gives no windows")
    train, test = windows.split_by_group(data.test_groups)
    return NodeData(name, train, test if len(test) else None)


def relabel(windows: Windows, classes: tuple[str, ...], what: str) -> Windows:
    """``windows`` with labels indexing ``classes``; ConfigError if it holds a class outside them."""
    present = sorted({windows.classes[k] for k in np.unique(windows.y)})
    unknown = [c for c in present if c not in classes]
    if unknown:
        raise ConfigError(f"{what} holds class {unknown[0]!r}, which the federation does not have (it has: {', '.join(classes)})")
    mapping = np.array([classes.index(c) if c in classes else -1 for c in windows.classes], np.int64)
    return replace(windows, y=mapping[windows.y], classes=classes)
