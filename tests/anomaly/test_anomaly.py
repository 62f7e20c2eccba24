"""synth.anomaly without Flower's engine: statistics, splits, partitions, detectors, the federated
protocol on an in-process Grid (what crosses the link, rejected updates, failing nodes, exact
scaling and threshold, determinism)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from anomaly_support import telemetry_csv, tiny_anomaly_config
from share_support import InProcessGrid

from synth.anomaly.dataset import load_anomaly_data
from synth.anomaly.detector import Detector, load_detector, save_detector
from synth.anomaly.partition import partition
from synth.core.rows import make_rows
from synth.anomaly.statistics import MinMax, Moments
from synth.anomaly.training import train_detector
from synth.core.config import parse_config
from synth.core.errors import ConfigError, DataError


@pytest.fixture(autouse=True)
def _flower_task(flower_task_identity):
    """Every test here builds Flower messages outside a running task."""


@pytest.fixture
def config(tmp_path):
    return parse_config(tiny_anomaly_config(telemetry_csv(tmp_path / "telemetry.csv"), tmp_path / "runs"))


def test_parts_combine_exactly_into_the_pooled_range_and_threshold():
    rng = np.random.default_rng(1)
    parts = [rng.normal(size=(n, 4)) * (i + 1) for i, n in enumerate((5, 17, 40))]
    pooled = np.concatenate(parts)
    merged = MinMax.merged([MinMax.of(p) for p in parts])
    np.testing.assert_array_equal(merged.low, pooled.min(axis=0))
    np.testing.assert_array_equal(merged.high, pooled.max(axis=0))
    errors = [np.abs(p[:, 0]) for p in parts]
    total = Moments.of(errors[0]) + Moments.of(errors[1]) + Moments.of(errors[2])
    stats = total.threshold(3.0)
    flat = np.concatenate(errors)
    assert stats["count"] == len(flat) and np.isclose(stats["threshold"], flat.mean() + 3 * flat.std(), rtol=1e-12)
    with pytest.raises(DataError, match="no held-out normal rows"):
        Moments(0, 0.0, 0.0).threshold(3.0)


def test_feature_split_keeps_anomalies_out_of_training(config, tmp_path):
    data = load_anomaly_data(config, tmp_path)
    assert not data.train.anomalous.any() and not data.validation.anomalous.any()
    assert data.test.anomalous.sum() == 60 and len(data.train) + len(data.validation) + (~data.test.anomalous).sum() == 600
    assert abs(len(data.validation) - 120) <= 1 and data.train.feature_names == tuple(f"s{i}" for i in range(6))
    again = load_anomaly_data(config, tmp_path)
    assert again.data_hash == data.data_hash


def test_window_split_is_by_recording_and_faults_only_in_test(tmp_path):
    raw = {"seed": 2, "profile": "lsm6dsl_4g", "data": {"source": "st_har", "path": "builtin", "window": 24, "stride": 24},
           "anomaly": {"source": "windows", "faults": ["stuck", "dropout"]}}
    data = load_anomaly_data(parse_config(raw), tmp_path)
    sides = [set(data.train.group), set(data.validation.group), set(data.test.group)]
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    normal_test = (~data.test.anomalous).sum()
    assert sorted(set(data.test.kind)) == ["dropout", "normal", "stuck"] and len(data.test) == 3 * normal_test
    assert np.abs(data.train.x).max() <= 4.0


@pytest.mark.parametrize("split", ["iid", "non_iid", "by_group"])
def test_partitions_deal_every_row_to_exactly_one_node(split):
    rng = np.random.default_rng(0)
    rows = make_rows(rng.normal(size=(90, 3)), np.arange(90) % 10 == 0, "normal", [f"g{i % 6}" for i in range(90)], "abc")
    nodes = partition(rows.normal(), rows.normal(), rows, 3, split, seed=5)
    assert sum(len(n.test) for n in nodes) == 90 and sum(len(n.train) for n in nodes) == 81
    dealt = np.sort(np.concatenate([n.test.x[:, 0] for n in nodes]))
    np.testing.assert_array_equal(dealt, np.sort(rows.x[:, 0]))
    again = partition(rows.normal(), rows.normal(), rows, 3, split, seed=5)
    assert all(np.array_equal(a.train.x, b.train.x) for a, b in zip(nodes, again))
    if split == "by_group":
        assert all(not set(a.test.group) & set(b.test.group) for a in nodes for b in nodes if a is not b)
        with pytest.raises(ConfigError, match="fewer than the 7 nodes"):
            partition(rows.normal(), rows.normal(), rows, 7, split, seed=5)


def test_non_iid_nodes_see_different_regions_at_different_volumes():
    rng = np.random.default_rng(3)
    rows = make_rows(rng.normal(size=(600, 4)), False, "normal", "g", "abcd")
    nodes = partition(rows, rows, rows, 3, "non_iid", seed=1, alpha=0.3)
    sizes = sorted(len(n.train) for n in nodes)
    assert sizes[0] < sizes[-1] / 1.5
    means = sorted(float(n.train.x.mean()) for n in nodes)
    assert means[-1] - means[0] > 0.5


def test_detector_round_trips_and_refuses_other_widths(config, tmp_path):
    data = load_anomaly_data(config, tmp_path)
    model, info = train_detector(data.train, data.validation, config.anomaly, config.seed)
    folder = save_detector(model, {**info, "config": config.model_dump(mode="json")}, tmp_path / "det")
    loaded = load_detector(folder)
    np.testing.assert_array_equal(loaded.errors(data.test.x), Detector(model, info).errors(data.test.x))
    flags = loaded.flags(data.test.x)
    assert flags[data.test.anomalous].mean() > 0.8 and flags[~data.test.anomalous].mean() < 0.1
    with pytest.raises(DataError, match=r"rows of shape \(5,\) do not fit the detector, which takes \(6,\)"):
        loaded.errors(data.test.x[:, :5])
    with pytest.raises(Exception, match="not an anomaly detector folder"):
        load_detector(tmp_path)


# ---- the federated protocol on an in-process Grid ---------------------------------------------


def _federate(config, tmp_path, sites=None, handlers=None, out="fed"):
    from synth.anomaly.federated.apps import simulated_sites
    from synth.anomaly.federated.node import answer
    from synth.anomaly.federated.server import serve

    sites = sites or simulated_sites(str(tmp_path / "config.json"), config.anomaly.nodes)
    node_handlers = {i + 1: (lambda message, s=s: answer(message, lambda _c: s)) for i, s in enumerate(sites)}
    node_handlers.update(handlers or {})
    grid = InProcessGrid(node_handlers)
    return grid, serve(grid, config, tmp_path / out)


@pytest.fixture
def written(config, tmp_path):
    import json

    (tmp_path / "config.json").write_text(json.dumps(config.model_dump(mode="json")))
    return config


def test_federation_is_exact_and_sends_only_weights_ranges_and_counts(written, tmp_path):
    from synth.anomaly.federated.apps import simulated_sites

    grid, run_log = _federate(written, tmp_path)
    assert run_log["status"] == "completed" and [s["stage"] for s in run_log["stages"]] == \
        ["describe", "train", "train", "threshold", "evaluate"]
    detector = load_detector(tmp_path / "fed" / "detector")
    assert detector.info["feature_names"] == [f"s{i}" for i in range(6)] and len(detector.info["data_hashes"]) == 3
    sites = simulated_sites(str(tmp_path / "config.json"), 3)
    pooled_train = np.concatenate([s.rows.train.x for s in sites])
    np.testing.assert_array_equal(detector.scaling.low, pooled_train.min(axis=0).astype(np.float64))
    pooled_validation = np.concatenate([s.rows.validation.x for s in sites])
    errors = detector.errors(pooled_validation)
    assert np.isclose(detector.threshold, errors.mean() + 3 * errors.std(), rtol=1e-5)
    for message in grid.sent + grid.replies:
        for name, record in message.content.array_records.items():
            shapes = {tuple(record[key].numpy().shape) for key in record.keys()}
            assert name in ("model", "scaling", "range") and all(len(s) <= 2 for s in shapes)
            if name != "model":
                assert shapes == {(6,)}  # per-feature low and high only, never rows


def test_a_poisoned_update_and_a_failing_node_leave_the_round_to_the_others(written, tmp_path, caplog):
    from synth.anomaly.federated.node import answer

    def poisoned(message):
        reply = answer(message, lambda _c: sites[1])
        if "model" in reply.content.array_records:
            record = reply.content.array_records["model"]
            first = sorted(record.keys())[0]
            from flwr.app import Array

            record[first] = Array(np.full(record[first].numpy().shape, np.nan, np.float32))
        return reply

    def failing(message):
        if message.content.config_records["stage"]["stage"] == "train":
            raise RuntimeError("disk on fire")
        return answer(message, lambda _c: sites[2])

    from synth.anomaly.federated.apps import simulated_sites

    sites = simulated_sites(str(tmp_path / "config.json"), 3)
    with caplog.at_level(logging.WARNING, logger="synth.anomaly"):
        _, run_log = _federate(written, tmp_path, sites, {2: poisoned, 3: failing})
    assert run_log["status"] == "completed"
    train = [s for s in run_log["stages"] if s["stage"] == "train"]
    assert all(list(s["rejected"]) == ["node-02"] and "non-finite" in s["rejected"]["node-02"] for s in train)
    assert all(len(s["failed"]) == 1 for s in train)
    assert sum("rejected the update of node node-02" in r.message for r in caplog.records) == 2


def test_a_node_with_another_width_is_left_out(written, tmp_path, caplog):
    from dataclasses import replace

    from synth.anomaly.federated.apps import simulated_sites

    sites = list(simulated_sites(str(tmp_path / "config.json"), 3))
    train = sites[2].rows.train
    narrow = make_rows(train.x[:, :5], train.anomalous, train.kind, train.group, train.feature_names[:5])
    sites[2] = replace(sites[2], rows=replace(sites[2].rows, train=narrow))
    with caplog.at_level(logging.WARNING, logger="synth.anomaly"):
        _, run_log = _federate(written, tmp_path, sites)
    assert run_log["status"] == "completed" and sorted(run_log["evaluation"]) == ["node-01", "node-02"]
    assert any("left node node-03 out: its rows have shape (5,), the global model takes (6,)" in r.message for r in caplog.records)


def test_the_same_seed_gives_the_same_federated_detector(written, tmp_path, folder_bytes):
    _federate(written, tmp_path, out="a")
    _federate(written, tmp_path, out="b")
    a, b = folder_bytes(tmp_path / "a" / "detector"), folder_bytes(tmp_path / "b" / "detector")
    assert a["autoencoder.json"] == b["autoencoder.json"]
    assert load_detector(tmp_path / "a" / "detector").model.get_weights()[0].tobytes() == \
        load_detector(tmp_path / "b" / "detector").model.get_weights()[0].tobytes()


def _f1(run_log: dict) -> float:
    """F1 over every node's test confusion counts."""
    tp, fp, fn = (sum(v[key] for v in run_log["evaluation"].values()) for key in ("tp", "fp", "fn"))
    return 2 * tp / max(2 * tp + fp + fn, 1)


def test_a_harmful_but_valid_update_is_outvoted_by_a_robust_rule(written, tmp_path):
    """Node 3 sends its honest update sign-flipped and tripled: finite and under max_weight_norm, so it
    passes every check; FedAvg averages it in, the coordinate-wise median leaves it out."""
    from flwr.app import Array

    from synth.anomaly.federated.apps import simulated_sites
    from synth.anomaly.federated.node import answer

    sites = simulated_sites(str(tmp_path / "config.json"), 3)

    def harmful(message):
        reply = answer(message, lambda _c: sites[2])
        if "model" in reply.content.array_records:
            record = reply.content.array_records["model"]
            for key in list(record.keys()):
                record[key] = Array((-3.0 * record[key].numpy()).astype(record[key].numpy().dtype))
        return reply

    f1 = {}
    for name, rule, handlers in (("honest", "fedavg", None), ("fedavg", "fedavg", {3: harmful}), ("median", "median", {3: harmful})):
        config = written.model_copy(update={"anomaly": written.anomaly.model_copy(update={"aggregation": rule})})
        _, run_log = _federate(config, tmp_path, sites, handlers, out=name)
        assert run_log["status"] == "completed"
        f1[name] = _f1(run_log)
    assert f1["median"] >= f1["honest"] - 0.05 and f1["fedavg"] < f1["median"] - 0.1
