"""The .tflite as a C array, a header of the model's constants, and TensorFlow Lite Micro glue.

Everything is rendered from the Jinja2 templates in firmware_export/tflm/: ``NAME_data.h/.c``
(``alignas(16) const unsigned char NAME[]`` and ``NAME_len``), ``NAME_config.h`` (shapes, scales,
zero points, labels, sensor constants, arena size; an anomaly detector's scaling and threshold)
and ``NAME_tflm.h/.cc`` (a MicroMutableOpResolver with exactly the model's operators, a static
arena, init and invoke).
"""

from __future__ import annotations

import hashlib
import re

from synth.core.tflite_file import Graph
from synth.export.anomaly_flag import config_values
from synth.export.c_literals import c_string
from synth.export.standalone import environment
from synth.export.standalone_ops import UnsupportedOpError

# TFLite builtin -> MicroMutableOpResolver method
RESOLVER = {
    "ADD": "AddAdd", "AVERAGE_POOL_2D": "AddAveragePool2D", "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D", "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D", "DEQUANTIZE": "AddDequantize",
    "EXPAND_DIMS": "AddExpandDims", "FULLY_CONNECTED": "AddFullyConnected", "LEAKY_RELU": "AddLeakyRelu",
    "LOGISTIC": "AddLogistic", "MAX_POOL_2D": "AddMaxPool2D", "MEAN": "AddMean", "MUL": "AddMul", "PAD": "AddPad",
    "QUANTIZE": "AddQuantize", "REDUCE_MAX": "AddReduceMax", "RELU": "AddRelu", "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape", "SOFTMAX": "AddSoftmax", "SQUEEZE": "AddSqueeze", "SUB": "AddSub",
    "SUM": "AddSum", "TANH": "AddTanh", "TRANSPOSE": "AddTranspose", "STRIDED_SLICE": "AddStridedSlice",
    "SPLIT": "AddSplit", "PACK": "AddPack", "UNPACK": "AddUnpack", "SHAPE": "AddShape",
}


def data_files(tflite: bytes, name: str, source: str) -> dict[str, str]:
    """``NAME_data.h`` and ``NAME_data.c``: the flatbuffer bytes, 12 a line in hex."""
    env = environment()
    lines = [", ".join(f"0x{b:02x}" for b in tflite[i : i + 12]) for i in range(0, len(tflite), 12)]
    values = {"name": name, "guard": name.upper(), "source": source, "size": len(tflite),
              "sha256": hashlib.sha256(tflite).hexdigest(), "lines": lines}
    return {f"{name}_data.h": env.get_template("tflm/model_data.h.j2").render(values),
            f"{name}_data.c": env.get_template("tflm/model_data.c.j2").render(values)}


def resolver_calls(graph: Graph) -> list[str]:
    """One resolver registration per operator the model uses; UnsupportedOpError for an unknown one."""
    missing = [op for op in graph.ops_used() if op not in RESOLVER]
    if missing:
        raise UnsupportedOpError(f"operator {missing[0]} has no tflite-micro registration known to synth export-c")
    return [RESOLVER[op] for op in graph.ops_used()]


def config_header(graph: Graph, name: str, source: str, manifest: dict, arena: tuple[int, str]) -> str:
    """``NAME_config.h``: tensor shapes and quantisation, labels, sensor constants, the arena size."""
    tensors = [_tensor_values(graph, index, role, k) for role, indices in (("input", graph.inputs), ("output", graph.outputs))
               for k, index in enumerate(indices)]
    values = {"name": name, "prefix": name.upper(), "guard": name.upper(), "source": source, "ops": graph.ops_used(),
              "tensors": tensors, "arena_bytes": arena[0], "arena_source": arena[1], "kind": manifest.get("kind"),
              "labels": [c_string(str(label)) for label in manifest.get("labels") or []],
              "constants": _sensor_constants(manifest), "anomaly": config_values(graph, manifest)}
    return environment().get_template("tflm/model_config.h.j2").render(values)


def tflm_files(graph: Graph, name: str, source: str, arena: tuple[int, str]) -> dict[str, str]:
    """``NAME_tflm.h`` and ``NAME_tflm.cc``: the interpreter glue."""
    values = {"name": name, "prefix": name.upper(), "guard": name.upper(), "source": source, "ops": graph.ops_used(),
              "resolver_calls": resolver_calls(graph), "arena_source": arena[1]}
    env = environment()
    return {f"{name}_tflm.h": env.get_template("tflm/model_tflm.h.j2").render(values),
            f"{name}_tflm.cc": env.get_template("tflm/model_tflm.cc.j2").render(values)}


def _tensor_values(graph: Graph, index: int, role: str, k: int) -> dict:
    t = graph.tensors[index]
    return {"role": role, "index": k, "name": re.sub(r"[^\x20-\x7e]|\*/", "?", t.name), "shape": list(t.shape),
            "size": t.size, "scale": repr(t.scale), "zero_point": t.zero_point}


def _sensor_constants(manifest: dict) -> list[tuple[str, str]]:
    """The manifest's sensor-profile values as (PROFILE_KEY, C literal), and its RATE_HZ."""
    profile = manifest.get("profile")
    items = {f"profile_{k}": v for k, v in profile.items()} if isinstance(profile, dict) else {"profile": profile}
    items["rate_hz"] = manifest.get("rate_hz")
    constants = []
    for key, value in sorted(items.items()):
        macro = re.sub(r"[^A-Za-z0-9]", "_", str(key)).upper()
        if isinstance(value, bool):
            constants.append((macro, "1" if value else "0"))
        elif isinstance(value, (int, float)):
            constants.append((macro, repr(value)))
        elif isinstance(value, str):
            constants.append((macro, f'"{c_string(value)}"'))
    return constants
