"""What crosses the link: model weights as named arrays and a small description, nothing else.

A node's generator (or classifier) travels as a Flower ArrayRecord of its named weights
(``model_weights``: "<index>_<layer path>.<variable>", with Keras' per-process layer numbering
removed, so that two processes building the same architecture agree on every name), in one of
three wire formats:

- "float32": the weights as they are (4 bytes per parameter);
- "float16": cast to half precision (2 bytes per parameter);
- "int8": symmetric per-array quantisation, ``q = round(w / s)`` with ``s = max|w| / 127``; each
  array ``name`` travels as int8 beside ``name#scale`` (float32, shape (1,)) (1 byte per parameter).

Beside it goes a ConfigRecord describing what the sender holds: its name, class names and window
counts per class, and the wire format: strings and integers only, never windows. Flower
serialises arrays with ``numpy.save(allow_pickle=False)``, so no pickled object can travel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord

WIRE_DTYPES = ("float32", "float16", "int8")
SCALE_SUFFIX = "#scale"
INT8_LEVELS = 127
_LAYER_NUMBER = re.compile(r"_\d+(?=/|$)")  # "dense_3/kernel" -> "dense/kernel"


@dataclass(frozen=True)
class Holding:
    """What a node holds: its name, and window counts per class name (classes it lacks are absent)."""

    node: str
    counts: dict[str, int]

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(name for name, n in self.counts.items() if n > 0)

    @property
    def windows(self) -> int:
        return int(sum(self.counts.values()))


def model_weights(model) -> dict[str, np.ndarray]:
    """Every weight of a Keras model by a name that does not depend on what else the process built;
    sorted names give the order ``set_weights`` expects."""
    return {f"{i:03d}_{_LAYER_NUMBER.sub('', w.path).replace('/', '.')}": np.asarray(w.numpy())
            for i, w in enumerate(model.weights)}


def encode_weights(weights: dict[str, np.ndarray], wire_dtype: str) -> ArrayRecord:
    """Named float32 weights -> ArrayRecord in ``wire_dtype`` (see the module docstring)."""
    arrays: dict[str, Array] = {}
    for name in sorted(weights):
        value = np.asarray(weights[name], dtype=np.float32)
        if wire_dtype == "int8":
            scale = np.float32(max(float(np.abs(value).max(initial=0.0)), 1e-30) / INT8_LEVELS)
            arrays[name] = Array(np.clip(np.rint(value / scale), -INT8_LEVELS, INT8_LEVELS).astype(np.int8))
            arrays[name + SCALE_SUFFIX] = Array(np.array([scale], np.float32))
        else:
            arrays[name] = Array(value.astype(wire_dtype))
    return ArrayRecord(array_dict=arrays)


def decoded_weights(record: ArrayRecord) -> dict[str, np.ndarray]:
    """ArrayRecord (any wire format) -> named float32 weights. Call only after validation."""
    arrays = {name: record[name].numpy() for name in record.keys()}
    out = {}
    for name, value in arrays.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        scale = arrays.get(name + SCALE_SUFFIX)
        out[name] = value.astype(np.float32) * (scale[0] if scale is not None else np.float32(1.0))
    return out


def holding_record(holding: Holding, wire_dtype: str) -> ConfigRecord:
    """A Holding as a ConfigRecord: node name, class names, counts and the weights' wire format."""
    names = sorted(holding.counts)
    return ConfigRecord({
        "node": holding.node,
        "classes": names,
        "counts": [int(holding.counts[n]) for n in names],
        "wire_dtype": wire_dtype,
    })


def read_holding(record: ConfigRecord) -> tuple[Holding, str]:
    """(Holding, wire format) from a description record; ValueError naming the first bad field."""
    node, classes, counts, wire = (record.get(k) for k in ("node", "classes", "counts", "wire_dtype"))
    if not isinstance(node, str) or not node:
        raise ValueError("its description has no node name")
    if not (isinstance(classes, list) and isinstance(counts, list) and len(classes) == len(counts)):
        raise ValueError("its description's classes and counts do not match")
    if not all(isinstance(c, str) for c in classes) or not all(isinstance(n, int) and n >= 0 for n in counts):
        raise ValueError("its description's classes must be names and its counts non-negative integers")
    if wire not in WIRE_DTYPES:
        raise ValueError(f"its wire format {wire!r} is not one of {', '.join(WIRE_DTYPES)}")
    return Holding(node, dict(zip(classes, counts))), wire


def record_bytes(*records) -> int:
    """Bytes of payload in Flower records (array data, config values)."""
    return int(sum(r.count_bytes() for r in records))
