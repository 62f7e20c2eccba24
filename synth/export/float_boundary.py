"""The float interface of a full-integer model: QUANTIZE float32 -> int8 first, DEQUANTIZE int8 -> float32 last.

TFLite's converter writes int8 models this way unless told otherwise, and ST's model zoo ships
its classifiers so. The standalone runtime keeps the int8 core and converts at the boundary in
C, as tflite-micro's reference kernels do (``synth_quantize_float``, ``synth_dequantize_float``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.export.standalone_ops import UnsupportedOpError
from synth.core.tflite_file import Graph


@dataclass(frozen=True)
class Boundary:
    """Which ends of the model are float32 around its int8 core. The conversions use the core's own
    tensors: a QUANTIZE's int8 output (the core input) and a DEQUANTIZE's int8 input (the core output)."""

    float_input: bool
    float_output: bool


def split_float_boundary(graph: Graph) -> tuple[Graph, Boundary]:
    """(the int8 core graph, its Boundary). An int8 model comes back unchanged with no conversions.

    UnsupportedOpError in one line for a float32 input or output that is not converted by a single
    QUANTIZE (to int8) or DEQUANTIZE (from int8) next to it, or for a mix of float and int8 inputs.
    """
    removed: set[int] = set()
    inputs, outputs = [], []
    for role, indices, core in (("input", graph.inputs, inputs), ("output", graph.outputs, outputs)):
        for index in indices:
            core_index, op_index = _boundary_side(graph, index, role)
            core.append(core_index)
            if op_index is not None:
                removed.add(op_index)
    converted = [core_index != index for core_index, index in zip(inputs, graph.inputs)]
    if any(converted) and not all(converted):
        raise UnsupportedOpError("the model mixes float32 and int8 inputs: the standalone C runtime takes all of one kind")
    core = Graph(graph.tensors, [op for op in graph.operators if op.index not in removed], inputs, outputs)
    return core, Boundary(any(converted), outputs != list(graph.outputs))


def _boundary_side(graph: Graph, index: int, role: str) -> tuple[int, int | None]:
    """(core tensor, the converting op's index or None) of one graph ``role`` ("input" or "output") tensor:
    a float32 input must be read by one QUANTIZE to int8, a float32 output written by one DEQUANTIZE from int8."""
    tensor = graph.tensors[index]
    if tensor.dtype is not np.float32:
        return index, None
    reading = role == "input"
    name, relation = ("QUANTIZE", "read by one QUANTIZE to") if reading else ("DEQUANTIZE", "written by one DEQUANTIZE from")
    neighbours = [op for op in graph.operators if index in (op.inputs if reading else op.outputs)]
    core_index = (neighbours[0].outputs[0] if reading else neighbours[0].inputs[0]) if len(neighbours) == 1 else None
    if core_index is None or neighbours[0].op != name or graph.tensors[core_index].dtype is not np.int8:
        raise UnsupportedOpError(f"the float32 {role} {tensor.name!r} is not {relation} int8: the standalone C runtime "
                                 "converts float32 only at the model boundary")
    return core_index, neighbours[0].index
