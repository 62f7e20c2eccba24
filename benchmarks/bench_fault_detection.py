"""Sensor-fault detection per fault kind and per activity, over a grid of fault settings.

Usage:
  .venv/bin/python benchmarks/bench_fault_detection.py [--config configs/anomaly_st_har.json] [--folds 3]
      [--tail T] [--margin M] [--out runs/bench_fault_detection] [--quick]

ST's BSD-3 recordings (the config's data section: 48-sample windows at 26 Hz, +-4 g) are split by
recording, each fold in turn: half the recordings train the detector's autoencoder, a quarter set
its thresholds (held-out normal windows), a quarter are the test: their normal windows give the
false alarms per activity, and every fault of synth.anomaly.faults injected into them at every
setting of GRID gives the detection per fault, setting and activity. Two rules are compared on
the same autoencoder: the reconstruction threshold alone (mean + k x std, the former rule) and the
fault rule (synth.anomaly.fault_rule: per motion level, thresholds on fault statistics and the
reconstruction error). Goals: detection >= 0.90 (bias_drift >= 0.70) in every activity at the
default settings, false alarms <= 2 % per activity. Writes OUT/results.json, prints the tables and, per
activity, how many false alarms each statistic of the fault rule took part in (one window can count for several).
--quick: one fold, few epochs; numbers meaningless.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from synth.anomaly.detector import Detector  # noqa: E402
from synth.anomaly.faults import fault_params, inject_faults  # noqa: E402
from synth.anomaly.training import train_detector  # noqa: E402
from synth.core.config import load_config  # noqa: E402
from synth.core.profiles import load_profile  # noqa: E402
from synth.core.rows import make_rows  # noqa: E402
from synth.data.st_har import load_st_har  # noqa: E402

# fault -> parameter varied -> values (the fault's default is among them; onsets are random per window)
GRID = {
    "stuck": ("min_fraction", (0.25, 0.5, 0.75)),
    "spikes": ("amplitude_g", (0.5, 1.0, 2.0, 4.0)),
    "saturation": ("gain", (1.5, 2.0, 3.0)),
    "bias_drift": ("drift_g", (0.25, 0.5, 1.0)),
    "dropout": ("fraction", (0.1, 0.3, 0.5)),
    "noise_burst": ("std_g", (0.1, 0.3, 0.6)),
}
RULES = ("reconstruction only", "fault rule")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "anomaly_st_har.json")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench_fault_detection")
    parser.add_argument("--tail", type=float, help="override anomaly.statistic_tail")
    parser.add_argument("--margin", type=float, help="override anomaly.threshold_margin")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    config = load_config(args.config)
    update = {"statistic_tail": args.tail, "threshold_margin": args.margin, "epochs": 2 if args.quick else None}
    settings = config.anomaly.model_copy(update={k: v for k, v in update.items() if v is not None})
    full_scale_g = load_profile(config.profile).full_scale_g
    windows = load_st_har(rate_hz=26.0, window=config.data.window, stride=config.data.stride)
    x = np.clip(windows.x.astype(np.float32), -full_scale_g, full_scale_g)
    y, groups, classes = np.asarray(windows.y), np.asarray(windows.groups), list(windows.classes)
    folds = [_fold(x, y, groups, classes, fold, settings, config.seed, full_scale_g) for fold in range(1 if args.quick else args.folds)]
    results = _pooled(folds, classes)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True))
    _print(results, classes)


def _fold(x, y, groups, classes, fold: int, settings, seed: int, full_scale_g: float) -> dict:
    """Counts of one fold: per rule, false alarms per activity and detections per (fault, setting, activity)."""
    recordings = np.random.default_rng([seed, fold]).permutation(np.unique(groups))
    quarter = len(recordings) // 4
    part = {"train": recordings[2 * quarter:], "calibration": recordings[:quarter], "test": recordings[quarter: 2 * quarter]}
    rows = {name: np.isin(groups, chosen) for name, chosen in part.items()}
    make = lambda mask: make_rows(x[mask], False, "normal", groups[mask], ("x", "y", "z"))  # noqa: E731
    model, info = train_detector(make(rows["train"]), make(rows["calibration"]), settings, seed + fold, full_scale_g, 26.0)
    detectors = {RULES[0]: Detector(model, {k: v for k, v in info.items() if k != "fault_rule"}), RULES[1]: Detector(model, info)}
    test_x, test_y = x[rows["test"]], y[rows["test"]]
    counts = {rule: {"windows": _per_class(np.ones(len(test_y), bool), test_y, classes),
                     "false_alarms": _per_class(detector.flags(test_x), test_y, classes), "faults": {}}
              for rule, detector in detectors.items()}
    fired = detectors[RULES[1]].fired(test_x)
    counts[RULES[1]]["fired"] = {name: {s: sum(s in f for f, c in zip(fired, test_y) if c == k) for s in _statistics(fired)}
                                 for k, name in enumerate(classes)}
    for fault, (parameter, values) in GRID.items():
        for value in values:
            faulted = inject_faults(test_x, [fault], seed + fold, full_scale_g, {fault: {parameter: value}})
            for rule, detector in detectors.items():
                counts[rule]["faults"][f"{fault} {parameter}={value:g}"] = _per_class(detector.flags(faulted.x), test_y, classes)
    print(f"fold {fold}: {len(test_y)} test windows", flush=True)
    return counts


def _statistics(fired: list[list[str]]) -> list[str]:
    """The statistics that fired on any window, in first-seen order."""
    return list(dict.fromkeys(name for names in fired for name in names))


def _per_class(flags: np.ndarray, labels: np.ndarray, classes: list[str]) -> dict[str, int]:
    return {name: int(flags[labels == c].sum()) for c, name in enumerate(classes)}


def _pooled(folds: list[dict], classes: list[str]) -> dict:
    """Rates over all folds: false alarm and detection shares per activity, per rule."""
    results = {}
    for rule in RULES:
        windows = {c: sum(f[rule]["windows"][c] for f in folds) for c in classes}
        rate = lambda key=None, setting=None: {  # noqa: E731
            c: sum((f[rule]["faults"][setting] if setting else f[rule][key])[c] for f in folds) / max(windows[c], 1) for c in classes}
        results[rule] = {"windows": windows, "false_alarm": rate("false_alarms"),
                         "detection": {setting: rate(setting=setting) for setting in folds[0][rule]["faults"]}}
        if "fired" in folds[0][rule]:
            fired = {c: [f[rule]["fired"][c] for f in folds] for c in classes}
            results[rule]["false_alarm_statistics"] = {
                c: {s: sum(part.get(s, 0) for part in parts) for s in dict.fromkeys(s for part in parts for s in part)}
                for c, parts in fired.items()}
    return results


def _print(results: dict, classes: list[str]) -> None:
    defaults = {fault: f"{fault} {p}={getattr(fault_params(fault), p):g}" for fault, (p, _) in GRID.items()}
    header = f"{'':34}" + "".join(f"{c[:10]:>11}" for c in classes)
    for rule, result in results.items():
        print(f"\n{rule}: windows per activity {result['windows']}")
        print(header)
        print(f"{'false alarms':34}" + "".join(f"{result['false_alarm'][c]:>11.3f}" for c in classes))
        for setting, rates in result["detection"].items():
            mark = " *" if setting in defaults.values() else ""
            print(f"{setting + mark:34}" + "".join(f"{rates[c]:>11.3f}" for c in classes))
        for c, fired in result.get("false_alarm_statistics", {}).items():
            ranked = sorted(fired.items(), key=lambda item: -item[1])
            print(f"false alarms on {c} fired: " + (", ".join(f"{s} {n}" for s, n in ranked if n) or "none"))
    print("\n* the fault's default setting")


if __name__ == "__main__":
    main()
