"""Op audit: every operator of an exported model must be one the microcontroller interpreter runs.

TFLM_BUILTIN_OPS is the set of builtin kernels tflite-micro registers (its
MicroMutableOpResolver; the same set the PyPI tflite_micro interpreter links). Notably absent:
TILE (what UpSampling1D becomes) and every custom or Flex op.
A model is also refused when an operator reads a float tensor: a full-int8 export must not
fall back to float kernels, which a Cortex-M4 runs slowly if the firmware has them at all.

The error names the op and the Keras layer that produced it, read from the operator's output
tensor names: the converter keeps each layer's name scope ("<model>_1/<layer>_1/BiasAdd").
"""

from __future__ import annotations

import re
from typing import Sequence

from synth.core.errors import ModelError
from synth.core.tflite_file import ModelInfo, OpInfo

TFLM_BUILTIN_OPS = frozenset("""
ABS ADD ADD_N ARG_MAX ARG_MIN ASSIGN_VARIABLE AVERAGE_POOL_2D BATCH_MATMUL BATCH_TO_SPACE_ND BROADCAST_ARGS
BROADCAST_TO CALL_ONCE CAST CEIL CONCATENATION CONV_2D COS CUMSUM DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
DIV ELU EMBEDDING_LOOKUP EQUAL EXP EXPAND_DIMS FILL FLOOR FLOOR_DIV FLOOR_MOD FULLY_CONNECTED GATHER GATHER_ND
GREATER GREATER_EQUAL HARD_SWISH IF L2_NORMALIZATION L2_POOL_2D LEAKY_RELU LESS LESS_EQUAL LOG LOGICAL_AND
LOGICAL_NOT LOGICAL_OR LOGISTIC LOG_SOFTMAX MAXIMUM MAX_POOL_2D MEAN MINIMUM MIRROR_PAD MUL NEG NOT_EQUAL PACK
PAD PADV2 PRELU QUANTIZE READ_VARIABLE REDUCE_MAX REDUCE_MIN RELU RELU6 RESHAPE RESIZE_BILINEAR
RESIZE_NEAREST_NEIGHBOR REVERSE_V2 ROUND RSQRT SELECT_V2 SHAPE SIN SLICE SOFTMAX SPACE_TO_BATCH_ND SPACE_TO_DEPTH
SPLIT SPLIT_V SQRT SQUARE SQUARED_DIFFERENCE SQUEEZE STRIDED_SLICE SUB SUM SVDF TANH TRANSPOSE TRANSPOSE_CONV
UNIDIRECTIONAL_SEQUENCE_LSTM UNPACK VAR_HANDLE WHILE ZEROS_LIKE
""".split())
FLOAT_TYPES = frozenset({"FLOAT32", "FLOAT16", "FLOAT64"})
_SCOPE_SUFFIX = re.compile(r"_\d+$")


def audit_ops(model: ModelInfo, layer_names: Sequence[str] = ()) -> list[str]:
    """The sorted op names of ``model`` when all run int8 on tflite-micro; ModelError otherwise.

    ``layer_names`` (the Keras model's layer names) let the error name the layer exactly;
    without them it names the scope found in the tensor names.
    """
    for op in model.ops:
        problem = _problem(op)
        if problem:
            layer = layer_of(op, layer_names)
            raise ModelError(f"op {op.name} (from Keras layer {layer!r}) {problem}: "
                             "replace that layer with one built from int8 builtins (see synth/models/zoo.py)")
    return model.op_names


def _problem(op: OpInfo) -> str | None:
    """Why the microcontroller cannot run ``op``, or None."""
    if op.name.startswith("CUSTOM:") or op.name not in TFLM_BUILTIN_OPS:
        return "has no kernel in the microcontroller interpreter (tflite-micro)"
    floats = sorted(FLOAT_TYPES.intersection(op.input_dtypes))
    if floats:
        return f"reads {floats[0].lower()} tensors: the export must be full int8"
    return None


def layer_of(op: OpInfo, layer_names: Sequence[str] = ()) -> str:
    """The Keras layer an operator came from, read from the name scopes of its output tensors."""
    known = set(layer_names)
    for tensor in op.output_names:
        for part in tensor.split(";"):
            scopes = part.split("/")
            for scope in scopes[1:-1] or scopes[:1]:  # scope 0 is the model, the last part the TF op
                stripped = _SCOPE_SUFFIX.sub("", scope)  # the converter adds "_<n>" to each scope
                name = stripped if not known or stripped in known else scope
                if not known or name in known:
                    return name
    return layer_names[-1] if layer_names else (op.output_names[0] if op.output_names else "?")
