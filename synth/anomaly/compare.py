"""Local-only, federated and centralised detectors on the same nodes, scored on the same test rows.

``run_comparison`` deals the config's rows to N nodes (anomaly.split), then trains
- local: one detector per node on that node's rows alone (its own scaling and threshold);
- federated: FedAvg on Flower's simulation engine (synth.anomaly.federated);
- centralised: one detector on every node's rows pooled (the upper bound no federation can beat);
and scores each node's test rows with each. The output folder holds ``report.json``,
``report.md`` and the plots (synth.anomaly.report), ``centralised/`` and ``federated/`` (the
detectors, and the federated round log). The same seed gives the same bytes.
"""

from __future__ import annotations

import time
from pathlib import Path

from synth.anomaly.dataset import AnomalyData, load_anomaly_data
from synth.anomaly.detector import Detector, load_detector, save_detector
from synth.anomaly.partition import NodeRows, partition
from synth.anomaly.report import MethodResult, NodeScores, build_report, write_report
from synth.anomaly.training import train_detector
from synth.core.atomic import build_directory
from synth.core.config import Config, load_config, require

METHODS = ("local", "federated", "centralised")
CENTRAL_DIR, FEDERATED_DIR = "centralised", "federated"


def run_comparison(config_file: Path, nodes: int, out_dir: Path, force: bool = False,
                   methods: tuple[str, ...] = METHODS) -> tuple[Path, dict]:
    """(output folder, report) of the methods asked for; see the module docstring."""
    config_file = Path(config_file).resolve()
    config = load_config(config_file)
    settings = require(config.anomaly, "anomaly")
    data = load_anomaly_data(config, config_file.parent)
    parts = partition(data.train, data.validation, data.test, nodes, settings.split, config.seed, settings.non_iid_alpha)
    with build_directory(Path(out_dir), force) as staging:
        results = {}
        if "local" in methods:
            results["local"] = _local(config, data, parts)
        if "federated" in methods:
            results["federated"] = _federated(config_file, nodes, parts, staging / FEDERATED_DIR)
        if "centralised" in methods:
            results["centralised"] = _centralised(config, data, parts, staging / CENTRAL_DIR)
        context = {**data.context(), "nodes": nodes, "split": settings.split, "k": settings.k, "seed": config.seed,
                   "config": config.model_dump(mode="json")}
        report = build_report(results, context)
        write_report(report, results, staging)
    return Path(out_dir), report


def node_scores(detector: Detector, rows) -> NodeScores:
    """A detector's scores and the score above which a row is anomalous, on one node's test rows."""
    return NodeScores(rows.anomalous, rows.kind, detector.scores(rows.x), detector.score_threshold)


def _local(config: Config, data: AnomalyData, parts: list[NodeRows]) -> MethodResult:
    """Every node trains alone on its own rows."""
    started, per_node = time.perf_counter(), {}
    for i, node in enumerate(parts):
        model, info = train_detector(node.train, node.validation, config.anomaly, config.seed + i, data.full_scale_g, data.rate_hz)
        per_node[node.name] = node_scores(Detector(model, info), node.test)
    return MethodResult(per_node, {"seconds": time.perf_counter() - started})


def _centralised(config: Config, data: AnomalyData, parts: list[NodeRows], folder: Path) -> MethodResult:
    """One detector on all rows pooled, saved to ``folder``."""
    started = time.perf_counter()
    model, info = train_detector(data.train, data.validation, config.anomaly, config.seed, data.full_scale_g, data.rate_hz)
    info = {**info, "training": "centralised", "data_hash": data.data_hash, "seed": config.seed,
            "config": config.model_dump(mode="json")}
    save_detector(model, info, folder)
    detector = Detector(model, info)
    return MethodResult({node.name: node_scores(detector, node.test) for node in parts},
                        {"seconds": time.perf_counter() - started})


def _federated(config_file: Path, nodes: int, parts: list[NodeRows], folder: Path) -> MethodResult:
    """FedAvg on Flower's simulation engine; the detector it writes scores every node's test rows."""
    from synth.anomaly.federated.simulate import run_federated_simulation

    started = time.perf_counter()
    _, run_log = run_federated_simulation(config_file, nodes, folder)
    detector = load_detector(folder / "detector")
    train_stages = [s for s in run_log["stages"] if s["stage"] == "train"]
    extra = {"seconds": time.perf_counter() - started, "rounds": len(train_stages),
             "rounds_per_second": len(train_stages) / max(sum(s["seconds"] for s in train_stages), 1e-9),
             "bytes_per_round": _bytes_per_round(train_stages)}
    return MethodResult({node.name: node_scores(detector, node.test) for node in parts}, extra)


def _bytes_per_round(train_stages: list[dict]) -> dict:
    """Mean bytes sent and received per node in a training round."""
    down = [n.get("bytes_down", 0) for s in train_stages for n in s["nodes"].values()]
    up = [n.get("bytes_up", 0) for s in train_stages for n in s["nodes"].values()]
    return {"down_per_node": sum(down) / max(len(down), 1), "up_per_node": sum(up) / max(len(up), 1)}

