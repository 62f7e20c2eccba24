"""Flower's Grid in one process: a federation's server code driving node handlers directly, no engine.

For running a server against nodes whose behaviour is scripted: the tests, and the robustness
benchmark (benchmarks/bench_robust_aggregation.py), which makes some nodes send harmful updates.
It behaves as Flower's grids do where the server code can tell: messages get ids when sent, a
node's exception becomes an error reply, and a node that died is answered for by the SuperLink
(``NodeDied``) under the SuperLink's own node id.
"""

from __future__ import annotations

import uuid
from typing import Callable, Optional

from flwr.app import Error, Message

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
