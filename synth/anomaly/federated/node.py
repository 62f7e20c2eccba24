"""A node's side of federated anomaly detection: answer each stage of the server with its own rows.

A node keeps no state between rounds (FedAvg sends the global model every round), so a node that
restarts or rejoins simply answers the next message. The model is built once per process and
every variable is reassigned from the message before use; the optimizer starts afresh each round.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from flwr.app import ConfigRecord, Message, MetricRecord, RecordDict

from synth.anomaly.detector import input_info, model_input, row_scores
from synth.anomaly.fault_rule import SCORE_THRESHOLD
from synth.anomaly.federated import messages as m
from synth.anomaly.partition import NodeRows
from synth.anomaly.statistics import MinMax
from synth.anomaly.training import build_model, fit_epochs, held_out_histograms, held_out_moments
from synth.core.config import AnomalyConfig, Config, parse_config
from synth.core.errors import DataError
from synth.core.runs import hash_arrays
from synth.federated.validation import Rejected, checked_weights
from synth.federated.wire import encode_weights, model_weights, record_bytes

SEED_STRIDE = 1009  # distinct, reproducible fit seeds per (round, node)


@dataclass(frozen=True)
class Site:
    """A node's rows and, for windows, the sensor's full scale (g) and rate (Hz)."""

    rows: NodeRows
    index: int = 0
    full_scale_g: Optional[float] = None
    rate_hz: Optional[float] = None


SiteResolver = Callable[[Config], Site]


def answer(message: Message, resolve: SiteResolver) -> Message:
    """The node's reply to one stage message."""
    settings = message.content.config_records[m.STAGE]
    config = parse_config(json.loads(str(settings["config"])), "the server's round settings")
    site = resolve(config)
    stage = str(settings["stage"])
    handler = {"describe": _describe, "train": _train, "threshold": _threshold, "evaluate": _evaluate}[stage]
    records = handler(site, config, message.content)
    records.setdefault(m.METRICS, MetricRecord({}))
    records[m.METRICS]["bytes_down"] = record_bytes(*message.content.values())
    records[m.METRICS]["bytes_up"] = record_bytes(*records.values())
    return Message(content=RecordDict(records), reply_to=message)


def _describe(site: Site, config: Config, content: RecordDict) -> dict:
    rows = site.rows
    description = ConfigRecord({"node": rows.name, "input": "windows" if rows.train.is_windows else "features",
                                "row_shape": list(rows.train.x.shape[1:]), "train_rows": len(rows.train),
                                "validation_rows": len(rows.validation), "test_rows": len(rows.test),
                                "data_hash": hash_arrays(rows.train.x, rows.validation.x),
                                "feature_names": list(rows.train.feature_names),
                                "full_scale_g": float(site.full_scale_g or 0.0), "rate_hz": float(site.rate_hz or 0.0)})
    records = {m.DESCRIPTION: description}
    if not rows.train.is_windows:
        records[m.RANGE] = m.range_record(MinMax.of(rows.train.x))
    return records


def _train(site: Site, config: Config, content: RecordDict) -> dict:
    model, info = _loaded(site, config, content)
    round_number = int(content.config_records[m.STAGE]["round"])
    settings = config.anomaly
    seed = config.seed + SEED_STRIDE * round_number + site.index
    loss = fit_epochs(model, model_input(site.rows.train.x, info), settings.local_epochs, settings.batch_size, seed)
    return {m.MODEL: encode_weights(model_weights(model), settings.wire_dtype),
            m.METRICS: MetricRecord({"train_rows": len(site.rows.train), "loss": loss})}


def _threshold(site: Site, config: Config, content: RecordDict) -> dict:
    model, info = _loaded(site, config, content)
    validation = site.rows.validation
    moments = held_out_moments(model, validation, info)
    records = {m.METRICS: MetricRecord({"count": moments.count, "sum": moments.total, "sum_squares": moments.squares})}
    if validation.is_windows:
        records[m.HISTOGRAMS] = m.histogram_record(held_out_histograms(model, validation, info))
    return records


def _evaluate(site: Site, config: Config, content: RecordDict) -> dict:
    model, info = _loaded(site, config, content)
    test = site.rows.test
    stage = content.config_records[m.STAGE]
    rule = m.read_rule(stage)
    threshold = SCORE_THRESHOLD if rule is not None else float(stage["threshold"])
    flags = row_scores(model, test.x, info, rule) > threshold
    truth = test.anomalous
    counts = {"tp": int(np.sum(flags & truth)), "fp": int(np.sum(flags & ~truth)),
              "tn": int(np.sum(~flags & ~truth)), "fn": int(np.sum(~flags & truth))}
    names = sorted(set(test.kind.tolist()))
    kinds = ConfigRecord({"names": names, "rows": [int(np.sum(test.kind == k)) for k in names],
                          "flagged": [int(np.sum(flags[test.kind == k])) for k in names]})
    return {m.METRICS: MetricRecord(counts), m.KINDS: kinds}


def _loaded(site: Site, config: Config, content: RecordDict):
    """(model holding the message's global weights, input info with the message's scaling)."""
    model = _model(tuple(site.rows.train.x.shape[1:]), json.dumps(config.anomaly.model_dump(mode="json"), sort_keys=True),
                   site.full_scale_g, config.seed)
    expected = {name: value.shape for name, value in model_weights(model).items()}
    try:
        weights = checked_weights(content.array_records[m.MODEL], expected, config.anomaly.wire_dtype, config.anomaly.max_weight_norm)
    except Rejected as exc:
        raise DataError(f"node {site.rows.name}: the global model does not fit this node: {exc}") from None
    model.set_weights([weights[name] for name in sorted(weights)])
    scaling = None
    if not site.rows.train.is_windows:
        scaling = m.read_range(content.array_records[m.SCALING], site.rows.train.width)
    train = site.rows.train
    return model, input_info(train.x.shape[1:], train.feature_names, scaling, site.full_scale_g, site.rate_hz)


@functools.lru_cache(maxsize=4)
def _model(row_shape: tuple[int, ...], settings_json: str, full_scale_g: Optional[float], seed: int):
    """The compiled architecture for this run, built once per process."""
    return build_model(row_shape, AnomalyConfig.model_validate(json.loads(settings_json)), full_scale_g, seed)
