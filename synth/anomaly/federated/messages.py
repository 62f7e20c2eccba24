"""What crosses the link in federated anomaly detection: weights, ranges, counts, never rows.

Every server message carries a "stage" ConfigRecord {"stage", "round", "config" (JSON of the
run's seed, profile and anomaly sections)} and, by stage:
- "describe": nothing more. Reply: "description" ConfigRecord {"node", "input", "row_shape",
  "train_rows", "validation_rows", "test_rows", "data_hash" (sha256 of its training and held-out
  rows: which data made the model, not the data), "feature_names", "full_scale_g", "rate_hz"} and, for feature
  rows, "range" ArrayRecord {"low", "high"} (F,) float64: the node's per-feature min and max of
  normal training rows, from which the server takes the exact global min-max scaling;
- "train": "model" ArrayRecord (global weights, wire format of the run) and "scaling"
  ArrayRecord {"low", "high"}. Reply: "model" (the node's weights after its local epochs) and
  "metrics" {"train_rows", "loss"};
- "threshold": "model" and "scaling". Reply: "metrics" {"count", "sum", "sum_squares"} of the
  reconstruction errors of its held-out normal rows, from which the server takes the exact
  global mean and standard deviation, and for windows "histograms" ArrayRecord {"counts"}
  (levels, statistics, bins) int64 of their fault statistics (synth.anomaly.fault_rule), which
  add up to the pooled histograms the fault rule is read from;
- "evaluate": "model", "scaling", "stage"["threshold"] and for windows "stage"["fault_rule"]
  (the rule's JSON). Reply: "metrics" {"tp", "fp", "tn", "fn"} and "kinds" ConfigRecord
  {"names", "rows", "flagged"} on the node's test rows.
Flower serialises arrays with numpy.save(allow_pickle=False): no pickled object can travel.
"""

from __future__ import annotations

import json

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord

from synth.anomaly.fault_rule import HISTOGRAM_SHAPE, FaultRule, WindowHistograms
from synth.anomaly.statistics import MinMax
from synth.core.config import Config

STAGE, DESCRIPTION, RANGE, MODEL, SCALING, METRICS, KINDS, HISTOGRAMS = (
    "stage", "description", "range", "model", "scaling", "metrics", "kinds", "histograms")
STAGES = ("describe", "train", "threshold", "evaluate")


def stage_record(stage: str, round_number: int, config: Config, threshold: float | None = None,
                 rule: FaultRule | None = None) -> ConfigRecord:
    """The settings every message carries."""
    shared = config.model_dump(mode="json", include={"seed", "profile", "anomaly"})
    record = {"stage": stage, "round": round_number, "config": json.dumps(shared, sort_keys=True)}
    if threshold is not None:
        record["threshold"] = float(threshold)
    if rule is not None:
        record["fault_rule"] = json.dumps(rule.to_json(), sort_keys=True)
    return ConfigRecord(record)


def read_rule(record: ConfigRecord) -> FaultRule | None:
    """The fault rule a stage record carries, or None."""
    return FaultRule.from_json(json.loads(str(record["fault_rule"]))) if "fault_rule" in record else None


def histogram_record(histograms: WindowHistograms) -> ArrayRecord:
    return ArrayRecord(array_dict={"counts": Array(histograms.counts)})


def read_histograms(record: ArrayRecord) -> WindowHistograms:
    """The histograms of a reply; ValueError unless they have the shape of WindowHistograms and counts >= 0."""
    counts = record["counts"].numpy() if "counts" in record else np.zeros(0)
    expected = HISTOGRAM_SHAPE
    if counts.shape != expected or counts.dtype.kind not in "iu" or (counts < 0).any():
        raise ValueError(f"its histograms are {counts.dtype} {counts.shape}, expected non-negative counts {expected}")
    return WindowHistograms(counts.astype(np.int64))


def range_record(scaling: MinMax) -> ArrayRecord:
    return ArrayRecord(array_dict={"low": Array(np.asarray(scaling.low, np.float64)),
                                   "high": Array(np.asarray(scaling.high, np.float64))})


def read_range(record: ArrayRecord, width: int) -> MinMax:
    """The MinMax of a range record; ValueError naming what is wrong (shape, non-finite, low > high)."""
    if set(record.keys()) != {"low", "high"}:
        raise ValueError(f"its range holds {sorted(record.keys())}, expected low and high")
    low, high = record["low"].numpy().astype(np.float64), record["high"].numpy().astype(np.float64)
    if low.shape != (width,) or high.shape != (width,):
        raise ValueError(f"its range has {low.shape[0] if low.ndim else 0} features, the global model {width}")
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(low <= high)):
        raise ValueError("its range is not finite or has low above high")
    return MinMax(low, high)
