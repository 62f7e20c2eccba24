"""Deal the rows of one data set to N simulated nodes (each node keeps its rows to itself).

Every split (training, held-out normal, test) is dealt separately, so each node gets rows of all
three. ``by_group``: whole groups (devices, files, recordings), round-robin in a seeded order:
one node per N-BaIoT device when N equals the device count. ``iid``: a seeded shuffle cut into
N equal parts. ``non_iid``: the normal rows ordered along the first principal component of the
training rows, cut into N contiguous slices whose sizes follow a seeded Dirichlet(alpha)
(smaller alpha: more unequal), so each node sees its own region of normal behaviour at its own
volume; anomalous test rows are dealt at random (an attack may hit any node).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.core.errors import ConfigError
from synth.core.rows import Rows

MIN_SHARE = 0.2  # of an equal share: the smallest non-IID node still has rows to train on


@dataclass(frozen=True)
class NodeRows:
    """One node's rows: name ("node-01" ...), normal training, held-out normal and test rows."""

    name: str
    train: Rows
    validation: Rows
    test: Rows


def partition(train: Rows, validation: Rows, test: Rows, nodes: int, split: str, seed: int,
              alpha: float = 0.5) -> list[NodeRows]:
    """The rows of every node; ConfigError when a node would get no rows of some split."""
    deal = {"by_group": _by_group, "iid": _iid, "non_iid": _non_iid}[split]
    axis = _principal_axis(train) if split == "non_iid" else None
    shares = _dirichlet_shares(nodes, alpha, seed) if split == "non_iid" else None
    parts = [deal(rows, nodes, seed + offset, axis, shares) for offset, rows in enumerate((train, validation, test))]
    result = []
    for i in range(nodes):
        name = f"node-{i + 1:02d}"
        node = NodeRows(name, *(rows.subset(indices[i]) for rows, indices in zip((train, validation, test), parts)))
        _check_not_empty(node, split)
        result.append(node)
    return result


def _by_group(rows: Rows, nodes: int, seed: int, axis, shares) -> list[np.ndarray]:
    names = sorted(set(rows.group.tolist()))
    if len(names) < nodes:
        raise ConfigError(f"split by_group: the data has {len(names)} groups ({', '.join(names[:5])}"
                          f"{' ...' if len(names) > 5 else ''}) in one of its splits, fewer than the {nodes} nodes")
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    return [np.flatnonzero(np.isin(rows.group, order[i::nodes])) for i in range(nodes)]


def _iid(rows: Rows, nodes: int, seed: int, axis, shares) -> list[np.ndarray]:
    return [np.sort(part) for part in np.array_split(np.random.default_rng(seed).permutation(len(rows)), nodes)]


def _non_iid(rows: Rows, nodes: int, seed: int, axis: tuple, shares: np.ndarray) -> list[np.ndarray]:
    normal, anomalous = np.flatnonzero(~rows.anomalous), np.flatnonzero(rows.anomalous)
    mean, std, direction = axis
    projection = ((_flat(rows.x[normal]) - mean) / std) @ direction
    ordered = normal[np.argsort(projection, kind="stable")]
    cuts = np.round(np.cumsum(shares)[:-1] * len(ordered)).astype(int)
    slices = np.split(ordered, cuts)
    random_parts = _iid(rows.subset(anomalous), nodes, seed, None, None)
    return [np.sort(np.concatenate([slices[i], anomalous[random_parts[i]]])) for i in range(nodes)]


def _principal_axis(train: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, std, first principal component), each (D,), of the flattened training rows standardised."""
    x = _flat(train.x)
    mean, std = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-12)
    _, _, vt = np.linalg.svd(((x - mean) / std)[:: max(1, len(x) // 20000)], full_matrices=False)  # a subsample is plenty
    return mean, std, vt[0]


def _dirichlet_shares(nodes: int, alpha: float, seed: int) -> np.ndarray:
    """Node shares (N,) summing to 1, Dirichlet(alpha) but none below MIN_SHARE of an equal share."""
    raw = np.random.default_rng(seed).dirichlet(np.full(nodes, alpha))
    floor = MIN_SHARE / nodes
    return floor + (1 - floor * nodes) * raw


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, np.float64).reshape(len(x), -1)


def _check_not_empty(node: NodeRows, split: str) -> None:
    for name, rows in (("training", node.train), ("held-out normal", node.validation), ("test", node.test)):
        if not len(rows):
            raise ConfigError(f"split {split}: {node.name} gets no {name} rows; use fewer nodes or more data")
