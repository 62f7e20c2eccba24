"""Read an int8 .tflite flatbuffer into plain Python values: tensors, operators and their options.

Only what C generation needs: shapes, int8 quantisation (scale, zero point per tensor or per
channel), constant data as numpy arrays and each operator's builtin options. The reader is
the flatbuffer schema that ships with ai_edge_litert (pure Python, no TensorFlow import).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.errors import ModelError

_DTYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8, 7: np.int16}


@dataclass
class Tensor:
    """One tensor: shape (batch first), dtype, quantisation and constant data (None for activations)."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: type
    scales: np.ndarray  # float32, one per tensor or per channel; empty when unquantised
    zero_points: np.ndarray  # int64, same length as scales
    data: np.ndarray | None = None

    @property
    def scale(self) -> float:
        """The per-tensor scale (the first one of a per-channel tensor), as float32 in a Python float."""
        return float(self.scales[0]) if len(self.scales) else 0.0

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0]) if len(self.zero_points) else 0

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1


@dataclass
class Operator:
    """One node: its TFLite builtin name, input/output tensor indices (-1 = absent) and options."""

    index: int
    op: str
    inputs: list[int]
    outputs: list[int]
    options: object = None


@dataclass
class Graph:
    """The main subgraph of a model."""

    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]

    def ops_used(self) -> list[str]:
        """Builtin operator names in first-use order, each once."""
        return list(dict.fromkeys(op.op for op in self.operators))


TFLITE_IDENTIFIER = b"TFL3"  # the flatbuffer file identifier at bytes 4-8 of every .tflite model


def load_tflite(path: str | Path) -> bytes:
    """The bytes of a .tflite file, parsed in full before any interpreter sees them.

    A truncated or damaged flatbuffer handed to a C++ interpreter can crash the process; the
    pure-Python reader raises instead. ModelError naming the file when it is missing, a folder,
    not a TFLite model, or truncated (including buffers stored past the flatbuffer's end).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ModelError(f"{path}: is a folder, expected a .tflite file") from None
    except OSError as exc:
        raise ModelError(f"cannot read the model {path}: {exc.strerror}") from None
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise ModelError(f"{path}: not a TFLite model (no {TFLITE_IDENTIFIER.decode()} identifier)")
    schema = _schema()
    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(data), 0))
    except Exception:  # flatbuffers raises assorted errors on data that ends early
        raise ModelError(f"{path}: truncated or damaged TFLite model") from None
    if not model.subgraphs or any(b.offset > 1 and b.offset + b.size > len(data) for b in model.buffers or []):
        raise ModelError(f"{path}: truncated or damaged TFLite model")
    return data


def read_graph(data: bytes) -> Graph:
    """Parse a .tflite model; ModelError when it is not one or has several subgraphs."""
    schema = _schema()
    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(data), 0))
    except Exception as exc:  # flatbuffers raises assorted errors on garbage
        raise ModelError(f"not a TFLite flatbuffer ({type(exc).__name__})") from None
    if not model.subgraphs or len(model.subgraphs) != 1:
        raise ModelError("the model must have exactly one subgraph")
    sub = model.subgraphs[0]
    names = _builtin_names(schema)
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    tensors = [_tensor(i, t, model.buffers) for i, t in enumerate(sub.tensors)]
    operators = [
        Operator(i, names.get(codes[o.opcodeIndex], f"CUSTOM_{codes[o.opcodeIndex]}"), _ints(o.inputs), _ints(o.outputs), o.builtinOptions)
        for i, o in enumerate(sub.operators or [])
    ]
    return Graph(tensors, operators, _ints(sub.inputs), _ints(sub.outputs))


def _schema():
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


def _builtin_names(schema) -> dict[int, str]:
    return {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)}


def _ints(values) -> list[int]:
    return [int(v) for v in values] if values is not None else []


def _tensor(index: int, t, buffers) -> Tensor:
    """A Tensor from the schema object; constant data decoded when its buffer holds bytes."""
    dtype = _DTYPES.get(t.type)
    if dtype is None:
        raise ModelError(f"tensor {t.name!r} has an unsupported type (code {t.type})")
    shape = tuple(int(s) for s in t.shape) if t.shape is not None else ()
    q = t.quantization
    scales = np.asarray(q.scale if q is not None and q.scale is not None else [], np.float32)
    zps = np.asarray(q.zeroPoint if q is not None and q.zeroPoint is not None else [], np.int64)
    raw = buffers[t.buffer].data if t.buffer < len(buffers) else None
    data = None if raw is None or len(raw) == 0 else np.frombuffer(bytes(bytearray(raw)), dtype).reshape(shape)
    name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
    return Tensor(index, name, shape, dtype, scales, zps, data)
