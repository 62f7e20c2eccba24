"""The server's side: relay generators between nodes round after round, and keep a round log.

The server holds no data and trains nothing. Each round it waits for ``min_nodes`` connected
nodes (up to ``round_timeout_s``), sends each node the run's settings and the latest generator of
every *other* node (relay), their average (fedavg) or the averaged classifier
(classifier_fedavg), and waits up to ``round_timeout_s`` for the replies. A node that fails or
does not answer in time is left out of that round, which completes with the rest; it gets the
latest models when it answers again. The log (``share.json`` in the output folder, rewritten
atomically after every round) records per round and node: metrics, bytes each way, failures and
rejected models.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from flwr.app import ArrayRecord, ConfigRecord, Message, RecordDict
from flwr.serverapp import Grid

from synth.core.atomic import write_json
from synth.core.config import Config
from synth.core.errors import SynthError
from synth.federated.rounds import report_missing, send_round, wait_for_nodes
from synth.federated.validation import Rejected, checked_weights
from synth.federated.wire import encode_weights, holding_record, read_holding
from synth.share import client as msg
from synth.federated.aggregate import aggregate, rule_of
from synth.share.aggregate import average_generators
from synth.share.shapes import classifier_shapes, generator_shapes

log = logging.getLogger("synth.share")

LOG_FILE = "share.json"


class Relay:
    """The latest generator each node sent: node name -> (node id, holding record, array record)."""

    def __init__(self, config: Config, classes: tuple[str, ...], window: int):
        self.config, self.classes, self.window = config, classes, window
        self.latest: dict[str, tuple[int, ConfigRecord, ArrayRecord]] = {}
        self.classifiers: dict[str, tuple[float, ArrayRecord]] = {}
        self.names: dict[int, str] = {}  # Flower node id -> the node's name, from its replies
        self._average = self._classifier_average = None

    def content_for(self, node_id: int, round_number: int) -> RecordDict:
        """The message for one node this round."""
        content = RecordDict({msg.ROUND: msg.round_record(round_number, self.classes, self.window, self.config)})
        mode = self.config.share.mode
        if mode == "relay":
            for name, (sender_id, holding, record) in sorted(self.latest.items()):
                if sender_id != node_id:
                    content[f"{msg.GENERATOR}/{name}"], content[f"{msg.HOLDING}/{name}"] = record, holding
        elif mode == "fedavg" and self._average is not None:
            content[f"{msg.GENERATOR}/{msg.AVERAGE}"], content[f"{msg.HOLDING}/{msg.AVERAGE}"] = self._average
        elif mode == "classifier_fedavg" and self._classifier_average is not None:
            content[f"{msg.CLASSIFIER}/{msg.AVERAGE}"] = self._classifier_average
        return content

    def prepare_round(self) -> None:
        """Compute this round's averages (fedavg modes) from the latest valid models."""
        self._average = self._averaged_generator() if self.config.share.mode == "fedavg" else None
        self._classifier_average = self._averaged_classifier() if self.config.share.mode == "classifier_fedavg" else None

    def take(self, node_id: int, content: RecordDict) -> str:
        """Store a node's reply; returns the node's name."""
        holding, _ = read_holding(content.config_records[msg.HOLDING])
        self.names[node_id] = holding.node
        if msg.GENERATOR in content.array_records:
            self.latest[holding.node] = (node_id, content.config_records[msg.HOLDING], content.array_records[msg.GENERATOR])
        if msg.CLASSIFIER in content.array_records:
            self.classifiers[holding.node] = (float(holding.windows), content.array_records[msg.CLASSIFIER])
        return holding.node

    def name_of(self, node_id: int) -> str:
        """A node's name from its replies (its Flower id before it has answered once)."""
        return self.names.get(node_id, f"node id {node_id}")

    def _averaged_generator(self):
        share, entries = self.config.share, []
        shapes = generator_shapes(self.config, self.window, len(self.classes))
        for name, (_, holding_cfg, record) in sorted(self.latest.items()):
            holding, wire = read_holding(holding_cfg)
            try:
                entries.append((holding, checked_weights(record, shapes, wire, share.max_weight_norm)))
            except Rejected as exc:
                log.warning("server: left the generator of %s out of the average: %s", name, exc)
        if not entries:
            return None
        holding, weights = average_generators(entries, self.classes, rule_of(share))
        return encode_weights(weights, share.wire_dtype), holding_record(holding, share.wire_dtype)

    def _averaged_classifier(self):
        share, models, counts = self.config.share, [], []
        shapes = classifier_shapes(self.config, self.window, len(self.classes))
        for name, (windows, record) in sorted(self.classifiers.items()):
            try:
                models.append(checked_weights(record, shapes, share.wire_dtype, share.max_weight_norm))
                counts.append(windows)
            except Rejected as exc:
                log.warning("server: left the classifier of %s out of the average: %s", name, exc)
        return encode_weights(aggregate(models, counts, rule_of(share)), share.wire_dtype) if models else None


def serve(grid: Grid, config: Config, classes: tuple[str, ...], window: int, out_dir: Path) -> dict:
    """Run every round; returns the round log (also written to out_dir/share.json).

    A run that cannot go on writes its reason into the log's status, then raises FederatedRunError.
    """
    share = config.share
    relay = Relay(config, classes, window)
    run_log = {"classes": list(classes), "mode": share.mode, "status": "running", "rounds": [],
               "config": config.model_dump(mode="json")}
    try:
        for round_number in range(1, share.rounds + 1):
            run_log["rounds"].append(_play_round(grid, relay, round_number))
            write_json(Path(out_dir) / LOG_FILE, run_log)
        run_log["status"] = "completed"
    except SynthError as exc:
        run_log["status"] = f"failed: {exc}"
        write_json(Path(out_dir) / LOG_FILE, run_log)
        raise  # so that Flower marks the run failed too
    write_json(Path(out_dir) / LOG_FILE, run_log)
    return run_log


def _learn_names(grid: Grid, relay: Relay, node_ids: list[int], round_number: int) -> None:
    """Ask the nodes not yet known their names (a node that cannot answer is named by its id until it does)."""
    unknown = [n for n in node_ids if n not in relay.names]
    if unknown:
        queries = [Message(content=RecordDict(), message_type="query", dst_node_id=n, group_id=str(round_number)) for n in unknown]
        for node_id, content in send_round(grid, queries, relay.config.share.round_timeout_s).replies.items():
            relay.names[node_id] = msg.read_name(content)


def _play_round(grid: Grid, relay: Relay, round_number: int) -> dict:
    """One round: send, collect, log."""
    share = relay.config.share
    started = time.perf_counter()
    node_ids = wait_for_nodes(grid, share.min_nodes, share.round_timeout_s)
    if share.mode in ("fedavg", "classifier_fedavg"):
        rule_of(share).check(len(node_ids), "share")
    _learn_names(grid, relay, node_ids, round_number)
    relay.prepare_round()
    messages = [Message(content=relay.content_for(n, round_number), message_type="train", dst_node_id=n,
                        group_id=str(round_number)) for n in node_ids]
    outcome = send_round(grid, messages, share.round_timeout_s)
    nodes = {}
    for node_id, content in outcome.replies.items():
        nodes[relay.take(node_id, content)] = {"node_id": node_id, **dict(content.metric_records[msg.METRICS])}
    failed, silent = report_missing(outcome, relay.name_of, f"round {round_number}", share.round_timeout_s, log)
    log.info("round %d: %d of %d nodes answered", round_number, len(nodes), len(node_ids))
    return {"round": round_number, "seconds": time.perf_counter() - started, "asked": len(node_ids),
            "answered": len(nodes), "failed": failed, "silent": silent, "nodes": nodes}
