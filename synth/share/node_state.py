"""A node's state on its own disk, so that a restarted node carries on where it stopped.

state_dir/
- state.json: node name, last completed round, federation classes, seed, and which snapshot holds
  that round's models (written last and atomically: a round counts as done only once this file
  says so, and a write cut short leaves the previous round whole);
- round-<n>/: the snapshot of round n, written under another name and renamed when complete:
  - gan.npz: every variable of the node's WGAN-GP (generator, critic, both optimizers, random
    stream; synth.models.checkpoint's layout);
  - classifier.npz: the classifier's variables and its optimizer's;
  - received/<sender>.npz + received/<sender>.json: the last valid generator of each other node
    (named float32 weights) and what that node holds;
- .lock: held (flock) by the one process playing a round on this folder. A killed SuperNode can
  leave its ClientApp running for a minute; a restarted node's ClientApp then finds the lock
  taken and fails its round with one line (``StateBusy``) instead of writing beside it.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from synth.core.atomic import write_json
from synth.core.errors import SynthError
from synth.core.npz import load_npz, save_npz
from synth.federated.wire import Holding

STATE_FILE = "state.json"
GAN_FILE = "gan.npz"
CLASSIFIER_FILE = "classifier.npz"
RECEIVED_DIR = "received"
LOCK_FILE = ".lock"
SNAPSHOT_PREFIX = "round-"
PARTIAL_SUFFIX = ".partial"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


class StateBusy(SynthError):
    """Another process holds the node's state folder."""


@contextmanager
def state_lock(state_dir: Path, node: str) -> Iterator[None]:
    """Hold the exclusive lock of ``state_dir`` (created if absent) for the block; StateBusy at once
    when another process holds it. The operating system releases it when its holder dies."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateBusy(f"node {node}: another process is playing a round on its state in {state_dir} "
                            "(a ClientApp left running by a stopped node?); this round is left to it") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class NodeState:
    """What a node knows between rounds. ``received``: sender -> (Holding, named float32 weights)."""

    node: str
    round: int = 0
    gan: Optional[dict[str, np.ndarray]] = None
    classifier: Optional[dict[str, np.ndarray]] = None
    received: dict[str, tuple[Holding, dict[str, np.ndarray]]] = field(default_factory=dict)


def load_state(state_dir: Path, node: str) -> NodeState:
    """The node's saved state, or a fresh one (round 0) when the folder holds none."""
    state_dir = Path(state_dir)
    meta = state_dir / STATE_FILE
    if not meta.is_file():
        return NodeState(node)
    saved = json.loads(meta.read_text())
    state = NodeState(node, round=int(saved["round"]))
    snapshot = state_dir / saved["snapshot"]
    state.gan = _maybe_npz(snapshot / GAN_FILE)
    state.classifier = _maybe_npz(snapshot / CLASSIFIER_FILE)
    for holding_file in sorted((snapshot / RECEIVED_DIR).glob("*.json")):
        raw = json.loads(holding_file.read_text())
        weights = _maybe_npz(holding_file.with_suffix(".npz"))
        if weights is not None:
            state.received[raw["node"]] = (Holding(raw["node"], dict(raw["counts"])), weights)
    return state


def save_state(state_dir: Path, state: NodeState, extra: dict) -> None:
    """Commit ``state`` (``extra``: more facts for state.json, e.g. the seed and classes).

    The snapshot is written in full under a temporary name, renamed, and only then named by
    state.json; older snapshots are removed afterwards. Call it holding ``state_lock``.
    """
    state_dir = Path(state_dir)
    name = f"{SNAPSHOT_PREFIX}{state.round}"
    partial = state_dir / (name + PARTIAL_SUFFIX)
    shutil.rmtree(partial, ignore_errors=True)  # left by a write that was cut short
    _write_snapshot(partial, state)
    shutil.rmtree(state_dir / name, ignore_errors=True)  # a round played again after a cut-short commit
    partial.rename(state_dir / name)
    write_json(state_dir / STATE_FILE, {"node": state.node, "round": state.round, "snapshot": name, **extra})
    for old in state_dir.glob(f"{SNAPSHOT_PREFIX}*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)


def _write_snapshot(folder: Path, state: NodeState) -> None:
    if state.gan is not None:
        save_npz(folder / GAN_FILE, state.gan)
    if state.classifier is not None:
        save_npz(folder / CLASSIFIER_FILE, state.classifier)
    for sender, (holding, weights) in state.received.items():
        stem = folder / RECEIVED_DIR / _SAFE_NAME.sub("_", sender)
        save_npz(stem.with_suffix(".npz"), weights)
        write_json(stem.with_suffix(".json"), {"node": holding.node, "counts": holding.counts})
    folder.mkdir(parents=True, exist_ok=True)


def variables_to_arrays(variables) -> dict[str, np.ndarray]:
    """Keras/TF variables in a fixed order -> {"v0000": array, ...}."""
    return {f"v{i:04d}": np.asarray(v.numpy()) for i, v in enumerate(variables)}


def assign_arrays(variables, arrays: dict[str, np.ndarray]) -> None:
    """Inverse of variables_to_arrays; ValueError when the saved state does not fit."""
    if len(arrays) != len(variables):
        raise ValueError(f"saved state holds {len(arrays)} variables, the model has {len(variables)}")
    for i, variable in enumerate(variables):
        variable.assign(arrays[f"v{i:04d}"])


def _maybe_npz(path: Path) -> Optional[dict[str, np.ndarray]]:
    return load_npz(path) if path.is_file() else None
