/*
 * conv_internal.h - what conv.c (checks, dispatch, reference path) and
 * conv_fast.c (blocked kernels) share. Not installed.
 *
 * Every operation is expressed as one of four primitives on a "conv
 * picture": a periodic conv3d from channels_in to channels_out channels on
 * an input of extents depth x height x width. The transposed convolution
 * and the input gradients map onto these primitives (see conv.h).
 */
#ifndef D3M_NN_CONV_INTERNAL_H
#define D3M_NN_CONV_INTERNAL_H

#include "nn/conv.h"

typedef struct conv_dims {
    int batch;
    int channels_in;
    int channels_out;
    int depth, height, width;   /* extents of the primitive's input */
    int ksize;                  /* 3 or 1 */
    int stride;                 /* 1 or 2 */
} conv_dims;

/* How a weight tensor of memory layout [A][B][taps] is read: out_first
 * means the primitive's output channel is A (conv3d layout [Co][Ci]), else
 * B (conv_transpose3d layout [Ci][Co]). flip reverses the taps, which turns
 * a stride-1 conv3d into its adjoint. */
typedef struct conv_weight_view {
    const d3m_tensor *weight;
    int out_first;
    int flip;
} conv_weight_view;

/* Fast path. All take dims of the primitive; see conv_fast.c. */
int d3m_conv_fast_forward(const conv_dims *dims, const d3m_tensor *input, conv_weight_view view,
                          const d3m_tensor *bias, d3m_tensor *out);
int d3m_conv_fast_transpose_forward(const conv_dims *dims, const d3m_tensor *input,
                                    conv_weight_view view, const d3m_tensor *bias,
                                    d3m_tensor *out);
int d3m_conv_fast_backward_weight(const conv_dims *dims, const d3m_tensor *grad_out,
                                  const d3m_tensor *input, d3m_tensor *grad_weight);

/* Fast path of the 1x1x1 conv3d (dims->ksize = 1), weight [Co][Ci]. */
int d3m_conv_pointwise_forward(const conv_dims *dims, const d3m_tensor *input,
                               const d3m_tensor *weight, const d3m_tensor *bias, d3m_tensor *out);
int d3m_conv_pointwise_backward_input(const conv_dims *dims, const d3m_tensor *grad_out,
                                      const d3m_tensor *weight, d3m_tensor *grad_in);
int d3m_conv_pointwise_backward_weight(const conv_dims *dims, const d3m_tensor *grad_out,
                                       const d3m_tensor *input, d3m_tensor *grad_weight);

/* grad_bias[c] += sum of grad_out[n][c][...] over n and voxels. */
int d3m_conv_channel_sum(const d3m_tensor *grad_out, d3m_tensor *grad_bias);

#endif
