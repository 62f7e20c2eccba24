"""Aggregating shared generators: Flower's FedAvg (window-weighted) or a robust rule, per synth.federated.aggregate.

A generator's per-class motion scales (its "class_scale" weight, (K, 3) in g) are averaged per
class, weighted by each node's window count *of that class*: a node that never saw a class has
only a placeholder scale for it, which must not dilute the others'.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from synth.federated.aggregate import AggregationRule, aggregate
from synth.federated.wire import Holding
from synth.share.node import CLASS_SCALE


def average_generators(
    entries: Sequence[tuple[Holding, dict[str, np.ndarray]]], classes: Sequence[str],
    rule: AggregationRule = AggregationRule(),
) -> tuple[Holding, dict[str, np.ndarray]]:
    """(Holding of the union, aggregated generator) over validated (holding, weights) entries, by ``rule``
    (the class scales are always each class's window-weighted mean: they are measured, not trained)."""
    averaged = aggregate([w for _, w in entries], [h.windows for h, _ in entries], rule)
    key = next(name for name in averaged if CLASS_SCALE in name)
    scales = averaged[key].copy()
    for k, name in enumerate(classes):
        counts = np.array([h.counts.get(name, 0) for h, _ in entries], np.float64)
        if counts.sum() > 0:
            scales[k] = np.tensordot(counts / counts.sum(), np.stack([w[key][k] for _, w in entries]), axes=1)
    averaged[key] = scales.astype(np.float32)
    union = {name: int(sum(h.counts.get(name, 0) for h, _ in entries)) for name in classes}
    return Holding("average", union), averaged
