/*
 * conv.h - periodic 3D convolutions of the D3M network, forward and
 * backward, on float32 device tensors laid out [N, C, D, H, W].
 *
 * Conventions (those of PyTorch's Conv3d and ConvTranspose3d):
 *   conv3d weight            [Co, Ci, k, k, k], k = 3 or 1
 *   conv_transpose3d weight  [Ci, Co, 3, 3, 3]
 *   bias                     [Co]
 * No kernel is flipped in the forward pass (cross-correlation).
 *
 * conv3d with k = 3 pads every spatial axis periodically by 1 (wrap-around,
 * never zeros); k = 1 has no padding. With stride s (1 or 2) each spatial
 * extent must be divisible by s and the output extent is the input extent
 * over s. Along each axis, output voxel o reads input voxels
 * s*o - 1, s*o, s*o + 1 (mod the extent) with taps 0, 1, 2; this is
 * PyTorch's Conv3d(k=3, stride=s, padding=1) applied to an input padded
 * periodically.
 *
 * conv_transpose3d doubles each spatial extent: periodic pad 1 on the high
 * side, ConvTranspose3d(k=3, stride=2, padding=0), then crop 1 voxel at the
 * start and 2 at the end of each axis (the up-sampling step of He et al.
 * 2019, PNAS 116, 13825). Per axis this is
 *   y[2m] = w1 x[m],   y[2m+1] = w0 x[(m+1) mod n] + w2 x[m].
 * It is the adjoint of conv3d with stride 2, so the input gradient of each
 * is the forward pass of the other.
 *
 * Backward passes take grad_out = dL/d(output). The *_backward_input
 * functions overwrite grad_in; the *_backward_weight functions add (+=)
 * into grad_weight and grad_bias, so gradients of several calls accumulate
 * as in PyTorch. grad_bias may be NULL. Element counts of each tensor must
 * stay below 2^31. Results may not share a buffer with an input of the same
 * call (D3M_ERR_ARG).
 *
 * Two implementations give the same results within float rounding: the
 * fast path (default) and a reference path of plain loops, one output
 * element per work-item, kept for testing. D3M_CONV_PATH=reference in the
 * environment selects the reference path until d3m_conv_set_path changes
 * it.
 */
#ifndef D3M_NN_CONV_H
#define D3M_NN_CONV_H

#include "d3m.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum d3m_conv_path {
    D3M_CONV_FAST = 0,
    D3M_CONV_REFERENCE = 1
} d3m_conv_path;

/* Select the implementation used by later calls; returns the previous one. */
d3m_conv_path d3m_conv_set_path(d3m_conv_path path);
d3m_conv_path d3m_conv_get_path(void);

/* Shape of conv3d's output for an input and weight: [N, Co, D/s, H/s, W/s].
 * Fails with D3M_ERR_SHAPE when the shapes do not fit together. */
int d3m_conv3d_output_shape(const d3m_tensor *input, const d3m_tensor *weight, int stride,
                            size_t out_shape[5]);

/* Shape of conv_transpose3d's output: [N, Co, 2D, 2H, 2W]. */
int d3m_conv_transpose3d_output_shape(const d3m_tensor *input, const d3m_tensor *weight,
                                      size_t out_shape[5]);

/* out = conv3d(input, weight) + bias. bias may be NULL. */
int d3m_conv3d_forward(const d3m_tensor *input, const d3m_tensor *weight, const d3m_tensor *bias,
                       int stride, d3m_tensor *out);

/* grad_in = dL/d(input); its shape is the input's shape. */
int d3m_conv3d_backward_input(const d3m_tensor *grad_out, const d3m_tensor *weight, int stride,
                              d3m_tensor *grad_in);

/* grad_weight += dL/d(weight), grad_bias += dL/d(bias) (may be NULL). */
int d3m_conv3d_backward_weight(const d3m_tensor *grad_out, const d3m_tensor *input, int stride,
                               d3m_tensor *grad_weight, d3m_tensor *grad_bias);

/* out = conv_transpose3d(input, weight) + bias. bias may be NULL. */
int d3m_conv_transpose3d_forward(const d3m_tensor *input, const d3m_tensor *weight,
                                 const d3m_tensor *bias, d3m_tensor *out);

/* grad_in = dL/d(input) of conv_transpose3d. */
int d3m_conv_transpose3d_backward_input(const d3m_tensor *grad_out, const d3m_tensor *weight,
                                        d3m_tensor *grad_in);

/* grad_weight += dL/d(weight), grad_bias += dL/d(bias) (may be NULL). */
int d3m_conv_transpose3d_backward_weight(const d3m_tensor *grad_out, const d3m_tensor *input,
                                         d3m_tensor *grad_weight, d3m_tensor *grad_bias);

/* ---- benchmark helpers ---------------------------------------------------- */

/* Measure the device's FP32 FMA rate in GFLOP/s with a kernel of
 * independent float16 FMAs over work_items work-items (best of 3 runs after
 * a warm-up). A ceiling for the convolutions, not a vendor figure. */
int d3m_conv_measure_fma_peak(size_t work_items, double *gflops);

#ifdef __cplusplus
}
#endif
#endif
