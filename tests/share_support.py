"""Test support for synth.share: a tiny share config, and a Grid stand-in that delivers the
server's messages to nodes in this process (the real engine is tested in the simulation and
deployment tests; this one lets tests inspect every message and make nodes fail on purpose)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable, Optional

import uuid

from flwr.app import Error, Message

TEST_GROUPS = ["stationary_03_26Hz_4g_mg", "walking_03_26Hz_4g_mg", "running_03_26Hz_4g_mg"]


def tiny_share_config(run_dir: Path, **share) -> dict:
    """A raw config for a tiny, fast GAN-sharing run on the shipped ST HAR recordings (windows of 48)."""
    return {
        "seed": 11,
        "profile": "lsm6dsl_4g",
        "data": {"source": "st_har", "path": "builtin", "window": 48, "stride": 48, "test_groups": list(TEST_GROUPS)},
        "model": {"noise_dim": 8, "generator_units": 16, "critic_filters": 8},
        "train": {"batch_size": 16, "n_critic": 2, "steps_per_epoch": 5},
        "classifier": {"architecture": "ign", "batch_size": 64, "dropout": 0.5},
        "share": {"nodes": 3, "rounds": 2, "split": "one_class", "gan_epochs_per_round": 1, "generated_per_class": 32,
                  "classifier_epochs": 1, "min_nodes": 2, "round_timeout_s": 600.0, "run_dir": str(run_dir), **share},
    }


def with_share(raw: dict, **share) -> dict:
    """A copy of ``raw`` with share settings changed."""
    out = copy.deepcopy(raw)
    out["share"].update(share)
    return out


Handler = Callable[[Message], Optional[Message]]
SUPERLINK_NODE_ID = 1  # the sender of the SuperLink's own error replies (flwr.common.constant)
NODE_UNAVAILABLE = "Error: Node Unavailable - the destination node failed to report a heartbeat"


class NodeDied(Exception):
    """Raised by a handler for a node that died: the SuperLink, not the node, answers for it."""


class InProcessGrid:
    """Flower's Grid interface (get_node_ids, send_and_receive) over in-process node handlers.

    A handler returns the node's reply, raises (the node failed: an error reply, as Flower sends),
    raises NodeDied (the SuperLink's "Node Unavailable" reply, sent under the SuperLink's id) or
    returns None (the node never answered). Messages get ids as Flower's grids give them, and
    every message both ways is kept for inspection.
    """

    def __init__(self, handlers: dict[int, Handler]):
        self.handlers = handlers
        self.sent: list[Message] = []
        self.replies: list[Message] = []

    def get_node_ids(self):
        return list(self.handlers)

    def send_and_receive(self, messages, *, timeout=None):
        replies = []
        for message in messages:
            message.metadata.__dict__["_message_id"] = uuid.uuid4().hex  # as Flower's grids do on push
            self.sent.append(message)
            try:
                reply = self.handlers[message.metadata.dst_node_id](message)
            except NodeDied:
                reply = Message(Error(code=5, reason=NODE_UNAVAILABLE), reply_to=message)
                reply.metadata.__dict__["_src_node_id"] = SUPERLINK_NODE_ID
            except Exception as exc:  # Flower turns a ClientApp's exception into an error reply
                reply = Message(Error(code=0, reason=f"{type(exc).__name__}: {exc}"), reply_to=message)
            if reply is not None:
                replies.append(reply)
        self.replies.extend(replies)
        return replies
