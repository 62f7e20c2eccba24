"""``synth export``: quantise, audit, verify, measure and write one export folder atomically.

The folder holds ``model.tflite`` and ``manifest.json``; a Raspberry Pi bundle (target ``pi``)
adds ``run.py``, a runner that needs only numpy and ai-edge-litert (synth/export/pi_runner.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from synth.core.atomic import build_directory, write_bytes, write_json
from synth.core.tflite_file import read_model
from synth.export.arena import probe_arena
from synth.export.audit import audit_ops
from synth.export.manifest import build_manifest
from synth.export.quantize import load_export_source, quantize_to_int8
from synth.export.request import check_request
from synth.export.verify import verify

MODEL_FILE = "model.tflite"
MANIFEST_FILE = "manifest.json"
RUNNER_FILE = "run.py"
RUNNER_SOURCE = Path(__file__).resolve().parent / "pi_runner.py"
# a window detector's fault statistics, which run.py imports from beside it (numpy only)
FEATURES_FILE = "window_features.py"
FEATURES_SOURCE = Path(__file__).resolve().parents[1] / "anomaly" / FEATURES_FILE


def export_model(kind: str, source: str | Path, target: str, out: str | Path, config: Optional[str | Path] = None,
                 force: bool = False, seed: int = 0) -> dict:
    """Export the ``kind`` model at ``source`` for ``target`` into ``out``; returns the manifest.

    Refuses a bad target or a non-empty ``out`` (without ``force``) before any work.
    """
    check_request(kind, source, target, out, force)
    loaded = load_export_source(kind, source, config, seed=seed)
    tflite = quantize_to_int8(loaded.model, loaded.samples, seed=seed)
    info = read_model(tflite)
    ops = audit_ops(info, [layer.name for layer in loaded.model.layers])
    manifest = build_manifest(loaded, tflite, info, ops, target, probe_arena(tflite), verify(loaded, tflite, info))
    with build_directory(out, force) as folder:
        write_bytes(folder / MODEL_FILE, tflite)
        write_json(folder / MANIFEST_FILE, manifest)
        if target == "pi":
            write_bytes(folder / RUNNER_FILE, RUNNER_SOURCE.read_bytes())
            if manifest["extra"].get("anomaly", {}).get("fault_rule"):
                write_bytes(folder / FEATURES_FILE, FEATURES_SOURCE.read_bytes())
    return manifest
