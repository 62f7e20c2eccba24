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
class Conversion:
    """One boundary conversion: int8 real = scale x (q - zero_point); ``size`` elements."""

    scale: float  # float32 value in a Python float
    zero_point: int
    size: int


@dataclass(frozen=True)
class Boundary:
    """How the model's interface differs from its int8 core: one Conversion per input (None: int8 already), and the output's."""

    inputs: tuple[Conversion | None, ...]
    output: Conversion | None

    @property
    def float_input(self) -> bool:
        return any(c is not None for c in self.inputs)

    @property
    def float_output(self) -> bool:
        return self.output is not None


def split_float_boundary(graph: Graph) -> tuple[Graph, Boundary]:
    """(the int8 core graph, its Boundary). An int8 model comes back unchanged with no conversions.

    UnsupportedOpError in one line for a float32 input or output that is not converted by a single
    QUANTIZE (to int8) or DEQUANTIZE (from int8) next to it, or for a mix of float and int8 inputs.
    """
    removed: set[int] = set()
    inputs, conversions = [], []
    for index in graph.inputs:
        core_input, conversion, op_index = _boundary_side(graph, index, "input")
        inputs.append(core_input)
        conversions.append(conversion)
        if op_index is not None:
            removed.add(op_index)
    if any(c is None for c in conversions) and any(c is not None for c in conversions):
        raise UnsupportedOpError("the model mixes float32 and int8 inputs: the standalone C runtime takes all of one kind")
    outputs, output = [], None
    for index in graph.outputs:
        core_output, output, op_index = _boundary_side(graph, index, "output")
        outputs.append(core_output)
        if op_index is not None:
            removed.add(op_index)
    core = Graph(graph.tensors, [op for op in graph.operators if op.index not in removed], inputs, outputs)
    return core, Boundary(tuple(conversions), output)


def _boundary_side(graph: Graph, index: int, role: str) -> tuple[int, Conversion | None, int | None]:
    """(core tensor, its Conversion, the converting op's index) of one graph ``role`` ("input" or "output") tensor:
    a float32 input must be read by one QUANTIZE to int8, a float32 output written by one DEQUANTIZE from int8."""
    tensor = graph.tensors[index]
    if tensor.dtype is not np.float32:
        return index, None, None
    reading = role == "input"
    name, relation = ("QUANTIZE", "read by one QUANTIZE to") if reading else ("DEQUANTIZE", "written by one DEQUANTIZE from")
    neighbours = [op for op in graph.operators if index in (op.inputs if reading else op.outputs)]
    core_index = (neighbours[0].outputs[0] if reading else neighbours[0].inputs[0]) if len(neighbours) == 1 else None
    if core_index is None or neighbours[0].op != name or graph.tensors[core_index].dtype is not np.int8:
        raise UnsupportedOpError(f"the float32 {role} {tensor.name!r} is not {relation} int8: the standalone C runtime "
                                 "converts float32 only at the model boundary")
    core = graph.tensors[core_index]
    return core.index, Conversion(core.scale, core.zero_point, core.size), neighbours[0].index
