"""GAN-sharing: partitions, wire formats, checks on received models, averaging, and whole rounds
played in-process (every message inspected; nodes failing, falling silent or sending bad weights)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, ConfigRecord, MetricRecord

from synth.core.config import parse_config
from synth.core.errors import ConfigError
from synth.share.aggregate import average_generators
from synth.share.partition import partition
from synth.federated.rounds import FederatedRunError
from synth.federated.validation import Rejected, check_holding, checked_weights
from synth.federated.wire import Holding, encode_weights, holding_record, read_holding
from synth.core.windows import Windows
from share_support import InProcessGrid, NodeDied, tiny_share_config, with_share

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ("stationary", "walking", "running")


@pytest.fixture(autouse=True)
def _flower_task(flower_task_identity):
    """Every test here builds Flower messages outside a running task."""


def _windows(recordings_per_class: int = 4, per_recording: int = 3) -> Windows:
    """Tiny labelled windows: recording r of class k has ``per_recording`` windows."""
    y, groups = [], []
    for k, name in enumerate(CLASSES):
        for r in range(recordings_per_class):
            y += [k] * per_recording
            groups += [f"{name}_{r:02d}"] * per_recording
    x = np.zeros((len(y), 8, 3), np.float32)
    return Windows(x, np.array(y), CLASSES, 26.0, "g", np.array(groups))


# ---- partitions ----------------------------------------------------------------------------

def test_one_class_split_gives_each_node_one_activity_and_never_splits_a_recording():
    parts = partition(_windows(), 6, "one_class", seed=1)
    assert [sorted(set(p.y.tolist())) for p in parts] == [[0], [1], [2], [0], [1], [2]]
    owners = {}
    for i, part in enumerate(parts):
        for group in set(part.groups.tolist()):
            assert owners.setdefault(group, i) == i
    assert sum(len(p) for p in parts) == len(_windows())


def test_by_class_split_leaves_one_class_out_per_node_and_by_recording_keeps_all():
    assert [sorted(set(p.y.tolist())) for p in partition(_windows(), 3, "by_class", seed=1)] == [[1, 2], [0, 2], [0, 1]]
    assert all(len(set(p.y.tolist())) == 3 for p in partition(_windows(), 2, "by_recording", seed=1))


def test_by_recording_deals_more_nodes_than_a_class_has_recordings_as_long_as_every_node_gets_one():
    parts = partition(_windows(recordings_per_class=4), 10, "by_recording", seed=1)
    assert all(len(p) > 0 for p in parts) and sum(len(p) for p in parts) == len(_windows())
    with pytest.raises(ConfigError, match="13 nodes but the data has only 12 training recordings"):
        partition(_windows(recordings_per_class=4), 13, "by_recording", seed=1)


def test_partition_is_reproducible_and_depends_on_the_seed():
    a, b, c = (partition(_windows(), 2, "by_recording", seed=s) for s in (1, 1, 2))
    assert all(np.array_equal(p.groups, q.groups) for p, q in zip(a, b))
    assert any(not np.array_equal(p.groups, q.groups) for p, q in zip(a, c))


def test_partition_refuses_unknown_classes_too_many_nodes_and_nodes_without_classes():
    with pytest.raises(ConfigError, match="node node-01 is given class 'cycling'"):
        partition(_windows(), 2, "by_recording", 1, node_classes=[["walking"], ["cycling"]])
    with pytest.raises(ConfigError, match="lists 1 nodes but the run has 2"):
        partition(_windows(), 2, "by_recording", 1, node_classes=[["walking"]])
    with pytest.raises(ConfigError, match="only 4 training recordings"):
        partition(_windows(), 15, "one_class", 1)
    with pytest.raises(ConfigError, match="node node-00 is given no class"):
        partition(_windows(), 2, "by_recording", 1, node_classes=[[], ["walking"]])


# ---- wire formats and checks ---------------------------------------------------------------

def _weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"000_dense.kernel": rng.normal(size=(4, 5)).astype(np.float32), "001_dense.bias": rng.normal(size=5).astype(np.float32)}


SHAPES = {"000_dense.kernel": (4, 5), "001_dense.bias": (5,)}


@pytest.mark.parametrize("wire, tolerance, bytes_per_value", [("float32", 0.0, 4), ("float16", 2e-3, 2), ("int8", 0.02, 1)])
def test_wire_formats_round_trip_within_their_precision(wire, tolerance, bytes_per_value):
    weights = _weights()
    record = encode_weights(weights, wire)
    decoded = checked_weights(record, SHAPES, wire, max_norm=100.0)
    for name, value in weights.items():
        assert decoded[name].dtype == np.float32
        assert np.max(np.abs(decoded[name] - value)) <= tolerance * np.abs(value).max() + 1e-12
    payload = sum(record[n].numpy().nbytes for n in record.keys() if not n.endswith("#scale"))
    assert payload == 25 * bytes_per_value


def _bad(mutate) -> ArrayRecord:
    arrays = {n: Array(v) for n, v in _weights().items()}
    mutate(arrays)
    return ArrayRecord(array_dict=arrays)


@pytest.mark.parametrize("mutate, reason", [
    (lambda a: a.update({"002_extra": Array(np.zeros(3, np.float32))}), "unexpected array '002_extra'"),
    (lambda a: a.pop("001_dense.bias"), "missing array '001_dense.bias'"),
    (lambda a: a.update({"001_dense.bias": Array(np.zeros(6, np.float32))}), "is float32[6], expected float32[5]"),
    (lambda a: a.update({"001_dense.bias": Array(np.zeros(5, np.float64))}), "is float64[5], expected float32[5]"),
    (lambda a: a.update({"001_dense.bias": Array(np.full(5, np.nan, np.float32))}), "non-finite"),
    (lambda a: a.update({"001_dense.bias": Array(np.full(5, 1e6, np.float32))}), "exceeds the bound"),
])
def test_a_malformed_or_poisoned_model_is_rejected_with_the_reason(mutate, reason):
    with pytest.raises(Rejected, match=reason.replace("[", r"\[").replace("]", r"\]")):
        checked_weights(_bad(mutate), SHAPES, "float32", max_norm=1000.0)


def test_a_description_must_be_well_formed_and_name_only_federation_classes():
    holding = Holding("node-01", {"walking": 12, "running": 0})
    parsed, wire = read_holding(holding_record(holding, "int8"))
    assert parsed == holding and wire == "int8" and parsed.classes == ("walking",)
    with pytest.raises(Rejected, match="claims class 'cycling'"):
        check_holding(Holding("x", {"cycling": 3}), CLASSES)
    with pytest.raises(ValueError, match="counts"):
        read_holding(ConfigRecord({"node": "x", "classes": ["walking"], "counts": [-1], "wire_dtype": "float32"}))


def test_fedavg_averages_class_scales_only_over_nodes_that_hold_the_class():
    scale_name = "005_class_scale.kernel"
    a = {"000_w": np.ones(2, np.float32), scale_name: np.array([[0.5] * 3, [1.0] * 3, [1.0] * 3], np.float32)}
    b = {"000_w": np.full(2, 3.0, np.float32), scale_name: np.array([[1.0] * 3, [0.2] * 3, [1.0] * 3], np.float32)}
    holding, averaged = average_generators(
        [(Holding("a", {"stationary": 10}), a), (Holding("b", {"walking": 30}), b)], CLASSES)
    assert np.allclose(averaged["000_w"], 2.5)  # window-weighted: (10 * 1 + 30 * 3) / 40
    assert np.allclose(averaged[scale_name][0], 0.5) and np.allclose(averaged[scale_name][1], 0.2)
    assert holding.counts == {"stationary": 10, "walking": 30, "running": 0}


# ---- whole rounds in this process ----------------------------------------------------------

def _federation(tmp_path: Path, raw: dict, wrap=None):
    """(config, InProcessGrid, node data) for a tiny run; ``wrap(index, handler)`` may replace a node's handler."""
    from synth.share.client import answer, introduce
    from synth.share.node_data import simulated_nodes

    config = parse_config(raw)
    nodes, _ = simulated_nodes(config, ROOT, config.share.nodes)
    handlers = {}
    for i, data in enumerate(nodes):
        def handle(message, data=data):
            if message.metadata.message_type == "query":
                return introduce(message, data.name)
            return answer(message, lambda _config, _classes: (data, tmp_path / "nodes" / data.name))
        handlers[100 + i] = wrap(i, handle) if wrap else handle
    return config, InProcessGrid(handlers), nodes


def _serve(config, grid, out: Path) -> dict:
    from synth.share.node_data import federation_classes
    from synth.share.server import serve

    return serve(grid, config, federation_classes(config), config.data.window, out)


def test_relay_round_carries_only_weights_and_descriptions(tmp_path):
    from synth.share.shapes import generator_shapes

    config, grid, nodes = _federation(tmp_path, tiny_share_config(tmp_path / "run"))
    run_log = _serve(config, grid, tmp_path / "server")
    assert run_log["status"] == "completed" and [r["answered"] for r in run_log["rounds"]] == [3, 3]
    shapes = generator_shapes(config, 48, 3)
    for message in [*grid.sent, *grid.replies]:
        content = message.content
        assert set(content.keys()) == set(content.array_records) | set(content.config_records) | set(content.metric_records)
        for record in content.array_records.values():  # generator weights, exactly the architecture's arrays
            assert {n: tuple(record[n].shape) for n in record.keys()} == shapes
        for record in content.config_records.values():  # small metadata: names and numbers, no bytes
            assert all(isinstance(v, (str, int, float, bool)) or (isinstance(v, list) and all(isinstance(i, (str, int)) for i in v))
                       for v in record.values())
            assert record.count_bytes() < 4096
        for record in content.metric_records.values():
            assert isinstance(record, MetricRecord)
    # round 2: every node received the other two generators, never its own
    second = [m for m in grid.sent if m.metadata.group_id == "2"]
    names = {n.name for n in nodes}
    for message in second:
        senders = {k.split("/", 1)[1] for k in message.content.array_records}
        assert len(senders) == 2 and senders < names
    assert all(n["generated_windows"] == 2 * 32 for n in run_log["rounds"][1]["nodes"].values())


def test_failed_dead_and_silent_nodes_are_reported_once_by_name_with_the_true_reason(tmp_path, caplog):
    def wrap(index, handle):
        if index == 0:  # answers round 1, then dies: the SuperLink answers for it, under its own id
            return lambda message: handle(message) if message.metadata.group_id == "1" else _die()
        if index == 1:
            return lambda message: (_ for _ in ()).throw(RuntimeError("battery died"))
        if index == 2:
            return lambda message: handle(message) if message.metadata.group_id == "1" else None
        return handle

    config, grid, nodes = _federation(tmp_path, tiny_share_config(tmp_path / "run", nodes=4), wrap)
    with caplog.at_level(logging.WARNING, logger="synth.share"):
        run_log = _serve(config, grid, tmp_path / "server")
    assert run_log["status"] == "completed"
    first, second = run_log["rounds"]
    dead, silent = nodes[0].name, nodes[2].name
    assert first["answered"] == 3 and list(first["failed"]) == ["node id 101"] and "battery died" in first["failed"]["node id 101"]
    assert second["answered"] == 1 and sorted(second["failed"]) == sorted([dead, "node id 101"])
    assert "Node Unavailable" in second["failed"][dead] and second["silent"] == [silent]
    round_two = [r.message for r in caplog.records if r.message.startswith("round 2:")]
    assert sum(dead in line for line in round_two) == 1 and sum(silent in line for line in round_two) == 1
    assert not any(" 1 " in line or "node 1:" in line for line in round_two)  # never under the SuperLink's id


def _die():
    raise NodeDied()


def test_a_poisoned_generator_is_rejected_by_every_receiver_who_carries_on(tmp_path, caplog):
    def wrap(index, handle):
        if index != 0:
            return handle

        def poisoned(message):
            reply = handle(message)
            record = reply.content.array_records["generator"]
            name = sorted(record.keys())[0]
            record[name] = Array(np.full(record[name].shape, np.nan, np.float32))
            return reply
        return poisoned

    config, grid, nodes = _federation(tmp_path, tiny_share_config(tmp_path / "run"), wrap)
    with caplog.at_level(logging.WARNING, logger="synth.share"):
        run_log = _serve(config, grid, tmp_path / "server")
    rejections = [r.getMessage() for r in caplog.records if "rejected the generator from node-00" in r.getMessage()]
    assert len(rejections) == 2 and all("non-finite" in line for line in rejections)
    second = run_log["rounds"][1]["nodes"]
    assert second["node-01"]["generated_windows"] == 32  # only node-02's generator was used


def test_node_state_survives_a_restart_and_the_node_catches_up(tmp_path):
    from synth.share.node_state import load_state

    raw = tiny_share_config(tmp_path / "run", rounds=1)
    config, grid, nodes = _federation(tmp_path, raw)
    _serve(config, grid, tmp_path / "server")
    state = load_state(tmp_path / "nodes" / "node-00", "node-00")
    assert state.round == 1 and state.gan is not None and state.classifier is not None and not state.received
    # a second run against the same node folders: nodes restart from disk and take the others' generators
    config, grid, _ = _federation(tmp_path, raw)
    relay_log = _serve(config, grid, tmp_path / "server2")
    assert relay_log["rounds"][0]["answered"] == 3
    state = load_state(tmp_path / "nodes" / "node-00", "node-00")
    assert state.round == 1 and sorted(state.received) in ([], ["node-01", "node-02"])


@pytest.mark.parametrize("mode, record", [("fedavg", "generator/average"), ("classifier_fedavg", "classifier/average"), ("local", None)])
def test_other_modes_send_what_they_promise(tmp_path, mode, record):
    config, grid, _ = _federation(tmp_path, with_share(tiny_share_config(tmp_path / "run"), mode=mode, wire_dtype="int8"))
    run_log = _serve(config, grid, tmp_path / "server")
    assert run_log["status"] == "completed"
    second = [m for m in grid.sent if m.metadata.group_id == "2"]
    keys = set().union(*(set(m.content.array_records) for m in second))
    assert keys == ({record} if record else set())
    if mode == "classifier_fedavg":
        assert all("received_accuracy" in n for n in run_log["rounds"][1]["nodes"].values())


def test_too_few_nodes_end_the_run_with_a_reason(tmp_path):
    raw = with_share(tiny_share_config(tmp_path / "run"), min_nodes=5, round_timeout_s=1.0)
    config, grid, _ = _federation(tmp_path, raw)
    with pytest.raises(FederatedRunError, match="only 3 node"):
        _serve(config, grid, tmp_path / "server")
    run_log = json.loads((tmp_path / "server" / "share.json").read_text())
    assert run_log["status"].startswith("failed: only 3 node(s) connected within 1 s")


NODE_WITHOUT_RAY = """
import sys
sys.modules["ray"] = None  # importing ray now fails: a cluster node installs flwr without the simulation extra
from synth.share import apps, client, node, node_data, models
from synth.federated import validation, wire
from synth.share.apps import client_app, server_app
print("ok", "ray" in sys.modules and sys.modules["ray"] is not None)
"""


def test_the_node_and_server_code_paths_do_not_need_the_simulation_engine():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", NODE_WITHOUT_RAY], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok False")


def test_a_node_leaves_a_generator_and_a_classifier_the_rest_of_synth_reads(tmp_path):
    from synth.models.artifact import load_generator
    from synth.models.sampling import sample_windows
    from synth.classify.train_classifier import load_trained_classifier

    config, grid, _ = _federation(tmp_path, tiny_share_config(tmp_path / "run", rounds=1))
    _serve(config, grid, tmp_path / "server")
    generator, info = load_generator(tmp_path / "nodes" / "node-01" / "generator")
    assert info.classes == CLASSES and info.provenance["share"]["round"] == 1
    windows = sample_windows(generator, np.array([0, 1, 2]), info.noise_dim, 3, seed=1)
    classifier = load_trained_classifier(tmp_path / "nodes" / "node-01" / "classifier")
    assert classifier.predict_proba(windows).shape == (3, 3)


def test_a_second_process_on_a_node_state_folder_fails_its_round_in_one_line(tmp_path):
    from synth.share.node_state import state_lock

    config, grid, nodes = _federation(tmp_path, tiny_share_config(tmp_path / "run", rounds=1))
    with state_lock(tmp_path / "nodes" / nodes[0].name, "a ClientApp still running"):
        run_log = _serve(config, grid, tmp_path / "server")
    (reason,) = run_log["rounds"][0]["failed"].values()
    assert "another process is playing a round on its state" in reason and "\n" not in reason
    assert run_log["rounds"][0]["answered"] == 2 and not (tmp_path / "nodes" / nodes[0].name / "state.json").exists()


def test_a_state_commit_cut_short_leaves_the_previous_round_whole(tmp_path, monkeypatch):
    from synth.share import node_state
    from synth.share.node_state import load_state, save_state

    folder = tmp_path / "node"
    first = node_state.NodeState("pi-01", round=1, gan={"v0000": np.ones(3, np.float32)}, classifier={"v0000": np.zeros(2, np.float32)})
    save_state(folder, first, {"seed": 1})

    def cut_short(snapshot, state):
        node_state.save_npz(snapshot / node_state.GAN_FILE, state.gan)
        raise OSError("power lost")

    monkeypatch.setattr(node_state, "_write_snapshot", cut_short)
    second = node_state.NodeState("pi-01", round=2, gan={"v0000": np.full(3, 2, np.float32)}, classifier=first.classifier)
    with pytest.raises(OSError):
        save_state(folder, second, {"seed": 1})
    monkeypatch.undo()
    state = load_state(folder, "pi-01")
    assert state.round == 1 and state.gan["v0000"].tolist() == [1, 1, 1] and state.classifier is not None
    save_state(folder, second, {"seed": 1})  # the next commit clears what the cut-short one left
    assert load_state(folder, "pi-01").round == 2
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["round-2", "state.json"]
