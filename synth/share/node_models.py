"""A node's current models as the folders the rest of synth reads.

After every round a node writes, beside its state:
- ``generator/``: a synth generator folder (synth.models.artifact), usable by ``synth generate``,
  ``synth evaluate`` and ``synth export --model generator``;
- ``classifier/``: a ``synth train-classifier``-style folder (classifier.keras + classifier.json),
  usable by ``synth evaluate --classifier`` and ``synth export --model classifier``.
Both record the node, round, mode, seed and the hash of the node's local data.
"""

from __future__ import annotations

from pathlib import Path

from synth.classify.train_classifier import INFO_FILE, MODEL_FILE, classifier_contract
from synth.core.atomic import save_keras, write_json
from synth.core.config import Config
from synth.core.profiles import load_profile
from synth.core.runs import hash_arrays
from synth.core.windows import Windows
from synth.models.artifact import GeneratorInfo, save_generator

GENERATOR_DIR, CLASSIFIER_DIR = "generator", "classifier"


def write_node_models(state_dir: Path, models, config: Config, local: Windows, provenance: dict, scores: dict) -> None:
    """Write ``generator/`` (unless no GAN is trained in this mode) and ``classifier/`` into ``state_dir``."""
    data_hash = hash_arrays(local.x, local.y, extra=",".join(local.classes))
    if config.share.mode in ("relay", "fedavg"):
        profile = load_profile(config.profile)
        info = GeneratorInfo(classes=local.classes, window=local.length, rate_hz=local.rate_hz,
                             noise_dim=config.model.noise_dim, hidden_units=config.model.generator_units,
                             full_scale_g=profile.full_scale_g, profile=profile.name, seed=config.seed,
                             data_hash=data_hash, provenance={"share": provenance, "config": config.model_dump(mode="json")})
        save_generator(Path(state_dir) / GENERATOR_DIR, models.gan.generator, info)
    folder = Path(state_dir) / CLASSIFIER_DIR
    save_keras(models.classifier, folder / MODEL_FILE)
    write_json(folder / INFO_FILE, {
        **classifier_contract(local.classes, local.length),
        "architecture": config.classifier.architecture,
        "parameters": int(models.classifier.count_params()),
        "seed": config.seed,
        "data_hash": data_hash,
        "share": provenance,
        "held_out": scores,
        "config": config.model_dump(mode="json"),
    })
