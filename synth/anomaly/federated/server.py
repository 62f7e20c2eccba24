"""The server's side: FedAvg rounds, then the exact global threshold, then per-node evaluation.

The server holds no rows. Stages (see messages.py): "describe" (each node's row shape, counts and
feature range: the global min-max scaling is the range of all ranges; a node whose row shape
differs from the majority is left out with one log line), ``rounds`` x "train" (each node trains
the global model for ``local_epochs`` on its rows; the updates are checked (array names, shapes,
dtype, finite values, norm bound) and averaged weighted by training rows; a malformed update is
rejected with one log line and the round goes on), "threshold" (the pooled mean + k x std of the
held-out normal errors, from each node's count, sum and sum of squares; for windows also the
fault rule, from the sum of each node's histograms of its held-out fault statistics) and
"evaluate" (each node's confusion counts on its test rows). The detector (``detector/``) and the round log
(``federated.json``) are written into the output folder.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from pathlib import Path

import numpy as np
from flwr.app import Message, RecordDict
from flwr.serverapp import Grid

from synth.anomaly.detector import input_info, save_detector
from synth.anomaly.fault_rule import FaultRule, WindowHistograms, trimmed_rule
from synth.anomaly.federated import messages as m
from synth.anomaly.statistics import MinMax, Moments
from synth.anomaly.training import build_model
from synth.core.atomic import write_json
from synth.core.config import Config
from synth.core.errors import SynthError
from synth.federated.aggregate import aggregate, rule_of
from synth.federated.rounds import FederatedRunError, report_missing, send_round, wait_for_nodes
from synth.federated.validation import Rejected, checked_weights
from synth.federated.wire import encode_weights, model_weights

log = logging.getLogger("synth.anomaly")

LOG_FILE, DETECTOR_DIR = "federated.json", "detector"


class Federation:
    """The run's state on the server: accepted nodes, global scaling and weights, the round log."""

    def __init__(self, grid: Grid, config: Config, out_dir: Path):
        self.grid, self.config, self.out_dir = grid, config, Path(out_dir)
        self.settings = config.anomaly
        self.nodes: dict[int, dict] = {}  # node id -> its description
        self.scaling: MinMax | None = None
        self.model, self.weights = None, {}
        self.log = {"status": "running", "config": config.model_dump(mode="json"), "stages": []}

    def ask(self, stage: str, round_number: int, node_ids, threshold: float | None = None,
            rule: FaultRule | None = None) -> dict[int, RecordDict]:
        """Send one stage to ``node_ids``; returns the replies' content by node id (failures logged)."""
        content = self._content(stage, round_number, threshold, rule)
        messages = [Message(content=content, message_type="train", dst_node_id=n, group_id=f"{stage}-{round_number}")
                    for n in node_ids]
        outcome = send_round(self.grid, messages, self.settings.round_timeout_s)
        failed, silent = report_missing(outcome, self.name_of, f"{stage} {round_number}", self.settings.round_timeout_s, log)
        self.log["stages"].append({"stage": stage, "round": round_number, "asked": len(node_ids), "answered": len(outcome.replies),
                                   "failed": failed, "silent": silent, "seconds": outcome.seconds,
                                   "nodes": {self.name_of(n): dict(r[m.METRICS]) for n, r in outcome.replies.items() if m.METRICS in r}})
        return outcome.replies

    def _content(self, stage: str, round_number: int, threshold: float | None, rule: FaultRule | None) -> RecordDict:
        content = RecordDict({m.STAGE: m.stage_record(stage, round_number, self.config, threshold, rule)})
        if stage != "describe":
            content[m.MODEL] = encode_weights(self.weights, self.settings.wire_dtype)
            if self.scaling is not None:
                content[m.SCALING] = m.range_record(self.scaling)
        return content

    def name_of(self, node_id: int) -> str:
        """A node's name from its description (its Flower id before it has described itself)."""
        return str(self.nodes.get(node_id, {}).get("node", f"node id {node_id}"))

    def write_log(self) -> None:
        write_json(self.out_dir / LOG_FILE, self.log)


def serve(grid: Grid, config: Config, out_dir: Path) -> dict:
    """Run every stage; returns the round log. A run that cannot go on logs why, then raises FederatedRunError."""
    run = Federation(grid, config, out_dir)
    try:
        _play(run)
        run.log["status"] = "completed"
    except SynthError as exc:
        run.log["status"] = f"failed: {exc}"
        run.write_log()
        raise
    run.write_log()
    return run.log


def _play(run: Federation) -> None:
    settings = run.settings
    node_ids = wait_for_nodes(run.grid, settings.min_nodes, settings.round_timeout_s)
    _describe(run, node_ids)
    for round_number in range(1, settings.rounds + 1):
        _train_round(run, round_number)
        run.write_log()
    stats = _threshold(run)
    _evaluate(run, stats)
    _save(run, stats)


def _describe(run: Federation, node_ids) -> None:
    """Accept the nodes whose rows have the majority shape; set the model and the global scaling."""
    replies = run.ask("describe", 0, node_ids)
    descriptions = {n: dict(r.config_records[m.DESCRIPTION]) for n, r in replies.items() if m.DESCRIPTION in r}
    shape = Counter(tuple(d["row_shape"]) for d in descriptions.values()).most_common(1)[0][0] if descriptions else None
    ranges = []
    for node_id, description in sorted(descriptions.items()):
        if tuple(description["row_shape"]) != shape:
            log.warning("describe: left node %s out: its rows have shape %s, the global model takes %s",
                        description["node"], tuple(description["row_shape"]), shape)
            continue
        try:
            ranges += [m.read_range(replies[node_id].array_records[m.RANGE], shape[0])] if description["input"] == "features" else []
        except (KeyError, ValueError) as exc:
            log.warning("describe: left node %s out: %s", description["node"], exc)
            continue
        run.nodes[node_id] = description
    if len(run.nodes) < run.settings.min_nodes:
        raise FederatedRunError(f"only {len(run.nodes)} node(s) with usable rows; anomaly.min_nodes is {run.settings.min_nodes}")
    run.scaling = MinMax.merged(ranges) if ranges else None
    first = next(iter(run.nodes.values()))
    run.model = build_model(shape, run.settings, first["full_scale_g"] or None, run.config.seed)
    run.weights = model_weights(run.model)
    run.log["nodes"] = {str(n): d for n, d in run.nodes.items()}
    rule_of(run.settings).check(len(run.nodes), "anomaly")


def _train_round(run: Federation, round_number: int) -> None:
    """One FedAvg round: every valid update, weighted by its node's training rows."""
    replies = run.ask("train", round_number, sorted(run.nodes))
    shapes = {name: value.shape for name, value in run.weights.items()}
    updates, counts, rejected = [], [], {}
    for node_id, content in sorted(replies.items()):
        try:
            if m.MODEL not in content.array_records:
                raise Rejected("its reply holds no model")
            updates.append(checked_weights(content.array_records[m.MODEL], shapes,
                                           run.settings.wire_dtype, run.settings.max_weight_norm))
            counts.append(float(content.metric_records[m.METRICS]["train_rows"]))
        except Rejected as exc:
            rejected[run.name_of(node_id)] = str(exc)
            log.warning("train %d: rejected the update of node %s: %s", round_number, run.name_of(node_id), exc)
    run.log["stages"][-1]["rejected"] = rejected
    if updates:
        run.weights = aggregate(updates, counts, rule_of(run.settings))
    log.info("round %d: %d update(s) aggregated (%s)", round_number, len(updates), run.settings.aggregation)


def _threshold(run: Federation) -> dict:
    """Global threshold from the nodes' error moments, and for windows the fault rule from their
    histograms: with FedAvg exactly as if their held-out rows were pooled; with a robust aggregation
    the median over nodes of each node's mean + k x std, and the rule of the histograms pooled without
    the most extreme nodes of each threshold (fault_rule.trimmed_rule), which lying nodes cannot move
    beyond the honest ones'."""
    replies = run.ask("threshold", run.settings.rounds, sorted(run.nodes))
    moments = [Moments(int(c.metric_records[m.METRICS]["count"]), float(c.metric_records[m.METRICS]["sum"]),
                       float(c.metric_records[m.METRICS]["sum_squares"])) for c in replies.values()]
    histograms = _histograms(run, replies)
    pooled = run.settings.aggregation == "fedavg"
    stats = _pooled_threshold(run, moments) if pooled else _median_threshold(run, moments)
    if histograms:
        tail, margin = run.settings.statistic_tail, run.settings.threshold_margin
        rule = sum(histograms[1:], histograms[0]).rule(tail, margin) if pooled else trimmed_rule(
            histograms, tail, margin, _trimmed_nodes(run.settings, len(histograms)))
        stats["fault_rule"] = rule.to_json()
    return stats


def _trimmed_nodes(settings, nodes: int) -> int:
    """How many nodes a robust federation leaves out at each end of a threshold: the ``malicious_nodes``
    it must withstand, and at least ``trim_fraction`` of the nodes (rounded up)."""
    return max(settings.malicious_nodes, math.ceil(settings.trim_fraction * nodes))


def _histograms(run: Federation, replies: dict) -> list[WindowHistograms]:
    """The fault-statistic histograms of the nodes that sent well-formed ones (others are logged and left out)."""
    kept = []
    for node_id, content in replies.items():
        if m.HISTOGRAMS not in content.array_records:
            continue
        try:
            kept.append(m.read_histograms(content.array_records[m.HISTOGRAMS]))
        except ValueError as exc:
            log.warning("node %s: histograms rejected: %s", run.name_of(node_id), exc)
    return kept


def _pooled_threshold(run: Federation, moments: list[Moments]) -> dict:
    return sum(moments, Moments(0, 0.0, 0.0)).threshold(run.settings.k)


def _median_threshold(run: Federation, moments: list[Moments]) -> dict:
    moments = [one for one in moments if one.count > 0]
    if not moments:
        return _pooled_threshold(run, moments)
    thresholds = [one.threshold(run.settings.k) for one in moments]
    return {"threshold": float(np.median([t["threshold"] for t in thresholds])), "mean": float(np.median([t["mean"] for t in thresholds])),
            "std": float(np.median([t["std"] for t in thresholds])), "count": int(sum(t["count"] for t in thresholds)),
            "rule": "median over nodes of mean + k x std"}


def _evaluate(run: Federation, stats: dict) -> None:
    rule = FaultRule.from_json(stats["fault_rule"]) if "fault_rule" in stats else None
    replies = run.ask("evaluate", run.settings.rounds, sorted(run.nodes), stats["threshold"], rule)
    run.log["evaluation"] = {run.name_of(n): {**dict(c.metric_records[m.METRICS]), "kinds": dict(c.config_records.get(m.KINDS, {}))}
                             for n, c in replies.items()}


def _save(run: Federation, stats: dict) -> None:
    """The federated detector folder: global weights, global scaling and threshold."""
    model = run.model
    model.set_weights([run.weights[name] for name in sorted(run.weights)])
    nodes = run.nodes.values()
    first = next(iter(nodes))
    info = {**input_info(first["row_shape"], first["feature_names"], run.scaling, first["full_scale_g"], first["rate_hz"]),
            "k": run.settings.k, **stats, "training": "federated", "rounds": run.settings.rounds,
            "nodes": sorted(d["node"] for d in nodes), "train_rows": int(sum(d["train_rows"] for d in nodes)),
            "seed": run.config.seed, "data_hashes": {d["node"]: d["data_hash"] for d in nodes},
            "config": run.config.model_dump(mode="json")}
    save_detector(model, info, run.out_dir / DETECTOR_DIR, force=True)
