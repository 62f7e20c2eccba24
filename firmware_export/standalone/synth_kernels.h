/* synth_kernels.h: int8 kernels that reproduce TensorFlow Lite Micro's reference kernels bit for bit.
 *
 * C99, no malloc, no floating point at run time: every scale was turned into a fixed-point
 * multiplier and shift when the model was exported. Tensors are row-major, batch 1, NHWC.
 */
#ifndef SYNTH_KERNELS_H
#define SYNTH_KERNELS_H

#include <stdint.h>

/* Requantisation of an int32 accumulator: tflite's MultiplyByQuantizedMultiplier (double rounding). */
int32_t synth_mbqm(int32_t x, int32_t multiplier, int shift);

/* FULLY_CONNECTED: out[b][o] = requant(sum_i (in[b][i] - in_zp) * w[o][i] + bias[o]). */
typedef struct {
    int batches, in_depth, out_depth;
    int32_t in_zp, out_zp, act_min, act_max;
    const int8_t *weights;      /* (out_depth, in_depth) */
    const int32_t *bias;        /* (out_depth) or NULL */
    const int32_t *multiplier;  /* one per output channel, or one for all */
    const int32_t *shift;
    int per_channel;
} synth_fc_params;
void synth_fully_connected(const synth_fc_params *p, const int8_t *in, int8_t *out);

/* CONV_2D, per-channel weights (out_c, kh, kw, in_c), zero padding of in_zp. */
typedef struct {
    int in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w;
    int stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
    int32_t in_zp, out_zp, act_min, act_max;
    const int8_t *weights;
    const int32_t *bias;
    const int32_t *multiplier;
    const int32_t *shift;
} synth_conv_params;
void synth_conv2d(const synth_conv_params *p, const int8_t *in, int8_t *out);

/* MAX_POOL_2D over (h, w, c). */
typedef struct {
    int in_h, in_w, c, out_h, out_w, k_h, k_w, stride_h, stride_w, pad_h, pad_w;
    int32_t act_min, act_max;
} synth_pool_params;
void synth_max_pool2d(const synth_pool_params *p, const int8_t *in, int8_t *out);

/* REDUCE_MAX over the middle of (outer, reduce, inner); scales of input and output are equal. */
void synth_reduce_max(int outer, int reduce, int inner, const int8_t *in, int8_t *out);

/* LEAKY_RELU with separate requantisations for the positive and the negative side. */
typedef struct {
    int32_t in_zp, out_zp, mult_identity, shift_identity, mult_alpha, shift_alpha;
} synth_leaky_params;
void synth_leaky_relu(const synth_leaky_params *p, int n, const int8_t *in, int8_t *out);

/* TANH: gemmlowp's fixed-point tanh on a Q4.27 input; output scale 1/128, zero point 0. */
typedef struct {
    int32_t in_zp, range_radius, multiplier, left_shift;
} synth_tanh_params;
void synth_tanh(const synth_tanh_params *p, int n, const int8_t *in, int8_t *out);

/* SOFTMAX over the last axis; output scale 1/256, zero point -128. */
typedef struct {
    int32_t multiplier, left_shift, diff_min;
} synth_softmax_params;
void synth_softmax(const synth_softmax_params *p, int outer, int depth, const int8_t *in, int8_t *out);

/* ADD and MUL with 4-D broadcasting: strides of 0 repeat an input along that axis. */
typedef struct {
    int dims[4];
    int a_strides[4], b_strides[4];
    int32_t a_offset, b_offset, out_offset, act_min, act_max;
    int32_t a_mult, a_shift, b_mult, b_shift, out_mult, out_shift;
    int left_shift; /* ADD only: 20 bits of headroom before the rescale */
} synth_binary_params;
void synth_add(const synth_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out);
void synth_mul(const synth_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out);

/* QUANTIZE int8 -> int8: a requantisation to a new scale and zero point. */
typedef struct {
    int32_t in_zp, out_zp, multiplier, shift;
} synth_requant_params;
void synth_requantize(const synth_requant_params *p, int n, const int8_t *in, int8_t *out);

/* CONCATENATION (int8 in TFLM copies bytes: the converter gives all inputs the output's scale). */
/* Model boundary, as TFLite Micro's QUANTIZE (float32 -> int8: round half away from zero of
 * x / scale, plus zero point, saturated) and DEQUANTIZE (int8 -> float32: scale x (q - zero point)). */
void synth_quantize_float(int n, float scale, int32_t zero_point, const float *in, int8_t *out);
void synth_dequantize_float(int n, float scale, int32_t zero_point, const int8_t *in, float *out);

void synth_concat_copy(int outer, int n_inputs, const int8_t *const *inputs, const int *inner_sizes, int8_t *out);

#endif /* SYNTH_KERNELS_H */
