"""One round of a GAN-sharing node (IoTGAN's buffer), on the node's own data and disk.

Each round a node:
1. restores its WGAN-GP and classifier from its state folder (synth.share.node_state);
2. keeps the validated generators it has received (the last one per sender);
3. samples ``generated_per_class`` windows per class from them (split evenly among the senders
   that hold the class), with each sender's own per-class motion scales;
4. shuffles those with its local windows and continues training its own generator on the mixture
   (``gan_epochs_per_round`` x train.steps_per_epoch generator steps);
5. trains its classifier on local + generated windows (``classifier_epochs``), scores it on
   held-out real windows when it has them, saves its state and its current models (as a synth
   generator folder and a classifier folder, synth.share.node_models) and returns its
   generator's weights.

Modes change steps 2-4: "fedavg" takes one averaged generator as its own and samples from it;
"classifier_fedavg" trains no GAN and starts from the averaged classifier; "local" shares nothing.
Windows are (N, T, 3) float32 in g throughout. The same seed, data and received weights give the
same result: every random draw is keyed by (seed, node, round), and the compiled models are
shared by all nodes of a process but fully reassigned from the node's state before use.
"""

from __future__ import annotations

import functools
import json
import logging
import time
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import numpy as np

from synth.core.config import Config
from synth.core.windows import Windows, concat
from synth.federated.wire import Holding
from synth.models.sampling import sample_windows
from synth.share.node_models import write_node_models
from synth.share.node_state import NodeState, load_state, save_state, state_lock

log = logging.getLogger(__name__)

SAMPLING_BATCH = 1024
CLASS_SCALE = "class_scale"  # the generator weight holding per-class motion scales (K, 3) in g


@dataclass(frozen=True)
class NodeData:
    """A node's windows in g: ``train`` (its own recordings) and ``test`` (held-out real windows or None)."""

    name: str
    train: Windows
    test: Optional[Windows] = None

    def holding(self) -> Holding:
        return Holding(self.name, self.train.class_counts())


@dataclass(frozen=True)
class Instruction:
    """What the server sent for one round (weights already validated, named float32 arrays)."""

    round: int
    received: dict[str, tuple[Holding, dict[str, np.ndarray]]] = field(default_factory=dict)
    average_generator: Optional[tuple[Holding, dict[str, np.ndarray]]] = None
    average_classifier: Optional[dict[str, np.ndarray]] = None


@dataclass
class RoundOutcome:
    """What a node answers: its generator and/or classifier weights, what it holds, its metrics."""

    holding: Holding
    metrics: dict[str, float]
    generator: Optional[dict[str, np.ndarray]] = None
    classifier: Optional[dict[str, np.ndarray]] = None


def run_round(config: Config, data: NodeData, state_dir: Path, instruction: Instruction) -> RoundOutcome:
    """Play one round for node ``data.name`` holding its state folder's lock (StateBusy when another
    process holds it); the state folder is updated before returning."""
    with state_lock(state_dir, data.name):
        return _play_round(config, data, state_dir, instruction)


def _play_round(config: Config, data: NodeData, state_dir: Path, instruction: Instruction) -> RoundOutcome:
    import keras

    share = config.share
    seed = round_seed(config.seed, data.name, instruction.round)
    keras.utils.set_random_seed(seed)  # TF's global seed also keys tf.data's shuffles: set it per node and round
    models = shared_models(_config_key(config), data.train.length, len(data.train.classes))
    state = load_state(state_dir, data.name)
    models.restore(state, seed)
    metrics: dict[str, float] = {"round": instruction.round, "local_windows": len(data.train)}

    sources = _sources(share.mode, state, instruction)
    if share.mode == "fedavg" and instruction.average_generator is not None:
        models.set_generator(instruction.average_generator[1])
    synthetic = _synthesise(models, sources, config, data.train, seed)
    mixture = concat([data.train, synthetic]) if len(synthetic) else data.train
    metrics["generated_windows"] = len(synthetic)

    if share.mode in ("relay", "fedavg") and share.gan_epochs_per_round:
        started = time.perf_counter()
        models.train_gan(mixture, _merged_scales(data.train, sources), config, seed)
        metrics["gan_seconds"] = time.perf_counter() - started
    if share.mode == "classifier_fedavg" and instruction.average_classifier is not None:
        models.set_classifier(instruction.average_classifier)
        metrics.update(_prefixed("received_", models.score(data.test)))

    started = time.perf_counter()
    keras.utils.set_random_seed(seed)
    models.train_classifier(mixture, config)
    metrics["classifier_seconds"] = time.perf_counter() - started
    metrics.update(models.score(data.test))

    state.round = instruction.round
    state.gan, state.classifier = models.gan_state(), models.classifier_state()
    provenance = {"node": data.name, "round": instruction.round, "mode": share.mode,
                  "local_windows": data.train.class_counts(), "generated_windows": synthetic.class_counts(),
                  "generators_from": sorted(h.node for h, _ in sources)}
    write_node_models(state_dir, models, config, data.train, provenance,
                      {k: v for k, v in metrics.items() if k.startswith("accuracy")})
    save_state(state_dir, state, {"seed": config.seed, "classes": list(data.train.classes), "mode": share.mode})
    shares_generator = share.mode in ("relay", "fedavg")
    return RoundOutcome(
        holding=data.holding(),
        metrics=metrics,
        generator=models.generator_weights() if shares_generator else None,
        classifier=models.classifier_weights() if share.mode == "classifier_fedavg" else None,
    )


def round_seed(seed: int, node: str, round_number: int) -> int:
    """A 31-bit seed for (run seed, node, round): every node and round draws its own stream."""
    return zlib.crc32(f"{seed}/{node}/{round_number}".encode()) & 0x7FFFFFFF


def _sources(mode: str, state: NodeState, instruction: Instruction) -> list[tuple[Holding, dict]]:
    """The generators to sample this round: every sender's latest (relay) or the average (fedavg)."""
    if mode == "relay":
        state.received.update(instruction.received)
        return [state.received[s] for s in sorted(state.received)]
    if mode == "fedavg" and instruction.average_generator is not None:
        return [instruction.average_generator]
    return []


def _synthesise(models: "SharedModels", sources, config: Config, local: Windows, seed: int) -> Windows:
    """Windows of every class the sources hold, ``generated_per_class`` per class split among them."""
    classes, per_class = local.classes, config.share.generated_per_class
    holders = {k: sum(1 for h, _ in sources if h.counts.get(c, 0) > 0) for k, c in enumerate(classes)}
    parts = []
    for index, (holding, weights) in enumerate(sources):
        labels = np.concatenate([
            np.full(max(1, per_class // holders[k]), k, np.int64)
            for k, c in enumerate(classes) if holding.counts.get(c, 0) > 0
        ] or [np.zeros(0, np.int64)])
        if not len(labels):
            continue
        models.scratch.set_weights([weights[n] for n in sorted(weights)])
        x = sample_windows(models.scratch, labels, config.model.noise_dim, len(classes),
                           seed=seed + index, batch_size=SAMPLING_BATCH)
        parts.append(replace(local, x=x, y=labels, groups=np.full(len(labels), f"generated:{holding.node}")))
    return concat(parts) if parts else local.subset(np.zeros(0, np.int64))


def _merged_scales(local: Windows, sources) -> np.ndarray:
    """Per-class motion scales (K, 3) in g: the node's own where it holds the class, else the
    mean of the senders' that hold it, else 1 g (a class nobody holds is never sampled)."""
    from synth.models.zoo import class_scales

    k = len(local.classes)
    scales = class_scales(local.x, local.y, k)
    held = np.bincount(local.y, minlength=k) > 0
    for j, name in enumerate(local.classes):
        if held[j]:
            continue
        rows = [w[_scale_key(w)][j] for h, w in sources if h.counts.get(name, 0) > 0]
        if rows:
            scales[j] = np.mean(rows, axis=0)
    return scales


def _scale_key(weights: dict[str, np.ndarray]) -> str:
    return next(n for n in weights if CLASS_SCALE in n)


def _prefixed(prefix: str, values: dict[str, float]) -> dict[str, float]:
    return {prefix + k: v for k, v in values.items()}


def _config_key(config: Config) -> str:
    """The parts of a config that shape the compiled models (a cache key)."""
    return json.dumps({"seed": config.seed, "profile": config.profile, "model": config.model.model_dump(),
                       "train": config.train.model_dump(), "classifier": config.classifier.model_dump()}, sort_keys=True)


@functools.lru_cache(maxsize=4)
def shared_models(config_key: str, window: int, n_classes: int) -> "SharedModels":
    """The compiled models of this process for one architecture, shared by every node it plays."""
    from synth.share.models import SharedModels

    return SharedModels(Config.model_validate(json.loads(config_key)), window, n_classes)
