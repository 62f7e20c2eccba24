"""The export manifest (manifest.json): everything firmware or a Pi script needs to use the .tflite.

Fields: format version, model kind and target, labels, sensor-profile constants, the ops and
their runtime, input and output tensors (name, shape, dtype, scale, zero point, units),
preprocessing (who does it), tensor arena bytes, model bytes and sha256, the source model's
hash, config and seed, the verification report, and in ``extra`` the kind's own constants
(an anomaly detector's scaling, threshold and k under "anomaly"). Keys are sorted when
written, so the same export gives the same bytes.
"""

from __future__ import annotations

import hashlib

from synth.core.tflite_file import ModelInfo

FORMAT = "synth-export/1"


def build_manifest(source, tflite: bytes, info: ModelInfo, ops: list[str], target: str, arena_bytes: int,
                   verification: dict) -> dict:
    """The manifest of an export of ``source`` (an ExportSource) as ``tflite`` bytes for ``target``."""
    meta = source.metadata
    return {
        "format": FORMAT,
        "kind": source.kind,
        "target": target,
        "labels": meta["labels"],
        "rate_hz": meta["rate_hz"],
        "profile": meta["profile"],
        "preprocessing": meta.get("preprocessing"),
        "ops": ops,
        "op_runtime": "tflite-micro builtins, full int8 (TFLITE_BUILTINS_INT8), batch 1",
        "inputs": _tensors(info.inputs, meta["inputs"]),
        "outputs": _tensors(info.outputs, meta["outputs"]),
        "arena_bytes": arena_bytes,
        "model_bytes": len(tflite),
        "model_sha256": hashlib.sha256(tflite).hexdigest(),
        "source": meta["source"],
        "extra": {k: v for k, v in meta.items() if k in ("threshold_g2", "window", "anomaly", "generator")},
        "verification": verification,
    }


def _tensors(tensors, described: list[dict]) -> list[dict]:
    """Each tensor's shape, dtype and quantisation, with the units and layout the source gave it."""
    return [{**t.as_json(), **{k: v for k, v in d.items() if k != "name"}, "role": d["name"]}
            for t, d in zip(tensors, described)]
