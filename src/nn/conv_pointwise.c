/* conv_pointwise.c - the fast path of the 1x1x1 conv3d (kernels in
 * kernels/conv3d_pointwise.cl): per-voxel matrix products without the
 * modulo indexing of the reference kernels. */
#include "nn/conv_internal.h"
#include "runtime/runtime.h"

#define POINTWISE_FILE "conv3d_pointwise.cl"
#define POINTWISE_LOCAL 64   /* work-group size along dimension 0, a power of two */


/* Stride 1: the matrix product over rows of 16 voxels. */
static int pointwise_rows(const conv_dims *d, const d3m_tensor *input, const d3m_tensor *weight,
                          const d3m_tensor *bias, int channels_in, int channels_out,
                          int transposed, d3m_tensor *out)
{
    size_t volume = (size_t)d->depth * (size_t)d->height * (size_t)d->width;
    size_t global[3] = {(volume + 15) / 16, (size_t)channels_out, (size_t)d->batch};
    size_t local[3] = {8, 1, 1};
    return d3m_launch(POINTWISE_FILE, "conv3d_pointwise_rows", NULL, 3, global, local,
                      "tttitiiiii", input, weight, bias ? bias : weight, bias != NULL, out,
                      d->batch, channels_in, channels_out, (int)volume, transposed);
}


int d3m_conv_pointwise_forward(const conv_dims *d, const d3m_tensor *input,
                               const d3m_tensor *weight, const d3m_tensor *bias, d3m_tensor *out)
{
    if (d->stride == 1)
        return pointwise_rows(d, input, weight, bias, d->channels_in, d->channels_out, 0, out);
    size_t out_volume = (size_t)(d->depth / d->stride) * (size_t)(d->height / d->stride) *
                        (size_t)(d->width / d->stride);
    size_t global[3] = {out_volume, (size_t)d->channels_out, (size_t)d->batch};
    size_t local[3] = {POINTWISE_LOCAL, 1, 1};
    return d3m_launch(POINTWISE_FILE, "conv3d_pointwise_forward", NULL, 3, global, local,
                      "tttitiiiiiii", input, weight, bias ? bias : weight, bias != NULL, out,
                      d->batch, d->channels_in, d->channels_out, d->depth, d->height, d->width,
                      d->stride);
}


int d3m_conv_pointwise_backward_input(const conv_dims *d, const d3m_tensor *grad_out,
                                      const d3m_tensor *weight, d3m_tensor *grad_in)
{
    if (d->stride == 1)
        return pointwise_rows(d, grad_out, weight, NULL, d->channels_out, d->channels_in, 1,
                              grad_in);
    size_t volume = (size_t)d->depth * (size_t)d->height * (size_t)d->width;
    size_t global[3] = {volume, (size_t)d->channels_in, (size_t)d->batch};
    size_t local[3] = {POINTWISE_LOCAL, 1, 1};
    return d3m_launch(POINTWISE_FILE, "conv3d_pointwise_backward_input", NULL, 3, global, local,
                      "tttiiiiiii", grad_out, weight, grad_in, d->batch, d->channels_in,
                      d->channels_out, d->depth, d->height, d->width, d->stride);
}


int d3m_conv_pointwise_backward_weight(const conv_dims *d, const d3m_tensor *grad_out,
                                       const d3m_tensor *input, d3m_tensor *grad_weight)
{
    if (d->stride == 1) {
        size_t volume = (size_t)d->depth * (size_t)d->height * (size_t)d->width;
        size_t global[2] = {(size_t)d->channels_in, (size_t)d->channels_out};
        return d3m_launch(POINTWISE_FILE, "conv3d_pointwise_weight_rows", NULL, 2, global, NULL,
                          "tttiiii", grad_out, input, grad_weight, d->batch, d->channels_in,
                          d->channels_out, (int)volume);
    }
    size_t global[2] = {POINTWISE_LOCAL * (size_t)d->channels_in, (size_t)d->channels_out};
    size_t local[2] = {POINTWISE_LOCAL, 1};
    return d3m_launch(POINTWISE_FILE, "conv3d_pointwise_backward_weight", NULL, 2, global, local,
                      "tttiiiiiiiL", grad_out, input, grad_weight, d->batch, d->channels_in,
                      d->channels_out, d->depth, d->height, d->width, d->stride,
                      POINTWISE_LOCAL * sizeof(float));
}
