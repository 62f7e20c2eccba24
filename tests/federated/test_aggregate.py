"""Aggregation with Flower's strategies: FedAvg is the weighted mean, and the robust rules keep a
finite, in-bounds but harmful update from moving the aggregate far."""

from __future__ import annotations

import numpy as np
import pytest

from synth.core.errors import ConfigError
from synth.federated.aggregate import RULES, AggregationRule, aggregate, average_weights

pytestmark = pytest.mark.usefixtures("flower_task_identity")  # the strategies read replies as Flower messages


def _honest(count: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [{"kernel": rng.normal(1.0, 0.05, (4, 3)).astype(np.float32), "bias": rng.normal(0.0, 0.05, 3).astype(np.float32)}
            for _ in range(count)]


def _gap(model: dict, reference: dict) -> float:
    return max(float(np.abs(model[k] - reference[k]).max()) for k in reference)


def test_fedavg_is_the_example_weighted_mean():
    models, counts = _honest(4), [10, 20, 30, 40]
    expected = {k: np.tensordot(np.array(counts) / 100.0, np.stack([m[k] for m in models]), axes=1) for k in models[0]}
    averaged = average_weights(models, counts)
    assert _gap(averaged, expected) < 1e-6 and all(v.dtype == np.float32 for v in averaged.values())


@pytest.mark.parametrize("harm", ["sign_flipped_x10", "scaled_x50"])
def test_one_harmful_node_of_five_moves_fedavg_but_not_the_robust_rules(harm):
    honest = _honest(4)
    factor = -10.0 if harm == "sign_flipped_x10" else 50.0
    models = honest + [{k: factor * v for k, v in honest[0].items()}]
    mean = {k: np.mean([m[k] for m in honest], axis=0) for k in honest[0]}
    assert _gap(aggregate(models, [100] * 5, AggregationRule("fedavg")), mean) > 1.0
    for name in ("median", "trimmed_mean", "krum", "multikrum"):
        assert _gap(aggregate(models, [100] * 5, AggregationRule(name, 0.2, 1)), mean) < 0.2, name


def test_bulyan_withstands_one_bad_node_of_seven():
    honest = _honest(6, seed=1)
    models = honest + [{k: -10.0 * v for k, v in honest[0].items()}]
    mean = {k: np.mean([m[k] for m in honest], axis=0) for k in honest[0]}
    assert _gap(aggregate(models, [100] * 7, AggregationRule("bulyan", 0.2, 1)), mean) < 0.2


@pytest.mark.parametrize("name, nodes, needed", [("krum", 4, 5), ("multikrum", 4, 5), ("bulyan", 6, 7)])
def test_too_few_nodes_for_the_rule_is_one_line(name, nodes, needed):
    with pytest.raises(ConfigError, match=f"aggregation {name} with malicious_nodes 1 needs at least {needed} nodes") as error:
        aggregate(_honest(nodes), [1] * nodes, AggregationRule(name, 0.2, 1))
    assert "\n" not in str(error.value)


def test_every_rule_returns_the_models_names_shapes_and_float32():
    models = _honest(7, seed=2)
    for name in RULES:
        out = aggregate(models, [5] * 7, AggregationRule(name, 0.2, 1))
        assert {k: (v.shape, v.dtype) for k, v in out.items()} == {k: (v.shape, np.float32) for k, v in models[0].items()}
