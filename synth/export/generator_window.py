"""The generator as the device runs it: an int8 core that keeps each class's detail, and the window it assembles.

A generator's window spans about +-10 g (running) while a stationary window moves by 10-20 mg:
one int8 output scale for the whole window (a step of about 0.09 g) wipes out the quiet class.
The exported core therefore outputs what the generator computes before it scales anything
(synth.models.zoo.device_core): row 0 the offset (gravity and posture) in eighths of a g, rows 1..T the motion
in units of the class's own motion scale, all of a few units, so one output step is about 0.04
of a class's motion whatever the class. The window in g is then assembled in float32, in this
order, by ``assemble_windows`` here, by the generated ``NAME_window_g`` in C
(firmware_export/generator/window.c.j2) and by the Pi bundle's run.py:

1. dequantise: v = (q - output zero point) * output scale;
2. window[t][a] = v[0][a] * DEVICE_OFFSET_UNIT_G + CLASS_SCALE_G[c][a] * v[1 + t][a].

The output scale, zero point and the class scales are float32 values that the C literals print
exactly, so the device computes the same float32 windows as Python.
"""

from __future__ import annotations

import numpy as np

from synth.core.tflite_file import Graph
from synth.export.c_literals import c_float
from synth.export.standalone import environment

ASSEMBLY = "offset_and_class_scaled_motion"  # the manifest's name for this output layout (extra.generator.layout)


def assemble_windows(rows: np.ndarray, class_index: np.ndarray, assembly: dict) -> np.ndarray:
    """Core outputs (N, 1 + T, 3), already dequantised (float32), and class indices (N,) -> windows (N, T, 3) g, float32."""
    rows = np.asarray(rows, np.float32)
    scales = np.asarray(assembly["class_scales_g"], np.float32)[np.asarray(class_index)]  # (N, 3)
    offset = rows[:, :1, :] * np.float32(assembly["offset_unit_g"])
    return (offset + scales[:, None, :] * rows[:, 1:, :]).astype(np.float32)


def dequantize_float32(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8 codes -> float32 as the C does it: (float)(q - zero point) * scale, in float32."""
    return (np.asarray(q, np.int32) - np.int32(zero_point)).astype(np.float32) * np.float32(scale)


def generator_files(graph: Graph, name: str, source: str, manifest: dict, runtime: str) -> dict[str, str]:
    """``NAME_window.h`` / ``NAME_window.c`` when ``manifest`` is a class-scaled generator's, else {}."""
    assembly = (manifest.get("extra") or {}).get("generator")
    if manifest.get("kind") != "generator" or not assembly or assembly.get("layout") != ASSEMBLY:
        return {}
    output = graph.tensors[graph.outputs[0]]
    scales = np.asarray(assembly["class_scales_g"], np.float32)
    values = {
        "name": name, "prefix": name.upper(), "guard": name.upper(), "source": source,
        "window": int(output.shape[-2]) - 1, "labels": list(manifest.get("labels") or []),
        "classes": len(scales), "offset_unit_g": c_float(assembly["offset_unit_g"]),
        "output_scale": c_float(output.scale), "output_zero_point": int(output.zero_point),
        "class_scales": [[c_float(v) for v in row] for row in scales],
    }
    env = environment()
    return {f"{name}_window.{ext}": env.get_template(f"generator/window.{ext}.j2").render(values) for ext in ("h", "c")}
