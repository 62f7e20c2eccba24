"""A trained generator on disk: rebuildable, hashable and self-describing.

A generator folder holds:
- generator.json: metadata (classes, window length, rate, units, architecture arguments, seed,
  data hash, the config that trained it, the weights' sha256);
- generator.weights.npz: the weights as plain named arrays (deterministic bytes; the canonical
  form, hashed in the metadata and loadable without Keras);
- generator.keras: the same model in Keras' own format, for users' tools.
Loading rebuilds the architecture from the metadata and assigns the plain weights, so a file
from an untrusted source is never deserialised as code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from synth.core.atomic import save_keras, write_json
from synth.core.errors import ModelError, first_line
from synth.core.npz import load_npz, save_npz
from synth.core.runs import hash_file

METADATA = "generator.json"
WEIGHTS = "generator.weights.npz"
KERAS_FILE = "generator.keras"


@dataclass(frozen=True)
class GeneratorInfo:
    """What a generator makes: windows (window, 3) in ``units`` at ``rate_hz`` for ``classes``."""

    classes: tuple[str, ...]
    window: int
    rate_hz: float
    noise_dim: int
    hidden_units: int
    full_scale_g: float
    units: str = "g"
    profile: str = ""
    seed: int = 0
    data_hash: str = ""
    weights_sha256: str = ""
    provenance: dict = field(default_factory=dict)

    def class_index(self, name: str) -> int:
        """Index of a class name; ModelError listing the known classes otherwise."""
        if name not in self.classes:
            raise ModelError(f"the generator does not know class {name!r} (it knows: {', '.join(self.classes)})")
        return self.classes.index(name)


def build_from_info(info: GeneratorInfo):
    """A fresh generator with the architecture described by ``info`` (weights untrained)."""
    from synth.models.zoo import build_generator

    return build_generator(info.window, len(info.classes), info.noise_dim, info.hidden_units, info.full_scale_g)


def named_weights(model) -> dict[str, np.ndarray]:
    """Every weight of ``model`` as "<index>_<path with dots>" -> array; sorted names give the
    order ``set_weights`` expects (the index is zero-padded)."""
    return {f"{i:03d}_{w.path.replace('/', '.')}": np.asarray(w.numpy()) for i, w in enumerate(model.weights)}


def save_generator(folder: Path, generator, info: GeneratorInfo) -> GeneratorInfo:
    """Write the three files of a generator folder; returns ``info`` with the weights' hash."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / WEIGHTS
    save_npz(weights, named_weights(generator))
    info = GeneratorInfo(**{**asdict(info), "weights_sha256": hash_file(weights)})
    save_keras(generator, folder / KERAS_FILE)
    write_json(folder / METADATA, asdict(info))
    return info


def load_generator(path: str | Path):
    """(keras generator, GeneratorInfo) from a generator folder or its generator.json."""
    folder = Path(path)
    folder = folder.parent if folder.name == METADATA else folder
    info = read_info(folder)
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise ModelError(f"generator weights not found: {weights}")
    generator = build_from_info(info)
    arrays = [array for _, array in sorted(load_npz(weights).items())]
    try:
        generator.set_weights(arrays)
    except ValueError as exc:
        raise ModelError(f"{weights} does not fit the architecture in {folder / METADATA} (a generator from another "
                         f"version of synth must be trained again): {first_line(exc)}") from None
    return generator, info


def read_info(folder: Path) -> GeneratorInfo:
    """Parse generator.json; ModelError naming the file when missing or malformed."""
    meta = Path(folder) / METADATA
    try:
        raw = json.loads(meta.read_text())
        raw["classes"] = tuple(raw["classes"])
        return GeneratorInfo(**raw)
    except FileNotFoundError:
        raise ModelError(f"no generator found at {folder} (expected {METADATA} there)") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelError(f"{meta} is not valid generator metadata: {exc}") from None
