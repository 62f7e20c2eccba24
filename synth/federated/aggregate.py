"""Aggregating the nodes' models with Flower's own strategies: FedAvg and the rules robust to bad nodes.

Every federated model of synth is a dict of named float32 arrays. ``aggregate`` hands the
validated updates to the ``aggregate_train`` of one of Flower's Message-API strategies
(flwr.serverapp.strategy), as the replies of a round, and reads the aggregate back:

- "fedavg": FedAvg, the mean weighted by each node's example count;
- "median": FedMedian, the coordinate-wise median (Yin et al. 2018);
- "trimmed_mean": FedTrimmedAvg, the coordinate-wise mean after dropping the ``trim_fraction``
  largest and smallest values (Yin et al. 2018);
- "krum" / "multikrum": Krum and MultiKrum (Blanchard et al. 2017), the update(s) nearest to
  their n - f - 2 neighbours, with f = ``malicious_nodes``;
- "bulyan": Bulyan (El Mhamdi et al. 2018): MultiKrum, then a trimmed mean; needs n >= 4f + 3.

A finite, in-bounds but harmful update (scaled, sign-flipped, trained on wrong data) passes the
checks of synth.federated.validation, and FedAvg averages it in; the robust rules bound what one
or a few such nodes can do.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from synth.core.errors import ConfigError

RULES = ("fedavg", "median", "trimmed_mean", "krum", "multikrum", "bulyan")
EXAMPLES_KEY = "num-examples"  # the MetricRecord key Flower's strategies weight by


@dataclass(frozen=True)
class AggregationRule:
    """Which rule, and its parameters: ``trim_fraction`` (trimmed_mean, in [0, 0.5)) and
    ``malicious_nodes`` (f, the bad nodes krum, multikrum and bulyan must withstand)."""

    name: str = "fedavg"
    trim_fraction: float = 0.2
    malicious_nodes: int = 0

    @property
    def needed(self) -> int:
        """The fewest updates the rule works with (Krum: 2f + 3, Bulyan: 4f + 3)."""
        f = self.malicious_nodes
        return {"krum": 2 * f + 3, "multikrum": 2 * f + 3, "bulyan": 4 * f + 3}.get(self.name, 1)

    def check(self, nodes: int, where: str) -> None:
        """ConfigError (one line) when the rule cannot work with ``nodes`` updates."""
        f, needed = self.malicious_nodes, self.needed
        if nodes < needed:
            raise ConfigError(f"{where}: aggregation {self.name} with malicious_nodes {f} needs at least {needed} "
                              f"nodes answering, the federation has {nodes}")


def rule_of(settings) -> AggregationRule:
    """The AggregationRule of a config section with ``aggregation``, ``trim_fraction`` and ``malicious_nodes``."""
    return AggregationRule(settings.aggregation, settings.trim_fraction, settings.malicious_nodes)


def aggregate(models: Sequence[dict[str, np.ndarray]], examples: Sequence[float],
              rule: AggregationRule = AggregationRule()) -> dict[str, np.ndarray]:
    """The aggregate (named float32 arrays) of ``models`` (each the same names and shapes), trained on
    ``examples`` rows each, by Flower's strategy for ``rule``."""
    from flwr.app import Array, ArrayRecord, Message, MetricRecord, RecordDict

    rule.check(len(models), "this round")
    replies = [Message(RecordDict({"arrays": ArrayRecord({name: Array(np.asarray(value, np.float32)) for name, value in model.items()}),
                                   "metrics": MetricRecord({EXAMPLES_KEY: float(count)})}), dst_node_id=i + 1, message_type="train")
               for i, (model, count) in enumerate(zip(models, examples))]
    with _flower_quiet():
        arrays, _ = _strategy(rule, len(models)).aggregate_train(1, replies)
    return {name: np.asarray(arrays[name].numpy(), np.float32) for name in models[0]}


def average_weights(models: Sequence[dict[str, np.ndarray]], weights: Sequence[float]) -> dict[str, np.ndarray]:
    """FedAvg (Flower's) of named float32 arrays weighted by ``weights``."""
    return aggregate(models, weights, AggregationRule("fedavg"))


@contextmanager
def _flower_quiet() -> Iterator[None]:
    """Flower's strategies log each aggregation at INFO; synth's rounds log their own line."""
    logger = logging.getLogger("flwr")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _strategy(rule: AggregationRule, nodes: int):
    """The Flower strategy object whose ``aggregate_train`` implements ``rule``."""
    from flwr.serverapp import strategy

    f = rule.malicious_nodes
    if rule.name == "fedavg":
        return strategy.FedAvg()
    if rule.name == "median":
        return strategy.FedMedian()
    if rule.name == "trimmed_mean":
        return strategy.FedTrimmedAvg(beta=rule.trim_fraction)
    if rule.name == "krum":
        return strategy.Krum(num_malicious_nodes=f)
    if rule.name == "multikrum":
        return strategy.MultiKrum(num_malicious_nodes=f, num_nodes_to_select=max(1, nodes - f))
    if rule.name == "bulyan":
        return strategy.Bulyan(num_malicious_nodes=f)
    raise ConfigError(f"unknown aggregation {rule.name!r} (allowed: {', '.join(RULES)})")
