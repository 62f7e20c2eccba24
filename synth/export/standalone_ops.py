"""Lower each TFLite int8 operator to a call of a kernel in firmware_export/standalone/synth_kernels.c.

An emitter returns the C declarations it needs (weights, parameter structs) and one statement
for synth_model_invoke. Parameters are computed here, at export time, exactly as TFLite Micro's
Prepare() computes them, so the C code does no floating-point arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synth.core.errors import ModelError
from synth.core.tflite_file import Graph, Operator, Tensor
from synth.export import c_quant as q
from synth.export.standalone_plan import ALIAS_OPS, Plan

SAME, VALID = 0, 1  # tflite Padding enum


class UnsupportedOpError(ModelError):
    """The standalone runtime has no kernel for an operator (or for its options)."""


@dataclass
class Lowered:
    """C text of one operator: declarations at file scope and the statement that runs it."""

    declarations: list[str] = field(default_factory=list)
    statement: str = ""


class Context:
    """What emitters share: the graph, the memory plan and the constant arrays already written."""

    def __init__(self, graph: Graph, plan: Plan):
        self.graph, self.plan = graph, plan
        self.declared: set[str] = set()

    def tensor(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def pointer(self, index: int, lowered: Lowered) -> str:
        """C expression for a tensor's int8 data: a const array, the caller's input or the arena."""
        t = self.tensor(index)
        if t.data is not None:
            return self.array(f"t{index}", t.data.astype(np.int8), "int8_t", lowered)
        where, offset = self.plan.places[index]
        return f"(input + {offset})" if where == "input" else f"(arena.bytes + {offset})"

    def array(self, name: str, values, ctype: str, lowered: Lowered) -> str:
        """Declare ``static const ctype name[]`` once; returns its name."""
        if name not in self.declared:
            self.declared.add(name)
            lowered.declarations.append(c_array(name, np.asarray(values).ravel(), ctype))
        return name


def c_array(name: str, values: np.ndarray, ctype: str) -> str:
    """``static const ctype name[n] = {...};`` with 16 values a line (deterministic text)."""
    items = [str(int(v)) for v in values]
    lines = [", ".join(items[i : i + 16]) for i in range(0, len(items), 16)] or ["0"]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{max(len(items), 1)}] = {{\n    {body}\n}};"


def lower(ctx: Context, op: Operator) -> Lowered:
    """The C text for one operator; UnsupportedOpError naming it when there is no kernel."""
    emitter = EMITTERS.get(op.op)
    if emitter is None:
        raise UnsupportedOpError(f"operator {op.op} (node {op.index}) has no kernel in the standalone C runtime "
                                 f"(supported: {', '.join(sorted(EMITTERS))}); use --runtime tflm")
    _check_int8(ctx, op)
    return emitter(ctx, op)


def _check_int8(ctx: Context, op: Operator) -> None:
    for index in op.outputs + op.inputs[:1]:
        if ctx.tensor(index).dtype is not np.int8:
            raise UnsupportedOpError(f"operator {op.op} (node {op.index}) works on {ctx.tensor(index).dtype.__name__}, "
                                     "the standalone C runtime is int8 only")


def _struct(ctype: str, name: str, fields: dict, lowered: Lowered) -> str:
    """Declare a const parameter struct with designated initialisers; returns ``&name``."""
    body = ", ".join(f".{k} = {v}" for k, v in fields.items())
    lowered.declarations.append(f"static const {ctype} {name} = {{{body}}};")
    return f"&{name}"


def _activation(op: Operator) -> int:
    return int(getattr(op.options, "fusedActivationFunction", 0) or 0)


def _fully_connected(ctx: Context, op: Operator) -> Lowered:
    low = Lowered()
    inp, w, out = (ctx.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    per_channel = len(w.scales) > 1
    mults, shifts = q.conv_multipliers(inp, w, out) if per_channel else [list(v) for v in zip(q.fc_tensor_multiplier(inp, w, out))]
    act = q.activation_range(_activation(op), out)
    n = f"op{op.index}"
    params = _struct("synth_fc_params", f"{n}_params", {
        "batches": inp.size // w.shape[1], "in_depth": w.shape[1], "out_depth": w.shape[0],
        "in_zp": inp.zero_point, "out_zp": out.zero_point, "act_min": act[0], "act_max": act[1],
        "weights": ctx.array(f"{n}_weights", w.data, "int8_t", low), "bias": _bias(ctx, op, n, low),
        "multiplier": ctx.array(f"{n}_multiplier", mults, "int32_t", low),
        "shift": ctx.array(f"{n}_shift", shifts, "int32_t", low), "per_channel": int(per_channel)}, low)
    low.statement = f"synth_fully_connected({params}, {ctx.pointer(op.inputs[0], low)}, {ctx.pointer(op.outputs[0], low)});"
    return low


def _bias(ctx: Context, op: Operator, n: str, low: Lowered) -> str:
    if len(op.inputs) < 3 or op.inputs[2] < 0:
        return "0"
    return ctx.array(f"{n}_bias", ctx.tensor(op.inputs[2]).data, "int32_t", low)


def _padding(padding: int, stride: int, dilation: int, in_size: int, k: int, out_size: int) -> int:
    """tflite ComputePaddingWithOffset: the leading padding (SAME puts the odd pixel at the end)."""
    if padding != SAME:
        return 0
    total = (out_size - 1) * stride + (k - 1) * dilation + 1 - in_size
    return max(total, 0) // 2


def _conv2d(ctx: Context, op: Operator) -> Lowered:
    low = Lowered()
    inp, w, out = (ctx.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    o = op.options
    _, in_h, in_w, in_c = inp.shape
    out_c, k_h, k_w, w_c = w.shape
    if w_c != in_c:
        raise UnsupportedOpError(f"operator CONV_2D (node {op.index}) is a grouped convolution: not supported")
    mults, shifts = q.conv_multipliers(inp, w, out)
    act = q.activation_range(_activation(op), out)
    n = f"op{op.index}"
    fields = {
        "in_h": in_h, "in_w": in_w, "in_c": in_c, "out_h": out.shape[1], "out_w": out.shape[2], "out_c": out_c,
        "k_h": k_h, "k_w": k_w, "stride_h": o.strideH, "stride_w": o.strideW,
        "dil_h": o.dilationHFactor, "dil_w": o.dilationWFactor,
        "pad_h": _padding(o.padding, o.strideH, o.dilationHFactor, in_h, k_h, out.shape[1]),
        "pad_w": _padding(o.padding, o.strideW, o.dilationWFactor, in_w, k_w, out.shape[2]),
        "in_zp": inp.zero_point, "out_zp": out.zero_point, "act_min": act[0], "act_max": act[1],
        "weights": ctx.array(f"{n}_weights", w.data, "int8_t", low), "bias": _bias(ctx, op, n, low),
        "multiplier": ctx.array(f"{n}_multiplier", mults, "int32_t", low),
        "shift": ctx.array(f"{n}_shift", shifts, "int32_t", low)}
    params = _struct("synth_conv_params", f"{n}_params", fields, low)
    low.statement = f"synth_conv2d({params}, {ctx.pointer(op.inputs[0], low)}, {ctx.pointer(op.outputs[0], low)});"
    return low


def _max_pool(ctx: Context, op: Operator) -> Lowered:
    low = Lowered()
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    o = op.options
    _, in_h, in_w, c = inp.shape
    act = q.activation_range(_activation(op), out)
    params = _struct("synth_pool_params", f"op{op.index}_params", {
        "in_h": in_h, "in_w": in_w, "c": c, "out_h": out.shape[1], "out_w": out.shape[2],
        "k_h": o.filterHeight, "k_w": o.filterWidth, "stride_h": o.strideH, "stride_w": o.strideW,
        "pad_h": _padding(o.padding, o.strideH, 1, in_h, o.filterHeight, out.shape[1]),
        "pad_w": _padding(o.padding, o.strideW, 1, in_w, o.filterWidth, out.shape[2]),
        "act_min": act[0], "act_max": act[1]}, low)
    low.statement = f"synth_max_pool2d({params}, {ctx.pointer(op.inputs[0], low)}, {ctx.pointer(op.outputs[0], low)});"
    return low


def _reduce_max(ctx: Context, op: Operator) -> Lowered:
    low = Lowered()
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    axes = sorted(int(a) % len(inp.shape) for a in np.ravel(ctx.tensor(op.inputs[1]).data))
    if axes != list(range(axes[0], axes[-1] + 1)):
        raise UnsupportedOpError(f"operator REDUCE_MAX (node {op.index}) over non-adjacent axes {axes}: not supported")
    if (inp.scale, inp.zero_point) != (out.scale, out.zero_point):
        raise UnsupportedOpError(f"operator REDUCE_MAX (node {op.index}) changes the quantisation: not supported")
    outer = int(np.prod(inp.shape[: axes[0]]))
    reduce = int(np.prod(inp.shape[axes[0] : axes[-1] + 1]))
    inner = inp.size // (outer * reduce)
    low.statement = (f"synth_reduce_max({outer}, {reduce}, {inner}, "
                     f"{ctx.pointer(op.inputs[0], low)}, {ctx.pointer(op.outputs[0], low)});")
    return low


def _leaky_relu(ctx: Context, op: Operator) -> Lowered:
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    mi, si, ma, sa = q.leaky_relu_multipliers(inp, out, op.options.alpha)
    return _elementwise(ctx, op, "leaky", {"in_zp": inp.zero_point, "out_zp": out.zero_point, "mult_identity": mi,
                                           "shift_identity": si, "mult_alpha": ma, "shift_alpha": sa})


def _elementwise(ctx: Context, op: Operator, kind: str, fields: dict) -> Lowered:
    """A one-input element-wise kernel ``synth_<kernel>(&params, n, in, out)`` with a ``synth_<kind>_params`` struct."""
    low = Lowered()
    kernel = {"leaky": "leaky_relu", "requant": "requantize"}.get(kind, kind)
    params = _struct(f"synth_{kind}_params", f"op{op.index}_params", fields, low)
    n = ctx.tensor(op.outputs[0]).size
    low.statement = f"synth_{kernel}({params}, {n}, {ctx.pointer(op.inputs[0], low)}, {ctx.pointer(op.outputs[0], low)});"
    return low


def _tanh(ctx: Context, op: Operator) -> Lowered:
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if (out.scale, out.zero_point) != (1.0 / 128, 0):
        raise UnsupportedOpError(f"operator TANH (node {op.index}) needs an output scale of 1/128 and zero point 0")
    multiplier, shift, radius = q.tanh_params(inp)
    return _elementwise(ctx, op, "tanh", {"in_zp": inp.zero_point, "range_radius": radius,
                                          "multiplier": multiplier, "left_shift": shift})


def _softmax(ctx: Context, op: Operator) -> Lowered:
    low = Lowered()
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if (out.scale, out.zero_point) != (1.0 / 256, -128):
        raise UnsupportedOpError(f"operator SOFTMAX (node {op.index}) needs an output scale of 1/256 and zero point -128")
    multiplier, shift, diff_min = q.softmax_params(inp, op.options.beta)
    params = _struct("synth_softmax_params", f"op{op.index}_params",
                     {"multiplier": multiplier, "left_shift": shift, "diff_min": diff_min}, low)
    depth = inp.shape[-1]
    low.statement = (f"synth_softmax({params}, {inp.size // depth}, {depth}, "
                     f"{ctx.pointer(op.inputs[0], low)}, {ctx.pointer(op.outputs[0], low)});")
    return low


def _broadcast(a: tuple, b: tuple, out: tuple) -> dict:
    """4-D output dims and per-input element strides (0 where an input is broadcast)."""
    def strides(shape: tuple) -> list[int]:
        shape4 = (1,) * (4 - len(shape)) + tuple(shape)
        steps = [int(np.prod(shape4[i + 1 :])) for i in range(4)]
        return [0 if shape4[i] == 1 and out4[i] != 1 else steps[i] for i in range(4)]

    out4 = (1,) * (4 - len(out)) + tuple(out)
    if len(out4) > 4:
        raise UnsupportedOpError("broadcasting beyond 4 dimensions is not supported")
    return {"dims": _braces(out4), "a_strides": _braces(strides(a)), "b_strides": _braces(strides(b))}


def _braces(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def _binary(ctx: Context, op: Operator, function: str, arithmetic: dict) -> Lowered:
    low = Lowered()
    a, b, out = (ctx.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    act = q.activation_range(_activation(op), out)
    fields = {**_broadcast(a.shape, b.shape, out.shape), "a_offset": -a.zero_point, "b_offset": -b.zero_point,
              "out_offset": out.zero_point, "act_min": act[0], "act_max": act[1], **arithmetic}
    params = _struct("synth_binary_params", f"op{op.index}_params", fields, low)
    args = ", ".join(ctx.pointer(i, low) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    low.statement = f"{function}({params}, {args});"
    return low


def _add(ctx: Context, op: Operator) -> Lowered:
    a, b, out = (ctx.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    names = ("a_mult", "a_shift", "b_mult", "b_shift", "out_mult", "out_shift")
    return _binary(ctx, op, "synth_add", {**dict(zip(names, q.add_params(a, b, out))), "left_shift": 20})


def _mul(ctx: Context, op: Operator) -> Lowered:
    a, b, out = (ctx.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    multiplier, shift = q.mul_params(a, b, out)
    return _binary(ctx, op, "synth_mul", {"out_mult": multiplier, "out_shift": shift})


def _concatenation(ctx: Context, op: Operator) -> Lowered:
    low = Lowered()
    out = ctx.tensor(op.outputs[0])
    if _activation(op):
        raise UnsupportedOpError(f"operator CONCATENATION (node {op.index}) with a fused activation is not supported")
    axis = op.options.axis % len(out.shape)
    outer = int(np.prod(out.shape[:axis]))
    inner = [ctx.tensor(i).size // outer for i in op.inputs]
    n = f"op{op.index}"
    pointers = ", ".join(ctx.pointer(i, low) for i in op.inputs)
    low.declarations.append(f"static const int {n}_inner[{len(inner)}] = {_braces(inner)};")
    low.statement = (f"{{\n        const int8_t *const parts[{len(inner)}] = {{{pointers}}};\n"
                     f"        synth_concat_copy({outer}, {len(inner)}, parts, {n}_inner, {ctx.pointer(op.outputs[0], low)});\n    }}")
    return low


def _quantize(ctx: Context, op: Operator) -> Lowered:
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    multiplier, shift = q.requantize_params(inp, out)
    return _elementwise(ctx, op, "requant", {"in_zp": inp.zero_point, "out_zp": out.zero_point,
                                             "multiplier": multiplier, "shift": shift})


def _alias(ctx: Context, op: Operator) -> Lowered:
    return Lowered(statement="/* no code: the output shares the input's bytes */")


EMITTERS = {
    "FULLY_CONNECTED": _fully_connected, "CONV_2D": _conv2d, "MAX_POOL_2D": _max_pool, "REDUCE_MAX": _reduce_max,
    "LEAKY_RELU": _leaky_relu, "TANH": _tanh, "SOFTMAX": _softmax, "ADD": _add, "MUL": _mul,
    "CONCATENATION": _concatenation, "QUANTIZE": _quantize, **{name: _alias for name in ALIAS_OPS},
}
