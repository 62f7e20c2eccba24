"""Federated autoencoder anomaly detection against local-only and centralised training.

Usage:
  .venv/bin/python benchmarks/bench_anomaly.py [--out runs/bench_anomaly] [--parts shuttle,windows] [--quick]

Every run is ``synth.anomaly.compare.run_comparison`` (local-only, FedAvg on Flower's simulation
engine, centralised; the same nodes and the same test rows for all three) on a variant of a
shipped config (the variants are written to OUT/configs/):

- shuttle: configs/anomaly_shuttle.json (the NASA Statlog Shuttle set that PyPI river ships,
  49,097 rows, 7.15 % anomalies) split over 3 and 10 nodes, IID and non-IID;
- windows: configs/anomaly_st_har.json (ST's BSD-3 LSM6DSL recordings shipped in synth/assets,
  windows of 48 at 26 Hz, split by recording over 3 nodes) with six injected sensor faults on
  the held-out recordings' windows, reported per fault type.

For each run: overall F1 (all nodes' test rows pooled) per method, the mean over nodes of the
local-only F1, the federated minus centralised F1, rounds per second and bytes per node per
round. Writes OUT/results.json and OUT/report.md; the report also goes to stdout.
--quick: tiny settings for a smoke run, numbers meaningless.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from synth.anomaly.compare import run_comparison  # noqa: E402

SHUTTLE_RUNS = [(3, "iid"), (3, "non_iid"), (10, "iid"), (10, "non_iid")]
QUICK = {"epochs": 2, "rounds": 2, "local_epochs": 1}


def variant(base: str, out: Path, name: str, quick: bool, **anomaly) -> Path:
    """A copy of configs/<base> with anomaly settings changed, written to OUT/configs/<name>.json."""
    raw = json.loads((ROOT / "configs" / base).read_text())
    raw["anomaly"].update(anomaly, **(QUICK if quick else {}))
    if raw.get("data", {}).get("source") == "st_har":
        raw["data"]["path"] = "builtin"
    path = out / "configs" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw, indent=2))
    return path


def summarise(name: str, report: dict, seconds: float) -> dict:
    """The numbers of one comparison that go into the table."""
    results = report["results"]
    overall = {method: results[method]["overall"]["f1"] for method in results}
    federated = results["federated"]["extra"]
    return {"run": name, "seconds": seconds, "f1": overall,
            "local_mean_node_f1": results["local"]["mean_node_f1"],
            "federated_minus_centralised": overall["federated"] - overall["centralised"],
            "federated_minus_local_mean": overall["federated"] - results["local"]["mean_node_f1"],
            "auc": {method: results[method]["overall"]["roc_auc"] for method in results},
            "fpr": {method: results[method]["overall"]["fpr"] for method in results},
            "rounds_per_second": federated["rounds_per_second"], "bytes_per_round": federated["bytes_per_round"],
            "per_kind": {method: {k: v["rate"] for k, v in results[method]["per_kind"].items()} for method in results}}


def run(base: str, name: str, nodes: int, split: str, out: Path, quick: bool) -> dict:
    config = variant(base, out, name, quick, nodes=nodes, split=split)
    started = time.perf_counter()
    _, report = run_comparison(config, nodes, out / name, force=True)
    row = summarise(name, report, time.perf_counter() - started)
    if base == "anomaly_st_har.json":
        row["per_kind"] = {**row["per_kind"], **{f"{m} by activity": v for m, v in activity_rates(out / name, config).items()}}
    print(f"{name}: F1 {row['f1']} in {row['seconds']:.0f} s", file=sys.stderr, flush=True)
    return row


def table(rows: list[dict]) -> list[str]:
    lines = ["| run | local (pooled) | local (mean of nodes) | federated | centralised | fed - central | fed - local mean | rounds/s | KiB down / up per node per round |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        f1, b = r["f1"], r["bytes_per_round"]
        lines.append(f"| {r['run']} | {f1['local']:.3f} | {r['local_mean_node_f1']:.3f} | {f1['federated']:.3f} | "
                     f"{f1['centralised']:.3f} | {r['federated_minus_centralised']:+.3f} | {r['federated_minus_local_mean']:+.3f} | "
                     f"{r['rounds_per_second']:.2f} | {b['down_per_node'] / 1024:.1f} / {b['up_per_node'] / 1024:.1f} |")
    return lines


def activity_rates(folder: Path, config: Path) -> dict:
    """Share flagged per (kind, activity) of the centralised and federated detectors on the test windows
    (the activity is the recording name's prefix: stationary, walking, running)."""
    import numpy as np

    from synth.anomaly.dataset import load_anomaly_data
    from synth.anomaly.detector import load_detector
    from synth.core.config import load_config

    test = load_anomaly_data(load_config(config), config.parent).test
    activity = np.array([group.split("_")[0] for group in test.group])
    rates = {}
    for method, detector_dir in (("centralised", folder / "centralised"), ("federated", folder / "federated" / "detector")):
        flags = load_detector(detector_dir).flags(test.x)
        rates[method] = {f"{kind} / {act}": float(flags[(test.kind == kind) & (activity == act)].mean())
                         for kind in sorted(set(test.kind)) for act in sorted(set(activity))}
    return rates


def kinds_table(row: dict) -> list[str]:
    methods = list(row["per_kind"])
    kinds = list(row["per_kind"][methods[0]])
    lines = ["| kind (rate flagged) | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for kind in kinds:
        lines.append(f"| {kind} | " + " | ".join(f"{row['per_kind'][m][kind]:.3f}" for m in methods) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench_anomaly")
    parser.add_argument("--parts", default="shuttle,windows")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    parts, rows, lines = args.parts.split(","), [], ["# Federated anomaly detection: local vs federated vs centralised", ""]
    if "shuttle" in parts:
        shuttle = [run("anomaly_shuttle.json", f"shuttle_{n}_{s}", n, s, args.out, args.quick) for n, s in SHUTTLE_RUNS]
        rows += shuttle
        lines += ["## Shuttle (F1, all nodes' test rows pooled)", "", *table(shuttle), ""]
    if "windows" in parts:
        windows = run("anomaly_st_har.json", "st_har_3_by_group", 3, "by_group", args.out, args.quick)
        rows.append(windows)
        lines += ["## ST BSD-3 windows with injected sensor faults (F1)", "", *table([windows]), "",
                  "Share of windows flagged per kind (normal: false alarms):", "",
                  *kinds_table({"per_kind": {m: v for m, v in windows["per_kind"].items() if "activity" not in m}}), "",
                  "The same per kind and activity:", "",
                  *kinds_table({"per_kind": {m: v for m, v in windows["per_kind"].items() if "activity" in m}}), ""]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(rows, indent=2, sort_keys=True))
    (args.out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
