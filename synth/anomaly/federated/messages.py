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
  global mean and standard deviation;
- "evaluate": "model", "scaling" and "stage"["threshold"]. Reply: "metrics" {"tp", "fp", "tn",
  "fn"} and "kinds" ConfigRecord {"names", "rows", "flagged"} on the node's test rows.
Flower serialises arrays with numpy.save(allow_pickle=False): no pickled object can travel.
"""

from __future__ import annotations

import json

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord

from synth.anomaly.statistics import MinMax
from synth.core.config import Config

STAGE, DESCRIPTION, RANGE, MODEL, SCALING, METRICS, KINDS = (
    "stage", "description", "range", "model", "scaling", "metrics", "kinds")
STAGES = ("describe", "train", "threshold", "evaluate")


def stage_record(stage: str, round_number: int, config: Config, threshold: float | None = None) -> ConfigRecord:
    """The settings every message carries."""
    shared = config.model_dump(mode="json", include={"seed", "profile", "anomaly"})
    record = {"stage": stage, "round": round_number, "config": json.dumps(shared, sort_keys=True)}
    if threshold is not None:
        record["threshold"] = float(threshold)
    return ConfigRecord(record)


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
