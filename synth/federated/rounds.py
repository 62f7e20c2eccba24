"""What a federated server's rounds share: waiting for enough nodes, and the error that ends a run."""

from __future__ import annotations

import time

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
