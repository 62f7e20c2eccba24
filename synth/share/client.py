"""The node's side of a round: read the server's message, check what it carries, play, reply.

Message from the server (a Flower RecordDict):
- "round": ConfigRecord {"round": int, "classes": [names], "window": samples, "config": JSON of the run's seed,
  profile, model, train, classifier and share sections};
- relay: "generator/<node>" ArrayRecord + "holding/<node>" ConfigRecord for each other node;
- fedavg: "generator/average" + "holding/average"; classifier_fedavg: "classifier/average".
Reply: "holding" ConfigRecord, "generator" or "classifier" ArrayRecord, "metrics" MetricRecord.
Before a node's first round the server asks its name (a "query" message with no content; reply:
"name" ConfigRecord {"node": name}), so that a node failing in its first round is named.
A received model that fails a check is dropped with one log line naming its sender and the
problem; the node carries on with what it had.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Callable

from flwr.app import ConfigRecord, Message, MetricRecord, RecordDict

from synth.core.config import Config, parse_config
from synth.core.errors import ConfigError
from synth.federated.validation import Rejected, check_holding, checked_weights
from synth.federated.wire import encode_weights, holding_record, read_holding, record_bytes
from synth.share.node import Instruction, NodeData, RoundOutcome, run_round
from synth.share.shapes import classifier_shapes, generator_shapes

log = logging.getLogger("synth.share")

ROUND = "round"
GENERATOR, HOLDING, CLASSIFIER, METRICS = "generator", "holding", "classifier", "metrics"
NAME = "name"
AVERAGE = "average"

NodeResolver = Callable[[Config, tuple[str, ...]], tuple[NodeData, Path]]


def round_record(round_number: int, classes: tuple[str, ...], window: int, config: Config) -> ConfigRecord:
    """The server's per-round settings record (what every node must agree on)."""
    shared = config.model_dump(include={"seed", "profile", "model", "train", "classifier", "share"})
    return ConfigRecord({"round": round_number, "classes": list(classes), "window": window,
                         "config": json.dumps(shared, sort_keys=True)})


def introduce(message: Message, node_name: str) -> Message:
    """The node's reply to the server's name query."""
    return Message(content=RecordDict({NAME: ConfigRecord({"node": node_name})}), reply_to=message)


def read_name(content: RecordDict) -> str:
    """The node name in a reply to the name query."""
    return str(content.config_records[NAME]["node"])


def answer(message: Message, resolve_node: NodeResolver) -> Message:
    """The node's reply to one round message; ``resolve_node`` gives (its data, its state folder)."""
    settings = message.content.config_records[ROUND]
    config = parse_config(json.loads(str(settings["config"])), "the server's round settings")
    classes = tuple(settings["classes"])
    data, state_dir = resolve_node(config, classes)
    if data.train.length != int(settings["window"]):
        raise ConfigError(f"node {data.name}: its windows are {data.train.length} samples, the run's are {settings['window']}")
    instruction = _instruction(message.content, int(settings["round"]), config, data, classes)
    outcome = run_round(config, data, state_dir, instruction)
    reply = _reply_records(outcome, config.share.wire_dtype)
    reply[METRICS]["bytes_up"] = record_bytes(*reply.values())
    reply[METRICS]["bytes_down"] = record_bytes(*message.content.values())
    return Message(content=RecordDict(reply), reply_to=message)


def _instruction(content: RecordDict, round_number: int, config: Config, data: NodeData, classes) -> Instruction:
    """The validated models of a round message (rejected ones are logged and left out)."""
    window, k = data.train.length, len(classes)
    received = {}
    for sender, (holding, record, wire) in _senders(content, data.name, classes).items():
        try:
            weights = checked_weights(record, generator_shapes(config, window, k), wire, config.share.max_weight_norm)
        except Rejected as exc:
            log.warning("node %s: rejected the generator from %s: %s", data.name, sender, exc)
            continue
        received[sender] = (holding, weights)
    average = received.pop(AVERAGE, None)
    classifier = None
    if CLASSIFIER + "/" + AVERAGE in content.array_records:
        try:
            classifier = checked_weights(content.array_records[CLASSIFIER + "/" + AVERAGE], classifier_shapes(config, window, k),
                                         config.share.wire_dtype, config.share.max_weight_norm)
        except Rejected as exc:
            log.warning("node %s: rejected the averaged classifier: %s", data.name, exc)
    return Instruction(round_number, received=received, average_generator=average, average_classifier=classifier)


def _senders(content: RecordDict, me: str, classes) -> dict:
    """sender -> (Holding, ArrayRecord, wire format) of every generator in the message but the node's own."""
    found = {}
    for key, record in content.array_records.items():
        kind, _, sender = key.partition("/")
        if kind != GENERATOR or sender == me:
            continue
        try:
            description = content.config_records.get(f"{HOLDING}/{sender}")
            if description is None:
                raise Rejected("it came without a description of what its sender holds")
            holding, wire = _holding(description)
            check_holding(holding, classes)
        except Rejected as exc:
            log.warning("node %s: rejected the generator from %s: %s", me, sender, exc)
            continue
        found[sender] = (holding, record, wire)
    return found


def _holding(description: ConfigRecord):
    try:
        return read_holding(description)
    except ValueError as exc:
        raise Rejected(str(exc)) from None


def _reply_records(outcome: RoundOutcome, wire_dtype: str) -> dict:
    records: dict = {HOLDING: holding_record(outcome.holding, wire_dtype), METRICS: MetricRecord(dict(outcome.metrics))}
    if outcome.generator is not None:
        records[GENERATOR] = encode_weights(outcome.generator, wire_dtype)
    if outcome.classifier is not None:
        records[CLASSIFIER] = encode_weights(outcome.classifier, wire_dtype)
    return records

