"""Deal a data set's training recordings to simulated nodes, the way a real cluster holds data.

A unit of data is one (recording, class) pair: all windows of one class cut from one recording
(or subject), so a recording never straddles two nodes. Splits:

- "by_recording": every node may hold every class; the recordings are dealt round-robin to all
  nodes (a node ends up with a few recordings of each class if there are enough, and with at
  least one recording as long as there are as many recordings as nodes);
- "by_class": node i lacks class i mod K and holds the others (non-IID, every class is missing
  somewhere);
- "one_class": node i holds class i mod K only (IoTGAN's extreme split).

``node_classes`` (one list of class names per node) pins the classes instead. Each class's units
are shuffled with the seed and dealt round-robin among the nodes that hold the class (by_class,
one_class, node_classes: each such node gets at least one recording of each of its classes), so
the same seed always gives the same partition.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from synth.core.errors import ConfigError
from synth.core.windows import Windows

SPLITS = ("by_recording", "by_class", "one_class")


def node_name(index: int) -> str:
    """The name of simulated node ``index`` (0-based): node-00, node-01, ..."""
    return f"node-{index:02d}"


def partition(
    train: Windows, nodes: int, split: str, seed: int, node_classes: Optional[Sequence[Sequence[str]]] = None
) -> list[Windows]:
    """One Windows per node (labels keep indexing ``train.classes``); errors name the node at fault."""
    rng = np.random.default_rng(seed)
    if split == "by_recording" and node_classes is None:
        return _deal_every_recording(train, nodes, rng)
    held = _classes_per_node(train.classes, nodes, split, node_classes)
    chosen: list[list[np.ndarray]] = [[] for _ in range(nodes)]
    for k, name in enumerate(train.classes):
        holders = [i for i in range(nodes) if k in held[i]]
        if not holders:
            continue  # nobody holds this class (fewer nodes than classes in a one-class split)
        units = _units_of_class(train, k)
        rng.shuffle(units)
        if len(units) < len(holders):
            raise ConfigError(
                f"share: {len(holders)} nodes are to hold class {name!r} but the data has only "
                f"{len(units)} training recordings of it: use fewer nodes or another split"
            )
        for j, unit in enumerate(units):
            chosen[holders[(j + k) % len(holders)]].append(unit)  # the offset k spreads the leftovers
    # every node holds at least one class and every class has a unit per holder: no node is empty
    return [train.subset(np.sort(np.concatenate(c))) for c in chosen]


def _deal_every_recording(train: Windows, nodes: int, rng: np.random.Generator) -> list[Windows]:
    """by_recording: each class's units shuffled and dealt round-robin, the turn running on across
    classes, so nodes get some of every class when there are enough recordings, one at least."""
    chosen: list[list[np.ndarray]] = [[] for _ in range(nodes)]
    turn = 0
    for k in range(len(train.classes)):
        units = _units_of_class(train, k)
        rng.shuffle(units)
        for unit in units:
            chosen[turn % nodes].append(unit)
            turn += 1
    if turn < nodes:
        raise ConfigError(f"share: {nodes} nodes but the data has only {turn} training recordings: use fewer nodes")
    return [train.subset(np.sort(np.concatenate(c))) for c in chosen]


def _classes_per_node(
    classes: Sequence[str], nodes: int, split: str, node_classes: Optional[Sequence[Sequence[str]]]
) -> list[set[int]]:
    """The class indices each node holds."""
    if node_classes is not None:
        return _pinned_classes(classes, nodes, node_classes)
    k = len(classes)
    if split == "by_class":
        return [set(range(k)) - {i % k} if k > 1 else {0} for i in range(nodes)]
    if split == "one_class":
        return [{i % k} for i in range(nodes)]
    raise ConfigError(f"share: unknown split {split!r} (allowed: {', '.join(SPLITS)})")


def _pinned_classes(classes: Sequence[str], nodes: int, node_classes: Sequence[Sequence[str]]) -> list[set[int]]:
    """share.node_classes checked against the data: one non-empty list of known classes per node."""
    if len(node_classes) != nodes:
        raise ConfigError(f"share.node_classes lists {len(node_classes)} nodes but the run has {nodes}")
    held = []
    for i, names in enumerate(node_classes):
        unknown = [n for n in names if n not in classes]
        if unknown:
            raise ConfigError(
                f"share.node_classes: node {node_name(i)} is given class {unknown[0]!r}, which the data does not "
                f"hold (it holds: {', '.join(classes)})"
            )
        if not names:
            raise ConfigError(f"share.node_classes: node {node_name(i)} is given no class")
        held.append({classes.index(n) for n in names})
    return held


def _units_of_class(train: Windows, k: int) -> list[np.ndarray]:
    """Window indices of class ``k``, one array per recording, in recording-name order."""
    of_class = np.flatnonzero(train.y == k)
    groups = train.groups[of_class]
    return [of_class[groups == g] for g in sorted(set(groups.tolist()))]
