"""The one reader of .tflite flatbuffers: check a file, then read what C generation or an export audit needs.

``load_tflite`` parses a file in full before any interpreter sees it. ``read_graph`` gives the
main subgraph as plain Python values (tensors with shapes, int8 quantisation per tensor or per
channel and constant data as numpy arrays; operators with their builtin options) for C
generation; ``read_model`` summarises any model (operators with their input types, inputs and
outputs with their quantisation) for the op audit, verification and the manifest. Parsed with
the flatbuffer schema that ships with ai_edge_litert (pure Python, no TensorFlow import).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from synth.core.errors import ModelError

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



# --- the graph C generation reads ---------------------------------------------------------------

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
    try:
        _parse(data)
    except ModelError:
        raise ModelError(f"{path}: truncated or damaged TFLite model") from None
    return data


def _parse(data: bytes):
    """The whole flatbuffer as the schema's object tree (ModelT); ModelError when it is not a
    model with at least one subgraph, or its data ends early."""
    from ai_edge_litert import schema_py_generated as schema

    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(data), 0))
    except Exception as exc:  # flatbuffers raises assorted errors on garbage or data that ends early
        raise ModelError(f"not a TFLite flatbuffer ({type(exc).__name__})") from None
    if not model.subgraphs or any(b.offset > 1 and b.offset + b.size > len(data) for b in model.buffers or []):
        raise ModelError("not a complete TFLite flatbuffer (no subgraph, or buffers past its end)")
    return model


def read_graph(data: bytes) -> Graph:
    """The main subgraph of an int8 .tflite model; ModelError when it is not one or has several subgraphs."""
    model = _parse(data)
    if len(model.subgraphs) != 1:
        raise ModelError("the model must have exactly one subgraph")
    sub = model.subgraphs[0]
    tensors = [_tensor(i, t, model.buffers) for i, t in enumerate(sub.tensors)]
    operators = [
        Operator(i, _op_name(model.operatorCodes[o.opcodeIndex]), _ints(o.inputs), _ints(o.outputs), o.builtinOptions)
        for i, o in enumerate(sub.operators or [])
    ]
    return Graph(tensors, operators, _ints(sub.inputs), _ints(sub.outputs))


def _op_name(code) -> str:
    """The builtin op name ("CONV_2D"), or "CUSTOM:<name>" for a custom op."""
    # builtin codes above 127 live in builtinCode; older files keep them in deprecatedBuiltinCode
    name = _enum_names("BuiltinOperator").get(max(int(code.builtinCode), int(code.deprecatedBuiltinCode)), "UNKNOWN")
    return f"CUSTOM:{_text(code.customCode)}" if name == "CUSTOM" else name


@lru_cache(maxsize=None)
def _enum_names(enum: str) -> dict[int, str]:
    """{value: name} of a schema enum class ("BuiltinOperator", "TensorType")."""
    from ai_edge_litert import schema_py_generated as schema

    return {v: k for k, v in vars(getattr(schema, enum)).items() if not k.startswith("_") and isinstance(v, int)}


def _text(value) -> str:
    """A flatbuffer string (bytes or None) as str."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")


def _ints(values) -> list[int]:
    return [int(v) for v in values] if values is not None else []


def _tensor(index: int, t, buffers) -> Tensor:
    """A Tensor from the schema object; constant data decoded when its buffer holds bytes."""
    dtype = _DTYPES.get(t.type)
    if dtype is None:
        raise ModelError(f"tensor {_text(t.name)!r} has an unsupported type ({_enum_names('TensorType').get(t.type, t.type)})")
    shape = tuple(int(s) for s in t.shape) if t.shape is not None else ()
    q = t.quantization
    scales = np.asarray(q.scale if q is not None and q.scale is not None else [], np.float32)
    zps = np.asarray(q.zeroPoint if q is not None and q.zeroPoint is not None else [], np.int64)
    raw = buffers[t.buffer].data if t.buffer < len(buffers) else None
    data = None if raw is None or len(raw) == 0 else np.frombuffer(bytes(bytearray(raw)), dtype).reshape(shape)
    return Tensor(index, _text(t.name), shape, dtype, scales, zps, data)


# --- the summary an op audit, verification and the manifest read -------------------------------


def read_model(tflite: bytes) -> ModelInfo:
    """Summarise .tflite bytes (any tensor types) into a ModelInfo; ModelError when not a model."""
    model = _parse(tflite)
    graph = model.subgraphs[0]
    tensors = [_tensor_info(t) for t in graph.tensors]
    ops = tuple(_op_info(model, op, tensors) for op in graph.operators or [])
    return ModelInfo(ops, tuple(tensors[i] for i in graph.inputs), tuple(tensors[i] for i in graph.outputs))


def _tensor_info(t) -> TensorInfo:
    """TensorInfo of a schema TensorT (per-tensor quantisation; per-channel weights keep their first scale)."""
    q = t.quantization
    has_q = q is not None and q.scale is not None and len(q.scale) > 0
    return TensorInfo(
        name=_text(t.name), shape=tuple(int(d) for d in (t.shape if t.shape is not None else ())),
        dtype=_enum_names("TensorType")[t.type],
        scale=float(np.asarray(q.scale)[0]) if has_q else None,
        zero_point=int(np.asarray(q.zeroPoint)[0]) if has_q else None,
    )


def _op_info(model, op, tensors: list[TensorInfo]) -> OpInfo:
    """OpInfo of a schema OperatorT."""
    inputs = tuple(tensors[i].dtype for i in op.inputs if i >= 0)  # -1 marks an omitted optional input
    return OpInfo(_op_name(model.operatorCodes[op.opcodeIndex]), inputs, tuple(tensors[i].name for i in op.outputs))
