"""Federated anomaly detection with harmful nodes: F1 of plain FedAvg against each robust rule.

Usage:
  .venv/bin/python benchmarks/bench_robust_aggregation.py [--parts shuttle,windows] [--nodes 5,10] \
      [--attacks sign_flip,mislabelled] [--out runs/bench_robust] [--quick]

The federation's own server code (synth.anomaly.federated.server.serve) drives its nodes' own code
in one process (synth.federated.in_process), on the shipped configs (configs/anomaly_shuttle.json:
NASA's Shuttle set; configs/anomaly_st_har.json: ST's recordings with six injected sensor faults),
split IID over 5 and 10 nodes. The first 1 or 2 nodes are harmful, in ways every check on
updates lets through (finite, within max_weight_norm):
- sign_flip: the node sends its honest update multiplied by -3, every round;
- mislabelled: the node trains on its test rows, anomalies included, as if they were normal.
Each harmful setting runs with every rule of synth.federated.aggregate that the node count
allows (Krum: n >= 2f + 3, Bulyan: n >= 4f + 3; malicious_nodes = f); the honest federation
(FedAvg, no harmful node) is the reference. F1 pools every node's test rows, the harmful
nodes' included (the detector is global). Goal: with 1 of 5 nodes harmful, a robust rule within
0.02 F1 of the honest federation. Writes OUT/results.json and prints a table.
--quick: tiny settings for a smoke run, numbers meaningless.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from flwr.app import Array  # noqa: E402

from synth.anomaly.federated.apps import simulated_sites  # noqa: E402
from synth.anomaly.federated.node import Site, answer  # noqa: E402
from synth.anomaly.federated.server import serve  # noqa: E402
from synth.anomaly.partition import NodeRows  # noqa: E402
from synth.core.config import load_config  # noqa: E402
from synth.federated.aggregate import AggregationRule  # noqa: E402
from synth.federated.in_process import InProcessGrid  # noqa: E402

CONFIGS = {"shuttle": "anomaly_shuttle.json", "windows": "anomaly_st_har.json"}
QUICK = {"epochs": 1, "rounds": 2, "local_epochs": 1}
SIGN_FLIP = -3.0


def main() -> None:
    args = _parse()
    from flwr.supercore.task_identity import TaskIdentity

    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 0, 1  # a ServerApp's identity, here
    results, start = [], time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-robust-") as tmp:
        for part in args.parts:
            for nodes in args.nodes:
                config_file = _variant(part, nodes, Path(tmp), args.quick)
                sites = simulated_sites(str(config_file), nodes)
                honest = _run(config_file, sites, "fedavg", 0, None, Path(tmp))
                results.append({"part": part, "nodes": nodes, "harmful": 0, "attack": None, "rule": "fedavg", "f1": honest})
                print(f"{part}, {nodes} nodes, honest FedAvg: F1 {honest:.3f}", flush=True)
                for attack in args.attacks:
                    for harmful in (1, 2):
                        for rule in _rules(nodes, harmful):
                            f1 = _run(config_file, sites, rule, harmful, attack, Path(tmp))
                            results.append({"part": part, "nodes": nodes, "harmful": harmful, "attack": attack, "rule": rule,
                                            "f1": f1, "minus_honest": f1 - honest})
                            print(f"  {attack}, {harmful} of {nodes} harmful, {rule}: F1 {f1:.3f} ({f1 - honest:+.3f})", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"total {time.perf_counter() - start:.0f} s; results in {args.out / 'results.json'}")


def _rules(nodes: int, harmful: int) -> list[str]:
    """FedAvg and every robust rule that works with ``nodes`` updates and f = ``harmful``."""
    return [name for name in ("fedavg", "median", "trimmed_mean", "krum", "multikrum", "bulyan")
            if nodes >= AggregationRule(name, 0.2, harmful).needed]


def _variant(part: str, nodes: int, folder: Path, quick: bool) -> Path:
    """configs/<part's config> split IID over ``nodes``, written to ``folder``."""
    raw = json.loads((ROOT / "configs" / CONFIGS[part]).read_text())
    raw["anomaly"].update({"nodes": nodes, "split": "iid", "min_nodes": nodes}, **(QUICK if quick else {}))
    if raw.get("data", {}).get("source") == "st_har":
        raw["data"]["path"] = "builtin"
    path = folder / f"{part}_{nodes}.json"
    path.write_text(json.dumps(raw))
    return path


def _run(config_file: Path, sites, rule: str, harmful: int, attack, folder: Path) -> float:
    """Pooled test F1 of one federation whose first ``harmful`` nodes run ``attack``."""
    config = load_config(config_file)
    config = config.model_copy(update={"anomaly": config.anomaly.model_copy(
        update={"aggregation": rule, "malicious_nodes": harmful, "trim_fraction": 0.2 if harmful < 2 else 0.4})})
    handlers = {}
    for i, site in enumerate(sites):
        bad = i < harmful
        own = _mislabelled(site) if bad and attack == "mislabelled" else site
        handle = (lambda message, s=own: answer(message, lambda _c: s))
        handlers[i + 1] = _flipping(handle) if bad and attack == "sign_flip" else handle
    run_log = serve(InProcessGrid(handlers), config, folder / f"run_{rule}_{harmful}_{attack}")
    tp, fp, fn = (sum(v[key] for v in run_log["evaluation"].values()) for key in ("tp", "fp", "fn"))
    return 2 * tp / max(2 * tp + fp + fn, 1)


def _flipping(handle):
    """A node handler whose model updates are sent multiplied by SIGN_FLIP."""
    def flipped(message):
        reply = handle(message)
        if "model" in reply.content.array_records:
            record = reply.content.array_records["model"]
            for key in list(record.keys()):
                values = record[key].numpy()
                record[key] = Array((SIGN_FLIP * values.astype(np.float32)).astype(values.dtype))
        return reply
    return flipped


def _mislabelled(site: Site) -> Site:
    """The site with its test rows, anomalies included, taken for normal training rows."""
    rows = site.rows
    taken_for_normal = replace(rows.test, anomalous=np.zeros_like(rows.test.anomalous))
    return replace(site, rows=NodeRows(rows.name, taken_for_normal, rows.validation, rows.test))


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=lambda s: s.split(","), default=["shuttle", "windows"])
    parser.add_argument("--nodes", type=lambda s: [int(v) for v in s.split(",")], default=[5, 10])
    parser.add_argument("--attacks", type=lambda s: s.split(","), default=["sign_flip", "mislabelled"])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench_robust")
    parser.add_argument("--quick", action="store_true")
    return parser.parse_args()


if __name__ == "__main__":
    main()
