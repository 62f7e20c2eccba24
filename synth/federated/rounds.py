"""What a federated server's rounds share: waiting for enough nodes, sending a round and sorting its
replies by the node they came from, and the error that ends a run."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from flwr.app import Message, RecordDict
from flwr.serverapp import Grid

from synth.core.errors import SynthError

POLL_S = 1.0  # interval between looks at the connected nodes, seconds


class FederatedRunError(SynthError):
    """The run cannot go on (too few nodes connected in time, or with usable data)."""


def wait_for_nodes(grid: Grid, minimum: int, timeout_s: float) -> list[int]:
    """The connected node ids once at least ``minimum`` are connected; FederatedRunError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        node_ids = sorted(grid.get_node_ids())
        if len(node_ids) >= minimum:
            return node_ids
        if time.monotonic() > deadline:
            raise FederatedRunError(f"only {len(node_ids)} node(s) connected within {timeout_s:.0f} s; share.min_nodes is {minimum}")
        time.sleep(POLL_S)


@dataclass
class RoundReplies:
    """What came back from one round's messages, keyed by the node each message was sent to.

    replies: node id -> reply content; failed: node id -> the error's reason (the node's own
    exception, or the SuperLink's "Node Unavailable" for a node that stopped sending heartbeats);
    silent: node ids with neither by the deadline; seconds: how long the round waited.
    """

    replies: dict[int, RecordDict] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    silent: list[int] = field(default_factory=list)
    seconds: float = 0.0


def send_round(grid: Grid, messages: Sequence[Message], timeout_s: float) -> RoundReplies:
    """Send ``messages`` (one per node) and wait up to ``timeout_s`` seconds for their replies.

    A reply is matched to its node through the message it answers, not its sender: the SuperLink
    answers for a node that died (Node Unavailable) under its own id, not the dead node's.
    """
    started = time.monotonic()
    answers = list(grid.send_and_receive(messages, timeout=timeout_s))
    destination = {message.metadata.message_id: message.metadata.dst_node_id for message in messages}
    outcome = RoundReplies()
    for reply in answers:
        node = destination.get(reply.metadata.reply_to_message_id, reply.metadata.src_node_id)
        if reply.has_error():
            outcome.failed[node] = reply.error.reason
        else:
            outcome.replies[node] = reply.content
    asked = [message.metadata.dst_node_id for message in messages]
    outcome.silent = [n for n in asked if n not in outcome.replies and n not in outcome.failed]
    outcome.seconds = time.monotonic() - started
    return outcome


def report_missing(outcome: RoundReplies, name_of: Callable[[int], str], label: str, timeout_s: float,
                   log: logging.Logger) -> tuple[dict[str, str], list[str]]:
    """Log every failed and silent node once, by name; returns ({name: reason}, [silent names]) for the run log.

    label: which round ("round 3", "train 2"); name_of: node id -> the node's name.
    """
    failed = {name_of(node): reason for node, reason in sorted(outcome.failed.items())}
    for name, reason in failed.items():
        log.warning("%s: node %s failed: %s", label, name, reason)
    silent = [name_of(node) for node in outcome.silent]
    for name in silent:
        log.warning("%s: node %s sent no reply within the round's %.0f s (limit %.0f s)", label, name, outcome.seconds, timeout_s)
    return failed, silent
