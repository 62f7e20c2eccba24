"""Read what a .tflite flatbuffer holds: its operators, their tensors, and the model's inputs and outputs.

Parsed with the schema that ships in ai_edge_litert (no TensorFlow needed). Only the first
subgraph is read: the converter writes one for the models synth exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class TensorInfo:
    """One tensor: name, shape, dtype name ("INT8" ...), per-tensor scale and zero point (or None)."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float | None
    zero_point: int | None

    def as_json(self) -> dict:
        """The manifest's description of an input or output tensor."""
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype.lower(),
                "scale": self.scale, "zero_point": self.zero_point}


@dataclass(frozen=True)
class OpInfo:
    """One operator: its op name ("CONV_2D", or "CUSTOM:<name>"), its input dtypes and output tensor names."""

    name: str
    input_dtypes: tuple[str, ...]
    output_names: tuple[str, ...]


@dataclass(frozen=True)
class ModelInfo:
    """A parsed model: operators in execution order, inputs and outputs in index order."""

    ops: tuple[OpInfo, ...]
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]

    @property
    def op_names(self) -> list[str]:
        """The distinct op names, sorted."""
        return sorted({op.name for op in self.ops})


def read_model(tflite: bytes) -> ModelInfo:
    """Parse .tflite bytes into a ModelInfo."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(tflite), 0)
    graph = model.subgraphs[0]
    tensors = [_tensor(t) for t in graph.tensors]
    ops = tuple(_op(model, op, tensors) for op in graph.operators)
    return ModelInfo(ops, tuple(tensors[i] for i in graph.inputs), tuple(tensors[i] for i in graph.outputs))


def _tensor(t) -> TensorInfo:
    """TensorInfo of a schema TensorT (per-tensor quantisation; per-channel weights keep their first scale)."""
    q = t.quantization
    has_q = q is not None and q.scale is not None and len(q.scale) > 0
    return TensorInfo(
        name=_text(t.name), shape=tuple(int(d) for d in (t.shape if t.shape is not None else ())),
        dtype=_enum_names("TensorType")[t.type],
        scale=float(np.asarray(q.scale)[0]) if has_q else None,
        zero_point=int(np.asarray(q.zeroPoint)[0]) if has_q else None,
    )


def _op(model, op, tensors: list[TensorInfo]) -> OpInfo:
    """OpInfo of a schema OperatorT."""
    code = model.operatorCodes[op.opcodeIndex]
    # builtin codes above 127 live in builtinCode; older files keep them in deprecatedBuiltinCode
    number = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
    name = _enum_names("BuiltinOperator")[number]
    if name == "CUSTOM":
        name = f"CUSTOM:{_text(code.customCode)}"
    inputs = tuple(tensors[i].dtype for i in op.inputs if i >= 0)  # -1 marks an omitted optional input
    return OpInfo(name, inputs, tuple(tensors[i].name for i in op.outputs))


def _text(value) -> str:
    """A flatbuffer string (bytes or None) as str."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")


@lru_cache(maxsize=None)
def _enum_names(enum: str) -> dict[int, str]:
    """{value: name} of a schema enum class ("BuiltinOperator", "TensorType")."""
    from ai_edge_litert import schema_py_generated as schema

    return {v: k for k, v in vars(getattr(schema, enum)).items() if not k.startswith("_")}
