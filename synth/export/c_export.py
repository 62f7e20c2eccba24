"""``synth export-c``: write a .tflite model as C for firmware, with the TFLM glue or the standalone runtime.

Both runtimes get ``NAME_config.h`` (shapes, quantisation, labels, sensor constants, arena size).
``tflm`` adds the model as a C array and TensorFlow Lite Micro glue; ``standalone`` adds
self-contained C99 inference (no TFLM, no malloc) whose outputs equal tflite-micro's bit for bit.
With an anomaly detector's manifest both add ``NAME_anomaly.h/.c``: ``NAME_is_anomaly`` flags a
raw row (synth.export.anomaly_flag).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from synth.core.atomic import build_directory
from synth.core.errors import ConfigError, ModelError
from synth.core.tflite_file import load_tflite, read_graph
from synth.export.anomaly_flag import anomaly_files
from synth.export.arena import probe_arena
from synth.export.c_array import config_header, data_files, tflm_files
from synth.export.float_boundary import split_float_boundary
from synth.export.generator_window import generator_files
from synth.export.standalone import check_identifier, generate_standalone
from synth.export.standalone_plan import plan_memory

RUNTIMES = ("tflm", "standalone")


def export_c(tflite_path: str | Path, out: str | Path, runtime: str = "tflm", name: str = "synth_model",
             manifest_path: str | Path | None = None, force: bool = False) -> dict:
    """Write the C files into ``out`` (atomically); returns {"files", "ops", "arena_bytes", "runtime"}."""
    if runtime not in RUNTIMES:
        raise ConfigError(f"unknown runtime {runtime!r} (allowed: {', '.join(RUNTIMES)})")
    check_identifier(name)
    tflite = load_tflite(tflite_path)
    manifest = read_manifest(manifest_path)
    check_manifest_matches(manifest, tflite, tflite_path, manifest_path)
    graph = read_graph(tflite)
    source = Path(tflite_path).name
    if runtime == "standalone":
        files = generate_standalone(tflite, name, source)
        described = split_float_boundary(graph)[0]  # a float32 interface is converted around this int8 core
        arena = (plan_memory(described).arena_bytes, "the standalone runtime's static arena")
    else:
        check_full_int8(graph, tflite_path)
        described = graph
        arena = _tflm_arena(tflite, manifest)
        files = {**data_files(tflite, name, source), **tflm_files(graph, name, source, arena)}
    files[f"{name}_config.h"] = config_header(described, name, source, manifest, arena)
    files.update(anomaly_files(graph, name, source, manifest, runtime))  # none unless the manifest is a detector's
    files.update(generator_files(graph, name, source, manifest, runtime))  # none unless the manifest is a generator's
    with build_directory(out, force) as staging:
        for file_name, text in sorted(files.items()):
            (staging / file_name).write_text(text)
    return {"files": sorted(files), "ops": graph.ops_used(), "arena_bytes": arena[0], "runtime": runtime}


def check_manifest_matches(manifest: dict, tflite: bytes, tflite_path, manifest_path) -> None:
    """ConfigError when the manifest describes another model: its arena, labels and sensor
    constants would be compiled into the firmware of this one."""
    recorded = manifest.get("model_sha256")
    if recorded is not None and recorded != hashlib.sha256(tflite).hexdigest():
        raise ConfigError(f"the manifest {manifest_path} belongs to another model (its model_sha256 differs from "
                          f"{Path(tflite_path).name}'s); use the manifest.json that synth export wrote beside it")


def check_full_int8(graph, tflite_path) -> None:
    """ModelError unless every input and output tensor is int8: the TFLM glue copies int8 buffers."""
    for role, indices in (("input", graph.inputs), ("output", graph.outputs)):
        for index in indices:
            tensor = graph.tensors[index]
            if tensor.dtype is not np.int8:
                raise ModelError(f"{Path(tflite_path).name}: its {role} {tensor.name!r} is {np.dtype(tensor.dtype).name}; "
                                 f"--runtime tflm takes full-int8 models (int8 inputs and outputs, from synth export); "
                                 f"--runtime standalone also takes a float32 interface (QUANTIZE first, DEQUANTIZE last)")


def read_manifest(path: str | Path | None) -> dict:
    """The export manifest as a dict ({} without one); ConfigError when unreadable or not a JSON object."""
    if path is None:
        return {}
    try:
        value = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the manifest {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"the manifest {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(value, dict):
        raise ConfigError(f"the manifest {path} must hold a JSON object")
    return value


def _tflm_arena(tflite: bytes, manifest: dict) -> tuple[int, str]:
    """The tflite-micro arena: the manifest's figure, else measured now with tflite-micro."""
    if isinstance(manifest.get("arena_bytes"), int) and manifest["arena_bytes"] > 0:
        return manifest["arena_bytes"], "the export manifest (measured with tflite-micro)"
    return probe_arena(tflite), "measured with tflite-micro by synth export-c"
