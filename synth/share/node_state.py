"""A node's state on its own disk, so that a restarted node carries on where it stopped.

state_dir/
- state.json: node name, last completed round, federation classes, seed (written last: a round
  counts as done only once this file says so);
- gan.npz: every variable of the node's WGAN-GP (generator, critic, both optimizers, random
  stream; synth.models.checkpoint's layout);
- classifier.npz: the classifier's variables and its optimizer's;
- received/<sender>.npz + received/<sender>.json: the last valid generator of each other node
  (named float32 weights) and what that node holds.
Every file is written atomically.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from synth.core.atomic import write_json
from synth.core.npz import load_npz, save_npz
from synth.federated.wire import Holding

STATE_FILE = "state.json"
GAN_FILE = "gan.npz"
CLASSIFIER_FILE = "classifier.npz"
RECEIVED_DIR = "received"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


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
    state.gan = _maybe_npz(state_dir / GAN_FILE)
    state.classifier = _maybe_npz(state_dir / CLASSIFIER_FILE)
    for holding_file in sorted((state_dir / RECEIVED_DIR).glob("*.json")):
        raw = json.loads(holding_file.read_text())
        weights = _maybe_npz(holding_file.with_suffix(".npz"))
        if weights is not None:
            state.received[raw["node"]] = (Holding(raw["node"], dict(raw["counts"])), weights)
    return state


def save_state(state_dir: Path, state: NodeState, extra: dict) -> None:
    """Write ``state`` (``extra``: more facts for state.json, e.g. the seed and classes)."""
    state_dir = Path(state_dir)
    if state.gan is not None:
        save_npz(state_dir / GAN_FILE, state.gan)
    if state.classifier is not None:
        save_npz(state_dir / CLASSIFIER_FILE, state.classifier)
    for sender, (holding, weights) in state.received.items():
        stem = state_dir / RECEIVED_DIR / _SAFE_NAME.sub("_", sender)
        save_npz(stem.with_suffix(".npz"), weights)
        write_json(stem.with_suffix(".json"), {"node": holding.node, "counts": holding.counts})
    write_json(state_dir / STATE_FILE, {"node": state.node, "round": state.round, **extra})


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
