/* synth_kernels.c: int8 kernels matching TensorFlow Lite Micro's reference kernels bit for bit.
 *
 * The fixed-point helpers follow gemmlowp (fixedpoint.h) and tflite's common.h exactly,
 * including their rounding: any "simplification" here changes outputs by one LSB.
 */
#include "synth_kernels.h"

#include <string.h>

#define SYNTH_INT32_MAX 2147483647
#define SYNTH_INT32_MIN (-SYNTH_INT32_MAX - 1)

static int32_t clamp_i32(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* Two's-complement wrap-around addition, as gemmlowp's raw '+' does on the target (no UB). */
static int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

/* gemmlowp SaturatingRoundingDoublingHighMul: (a * b * 2) >> 32, rounded half away from zero. */
static int32_t srdhm(int32_t a, int32_t b)
{
    int64_t ab;
    int32_t nudge;
    if (a == b && a == SYNTH_INT32_MIN) {
        return SYNTH_INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: arithmetic shift right by exponent, rounding half away from zero. */
static int32_t rdbpot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT: saturating left shift, or rounding right shift. */
static int32_t sat_mul_pot(int32_t x, int exponent)
{
    int32_t threshold;
    if (exponent <= 0) {
        return rdbpot(x, -exponent);
    }
    threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return SYNTH_INT32_MAX;
    }
    if (x < -threshold) {
        return SYNTH_INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

int32_t synth_mbqm(int32_t x, int32_t multiplier, int shift)
{
    const int left_shift = shift > 0 ? shift : 0;
    const int right_shift = shift > 0 ? 0 : -shift;
    return rdbpot(srdhm((int32_t)((uint32_t)x << left_shift), multiplier), right_shift);
}

/* ---- gemmlowp fixed-point functions (raw int32 values; Qm = m integer bits) ---- */

/* exp(a) for a in [-1/4, 0), Q0 in and out: Taylor series around -1/8. */
static int32_t exp_on_quarter_interval(int32_t a)
{
    const int32_t constant_term = 1895147668;    /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    const int32_t x = wrap_add(a, 1 << 28);
    const int32_t x2 = srdhm(x, x);
    const int32_t x3 = srdhm(x2, x);
    const int32_t x4 = srdhm(x2, x2);
    const int32_t x4_over_4 = rdbpot(x4, 2);
    const int32_t poly = rdbpot(wrap_add(srdhm(wrap_add(x4_over_4, x3), constant_1_over_3), x2), 1);
    return wrap_add(constant_term, srdhm(constant_term, wrap_add(x, poly)));
}

/* exp(a) for a <= 0 given in Q5 (the only format softmax and tanh use), result in Q0. */
static int32_t exp_on_negative_values_q5(int32_t a)
{
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int fractional_bits = 26;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_quarter = wrap_sub(a & (one_quarter - 1), one_quarter);
    const int32_t remainder = wrap_sub(a_mod_quarter_minus_quarter, a);
    int32_t result = exp_on_quarter_interval(sat_mul_pot(a_mod_quarter_minus_quarter, 5));
    int k;
    /* barrel shifter: multiply by exp(-2^e) for every bit e = -2..4 set in the remainder */
    for (k = 0; k < 7; ++k) {
        if (remainder & ((int32_t)1 << (fractional_bits - 2 + k))) {
            result = srdhm(result, multipliers[k]);
        }
    }
    return a == 0 ? SYNTH_INT32_MAX : result;
}

/* Newton-Raphson for 1 / (1 + a) (Q2), a in Q0 within [0, 1); returns the Q2 estimate of 1/(1+a)... scaled. */
static int32_t newton_reciprocal_q2(int32_t a)
{
    const int64_t sum = (int64_t)a + SYNTH_INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = wrap_add(1515870810, srdhm(half_denominator, -1010580540)); /* 48/17 - 32/17 d */
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus_dx = wrap_sub(1 << 29, srdhm(half_denominator, x));
        x = wrap_add(x, sat_mul_pot(srdhm(x, one_minus_dx), 2));
    }
    return x; /* Q2 value of 1 / half_denominator */
}

/* (1 - a) / (1 + a), Q0 in and out. */
static int32_t one_minus_x_over_one_plus_x(int32_t a) { return sat_mul_pot(wrap_sub(newton_reciprocal_q2(a), 1 << 29), 2); }

/* 1 / (1 + a), Q0 in and out. */
static int32_t one_over_one_plus_x(int32_t a) { return sat_mul_pot(newton_reciprocal_q2(a), 1); }

/* gemmlowp tanh of a Q4 value, result in Q0. */
static int32_t fixed_tanh_q4(int32_t a)
{
    const int negative = a < 0;
    const int32_t n = negative ? a : wrap_sub(0, a);
    /* n as Q5 is 2n: exp(-2|a|) */
    const int32_t t = one_minus_x_over_one_plus_x(exp_on_negative_values_q5(n));
    if (a == 0) {
        return 0;
    }
    return negative ? wrap_sub(0, t) : t;
}

static int count_leading_zeros(uint32_t x)
{
    int n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* ---- layers ---- */

void synth_fully_connected(const synth_fc_params *p, const int8_t *in, int8_t *out)
{
    int b, o, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *row = in + b * p->in_depth;
        for (o = 0; o < p->out_depth; ++o) {
            const int8_t *w = p->weights + o * p->in_depth;
            const int c = p->per_channel ? o : 0;
            int32_t acc = 0;
            for (i = 0; i < p->in_depth; ++i) {
                acc += (int32_t)w[i] * ((int32_t)row[i] - p->in_zp);
            }
            if (p->bias) {
                acc += p->bias[o];
            }
            acc = synth_mbqm(acc, p->multiplier[c], p->shift[c]) + p->out_zp;
            out[b * p->out_depth + o] = (int8_t)clamp_i32(acc, p->act_min, p->act_max);
        }
    }
}

/* One output value of a convolution: the window sum at (oy, ox) for output channel oc. */
static int32_t conv_window(const synth_conv_params *p, const int8_t *in, int oy, int ox, int oc)
{
    const int8_t *w = p->weights + oc * p->k_h * p->k_w * p->in_c;
    int32_t acc = 0;
    int fy, fx, c;
    for (fy = 0; fy < p->k_h; ++fy) {
        const int iy = oy * p->stride_h - p->pad_h + fy * p->dil_h;
        for (fx = 0; fx < p->k_w; ++fx) {
            const int ix = ox * p->stride_w - p->pad_w + fx * p->dil_w;
            const int8_t *px = in + (iy * p->in_w + ix) * p->in_c;
            const int8_t *wk = w + (fy * p->k_w + fx) * p->in_c;
            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                continue; /* padding contributes (in_zp - in_zp) * w = 0 */
            }
            for (c = 0; c < p->in_c; ++c) {
                acc += (int32_t)wk[c] * ((int32_t)px[c] - p->in_zp);
            }
        }
    }
    return acc;
}

void synth_conv2d(const synth_conv_params *p, const int8_t *in, int8_t *out)
{
    int oy, ox, oc;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox) {
            for (oc = 0; oc < p->out_c; ++oc) {
                int32_t acc = conv_window(p, in, oy, ox, oc);
                if (p->bias) {
                    acc += p->bias[oc];
                }
                acc = synth_mbqm(acc, p->multiplier[oc], p->shift[oc]) + p->out_zp;
                *out++ = (int8_t)clamp_i32(acc, p->act_min, p->act_max);
            }
        }
    }
}

void synth_max_pool2d(const synth_pool_params *p, const int8_t *in, int8_t *out)
{
    int oy, ox, c, fy, fx;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox) {
            const int y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
            for (c = 0; c < p->c; ++c) {
                int32_t best = -128;
                for (fy = (y0 < 0 ? -y0 : 0); fy < p->k_h && y0 + fy < p->in_h; ++fy) {
                    for (fx = (x0 < 0 ? -x0 : 0); fx < p->k_w && x0 + fx < p->in_w; ++fx) {
                        const int32_t v = in[((y0 + fy) * p->in_w + x0 + fx) * p->c + c];
                        best = v > best ? v : best;
                    }
                }
                *out++ = (int8_t)clamp_i32(best, p->act_min, p->act_max);
            }
        }
    }
}

void synth_reduce_max(int outer, int reduce, int inner, const int8_t *in, int8_t *out)
{
    int o, r, i;
    for (o = 0; o < outer; ++o) {
        for (i = 0; i < inner; ++i) {
            int8_t best = -128;
            for (r = 0; r < reduce; ++r) {
                const int8_t v = in[(o * reduce + r) * inner + i];
                best = v > best ? v : best;
            }
            out[o * inner + i] = best;
        }
    }
}

void synth_leaky_relu(const synth_leaky_params *p, int n, const int8_t *in, int8_t *out)
{
    int i;
    for (i = 0; i < n; ++i) {
        const int32_t x = (int32_t)in[i] - p->in_zp;
        const int32_t y = x >= 0 ? synth_mbqm(x, p->mult_identity, p->shift_identity)
                                 : synth_mbqm(x, p->mult_alpha, p->shift_alpha);
        out[i] = (int8_t)clamp_i32(y + p->out_zp, -128, 127);
    }
}

void synth_tanh(const synth_tanh_params *p, int n, const int8_t *in, int8_t *out)
{
    int i;
    for (i = 0; i < n; ++i) {
        const int32_t x = (int32_t)in[i] - p->in_zp;
        if (x <= -p->range_radius) {
            out[i] = -128;
        } else if (x >= p->range_radius) {
            out[i] = 127;
        } else {
            const int32_t q4 = synth_mbqm(x, p->multiplier, p->left_shift);
            out[i] = (int8_t)clamp_i32(rdbpot(fixed_tanh_q4(q4), 31 - 7), -128, 127);
        }
    }
}

/* exp(beta * (x - max)) in Q0 for one input difference (diff >= diff_min). */
static int32_t softmax_exp(const synth_softmax_params *p, int32_t diff)
{
    return exp_on_negative_values_q5(srdhm((int32_t)((uint32_t)diff << p->left_shift), p->multiplier));
}

void synth_softmax(const synth_softmax_params *p, int outer, int depth, const int8_t *in, int8_t *out)
{
    int o, c;
    for (o = 0; o < outer; ++o) {
        const int8_t *x = in + o * depth;
        int32_t max_in_row = -128, sum_of_exps = 0, scale;
        int headroom, bits_over_unit;
        for (c = 0; c < depth; ++c) {
            max_in_row = x[c] > max_in_row ? x[c] : max_in_row;
        }
        for (c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= p->diff_min) {
                sum_of_exps = wrap_add(sum_of_exps, rdbpot(softmax_exp(p, diff), 12)); /* Q12 accumulator */
            }
        }
        headroom = count_leading_zeros((uint32_t)sum_of_exps);
        bits_over_unit = 12 - headroom;
        scale = one_over_one_plus_x((int32_t)(((uint32_t)sum_of_exps << headroom) - 0x80000000u));
        for (c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            int32_t y = -128;
            if (diff >= p->diff_min) {
                y = rdbpot(srdhm(scale, softmax_exp(p, diff)), bits_over_unit + 31 - 8) - 128;
            }
            out[o * depth + c] = (int8_t)clamp_i32(y, -128, 127);
        }
    }
}

typedef int32_t (*binary_element_fn)(const synth_binary_params *p, int32_t a, int32_t b);

static int32_t add_element(const synth_binary_params *p, int32_t a, int32_t b)
{
    const int32_t sa = synth_mbqm((a + p->a_offset) * (1 << p->left_shift), p->a_mult, p->a_shift);
    const int32_t sb = synth_mbqm((b + p->b_offset) * (1 << p->left_shift), p->b_mult, p->b_shift);
    return synth_mbqm(sa + sb, p->out_mult, p->out_shift) + p->out_offset;
}

static int32_t mul_element(const synth_binary_params *p, int32_t a, int32_t b)
{
    return synth_mbqm((a + p->a_offset) * (b + p->b_offset), p->out_mult, p->out_shift) + p->out_offset;
}

/* Walk the 4-D output; each input steps by its own strides (0 along broadcast axes). */
static void binary_broadcast(const synth_binary_params *p, binary_element_fn fn, const int8_t *a, const int8_t *b, int8_t *out)
{
    int i0, i1, i2, i3;
    for (i0 = 0; i0 < p->dims[0]; ++i0) {
        for (i1 = 0; i1 < p->dims[1]; ++i1) {
            for (i2 = 0; i2 < p->dims[2]; ++i2) {
                for (i3 = 0; i3 < p->dims[3]; ++i3) {
                    const int ia = i0 * p->a_strides[0] + i1 * p->a_strides[1] + i2 * p->a_strides[2] + i3 * p->a_strides[3];
                    const int ib = i0 * p->b_strides[0] + i1 * p->b_strides[1] + i2 * p->b_strides[2] + i3 * p->b_strides[3];
                    *out++ = (int8_t)clamp_i32(fn(p, a[ia], b[ib]), p->act_min, p->act_max);
                }
            }
        }
    }
}

void synth_add(const synth_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    binary_broadcast(p, add_element, a, b, out);
}

void synth_mul(const synth_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    binary_broadcast(p, mul_element, a, b, out);
}

void synth_requantize(const synth_requant_params *p, int n, const int8_t *in, int8_t *out)
{
    int i;
    for (i = 0; i < n; ++i) {
        const int32_t y = synth_mbqm((int32_t)in[i] - p->in_zp, p->multiplier, p->shift) + p->out_zp;
        out[i] = (int8_t)clamp_i32(y, -128, 127);
    }
}

void synth_concat_copy(int outer, int n_inputs, const int8_t *const *inputs, const int *inner_sizes, int8_t *out)
{
    int o, k;
    for (o = 0; o < outer; ++o) {
        for (k = 0; k < n_inputs; ++k) {
            memcpy(out, inputs[k] + o * inner_sizes[k], (size_t)inner_sizes[k]);
            out += inner_sizes[k];
        }
    }
}

/* |x| <= 512: std::round's result (halves away from zero) without libm; beyond that every code saturates. */
static int32_t round_half_away(float x)
{
    const float magnitude = x < 0.0f ? -x : x;
    int32_t whole = (int32_t)magnitude;
    if (magnitude - (float)whole >= 0.5f) { /* exact: magnitude < 2^23 */
        whole += 1;
    }
    return x < 0.0f ? -whole : whole;
}

void synth_quantize_float(int n, float scale, int32_t zero_point, const float *in, int8_t *out)
{
    int i;
    for (i = 0; i < n; ++i) {
        float x = in[i] / scale;
        x = x > 512.0f ? 512.0f : (x < -512.0f ? -512.0f : x);
        out[i] = (int8_t)clamp_i32(round_half_away(x) + zero_point, -128, 127);
    }
}

void synth_dequantize_float(int n, float scale, int32_t zero_point, const int8_t *in, float *out)
{
    int i;
    for (i = 0; i < n; ++i) {
        out[i] = scale * (float)((int32_t)in[i] - zero_point);
    }
}
