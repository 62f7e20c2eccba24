"""The prepare-time arithmetic of TFLite Micro's int8 kernels: real scales -> fixed-point multipliers.

Each function mirrors one kernel's Prepare() exactly, including where it multiplies in float32
and where in double, because the multiplier's last bit decides the output's last bit.
"""

from __future__ import annotations

import math

import numpy as np

from synth.core.tflite_file import Tensor


def quantize_multiplier(real: float) -> tuple[int, int]:
    """tflite QuantizeMultiplier: real = m * 2^(shift - 31) with m in [2^30, 2^31); (m, shift)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = _round_half_away(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:  # every bit would be shifted out
        return 0, 0
    return int(q_fixed), int(shift)


def _round_half_away(x: float) -> int:
    """std::round: halves away from zero (Python's round() goes to even)."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def f32(x) -> np.float32:
    """A value as float32, to redo the kernels' single-precision arithmetic."""
    return np.float32(x)


def conv_multipliers(inp: Tensor, weights: Tensor, out: Tensor) -> tuple[list[int], list[int]]:
    """Per-channel (multipliers, shifts) of CONV_2D and per-channel FULLY_CONNECTED (double arithmetic)."""
    pairs = [quantize_multiplier(float(inp.scale) * float(s) / float(out.scale)) for s in weights.scales]
    return [m for m, _ in pairs], [s for _, s in pairs]


def fc_tensor_multiplier(inp: Tensor, weights: Tensor, out: Tensor) -> tuple[int, int]:
    """Per-tensor FULLY_CONNECTED: the input x filter product is taken in float32 first."""
    return quantize_multiplier(float(f32(inp.scale) * f32(weights.scale)) / float(out.scale))


def leaky_relu_multipliers(inp: Tensor, out: Tensor, alpha: float) -> tuple[int, int, int, int]:
    """(identity m, shift, alpha m, shift), from float32 ratios as the kernel computes them."""
    alpha_m = quantize_multiplier(float(f32(f32(inp.scale) * f32(alpha)) / f32(out.scale)))
    identity_m = quantize_multiplier(float(f32(inp.scale) / f32(out.scale)))
    return identity_m + alpha_m


def input_radius(integer_bits: int, left_shift: int, total_bits: int = 31) -> int:
    """tflite CalculateInputRadius: the largest |input| whose rescaled value cannot overflow."""
    rescaled = 1.0 * ((1 << integer_bits) - 1) * (1 << (total_bits - integer_bits)) / (1 << left_shift)
    return int(math.floor(rescaled))


def tanh_params(inp: Tensor) -> tuple[int, int, int]:
    """(multiplier, left shift, input radius) of int8 TANH: the input rescaled to Q4.27."""
    q, shift = math.frexp(float(inp.scale) * float(1 << 27))
    return _round_half_away(q * (1 << 31)), shift, input_radius(4, shift)


def softmax_params(inp: Tensor, beta: float) -> tuple[int, int, int]:
    """(multiplier, left shift, diff_min) of int8 SOFTMAX (differences rescaled to Q5.26)."""
    real = min(float(beta) * float(inp.scale) * float(1 << 26), float((1 << 31) - 1))
    multiplier, shift = quantize_multiplier(real)
    return multiplier, shift, -input_radius(5, shift)


def add_params(a: Tensor, b: Tensor, out: Tensor, left_shift: int = 20) -> list[int]:
    """[a_mult, a_shift, b_mult, b_shift, out_mult, out_shift] of int8 ADD."""
    twice_max = 2.0 * float(max(f32(a.scale), f32(b.scale)))
    values: list[int] = []
    for real in (float(a.scale) / twice_max, float(b.scale) / twice_max, twice_max / ((1 << left_shift) * float(out.scale))):
        values.extend(quantize_multiplier(real))
    return values


def mul_params(a: Tensor, b: Tensor, out: Tensor) -> tuple[int, int]:
    """(multiplier, shift) of int8 MUL."""
    return quantize_multiplier(float(a.scale) * float(b.scale) / float(out.scale))


def requantize_params(inp: Tensor, out: Tensor) -> tuple[int, int]:
    """(multiplier, shift) of an int8 -> int8 QUANTIZE."""
    return quantize_multiplier(float(inp.scale) / float(out.scale))


def activation_range(activation: int, out: Tensor) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for int8: fused NONE (0), RELU (1), RELU_N1_TO_1 (2), RELU6 (3)."""
    def quantize(x: float) -> int:
        return out.zero_point + _round_half_away(float(f32(x) / f32(out.scale)))

    low, high = -128, 127
    if activation == 1:
        low = max(low, quantize(0.0))
    elif activation == 3:
        low, high = max(low, quantize(0.0)), min(high, quantize(6.0))
    elif activation == 2:
        low, high = max(low, quantize(-1.0)), min(high, quantize(1.0))
    return low, high
