/* conv.c - periodic conv3d and conv_transpose3d: shape checks, the choice
 * between the fast and the reference path, and the reference path
 * (kernels in kernels/conv3d_ref.cl). The fast path is in conv_fast.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/conv_internal.h"
#include "runtime/runtime.h"

#define REF_FILE "conv3d_ref.cl"
#define REF_LOCAL 64          /* work-group size along dimension 0 of the reference kernels */
#define SUM_LOCAL 64          /* work-group size of the channel sum, a power of two */

static d3m_conv_path current_path = D3M_CONV_FAST;
static int path_from_environment_read;


/* D3M_CONV_PATH=reference selects the reference path before the first call. */
static void read_path_from_environment(void)
{
    if (path_from_environment_read)
        return;
    path_from_environment_read = 1;
    const char *env = getenv("D3M_CONV_PATH");
    if (env != NULL && strcmp(env, "reference") == 0)
        current_path = D3M_CONV_REFERENCE;
}


d3m_conv_path d3m_conv_set_path(d3m_conv_path path)
{
    read_path_from_environment();
    d3m_conv_path previous = current_path;
    current_path = path;
    return previous;
}


d3m_conv_path d3m_conv_get_path(void)
{
    read_path_from_environment();
    return current_path;
}


static int use_fast_path(void)
{
    return d3m_conv_get_path() == D3M_CONV_FAST;
}


/* ---- shape checks --------------------------------------------------------- */

static int check_rank5(const d3m_tensor *t, const char *what)
{
    if (t->ndim == 5)
        return D3M_OK;
    char received[128];
    d3m_format_shape(received, sizeof received, t->ndim, t->shape);
    return d3m_fail(D3M_ERR_SHAPE, "%s: expected a 5-dimensional tensor [N, C, D, H, W], got %s",
                    what, received);
}


static int check_int_range(const d3m_tensor *t, const char *what)
{
    if (t->numel < (size_t)INT_MAX)
        return D3M_OK;
    char received[128];
    d3m_format_shape(received, sizeof received, t->ndim, t->shape);
    return d3m_fail(D3M_ERR_SHAPE, "%s: shape %s has %zu elements, more than the 2^31 - 1 the "
                    "convolution kernels index; use a smaller batch", what, received, t->numel);
}


static int check_stride(int stride, const char *op)
{
    if (stride == 1 || stride == 2)
        return D3M_OK;
    return d3m_fail(D3M_ERR_ARG, "%s: stride must be 1 or 2, got %d", op, stride);
}


int d3m_conv3d_output_shape(const d3m_tensor *input, const d3m_tensor *weight, int stride,
                            size_t out_shape[5])
{
    D3M_TRY(check_stride(stride, "conv3d"));
    D3M_TRY(check_rank5(input, "conv3d input"));
    size_t k = weight->ndim == 5 ? weight->shape[2] : 0;
    if (weight->ndim != 5 || (k != 1 && k != 3) || weight->shape[3] != k ||
        weight->shape[4] != k || weight->shape[1] != input->shape[1]) {
        char received[128];
        d3m_format_shape(received, sizeof received, weight->ndim, weight->shape);
        return d3m_fail(D3M_ERR_SHAPE, "conv3d weight: expected shape [Co, %zu, k, k, k] with "
                        "k = 1 or 3 (Ci = %zu from the input), got %s", input->shape[1],
                        input->shape[1], received);
    }
    for (int axis = 2; axis < 5; axis++) {
        if (input->shape[axis] % (size_t)stride != 0) {
            char received[128];
            d3m_format_shape(received, sizeof received, input->ndim, input->shape);
            return d3m_fail(D3M_ERR_SHAPE, "conv3d input: spatial extents must be divisible by "
                            "the stride %d, got shape %s", stride, received);
        }
    }
    out_shape[0] = input->shape[0];
    out_shape[1] = weight->shape[0];
    for (int axis = 2; axis < 5; axis++)
        out_shape[axis] = input->shape[axis] / (size_t)stride;
    return D3M_OK;
}


int d3m_conv_transpose3d_output_shape(const d3m_tensor *input, const d3m_tensor *weight,
                                      size_t out_shape[5])
{
    D3M_TRY(check_rank5(input, "conv_transpose3d input"));
    if (weight->ndim != 5 || weight->shape[0] != input->shape[1] || weight->shape[2] != 3 ||
        weight->shape[3] != 3 || weight->shape[4] != 3) {
        char received[128];
        d3m_format_shape(received, sizeof received, weight->ndim, weight->shape);
        return d3m_fail(D3M_ERR_SHAPE, "conv_transpose3d weight: expected shape [%zu, Co, 3, 3, 3] "
                        "(Ci = %zu from the input), got %s", input->shape[1], input->shape[1],
                        received);
    }
    out_shape[0] = input->shape[0];
    out_shape[1] = weight->shape[1];
    for (int axis = 2; axis < 5; axis++)
        out_shape[axis] = 2 * input->shape[axis];
    return D3M_OK;
}


static int check_bias(const d3m_tensor *bias, size_t channels, const char *what)
{
    if (bias == NULL)
        return D3M_OK;
    size_t expected[1] = {channels};
    return d3m_check_shape(bias, what, 1, expected);
}


static int check_all_int_range(const d3m_tensor *a, const d3m_tensor *b, const d3m_tensor *c,
                               const char *op)
{
    D3M_TRY(check_int_range(a, op));
    D3M_TRY(check_int_range(b, op));
    return check_int_range(c, op);
}


/* The kernels read their inputs while they write the result, so the two
 * must be different buffers. */
static int check_distinct(const d3m_tensor *result, const d3m_tensor *source, const char *what)
{
    if (result->buffer != source->buffer)
        return D3M_OK;
    return d3m_fail(D3M_ERR_ARG, "%s shares its buffer with an input of the same call; pass a "
                    "separate tensor (or nil to get a new one)", what);
}


/* dims of the conv3d with this input and weight. */
static conv_dims conv_dims_of(const d3m_tensor *input, const d3m_tensor *weight, int stride)
{
    conv_dims dims;
    dims.batch = (int)input->shape[0];
    dims.channels_in = (int)input->shape[1];
    dims.channels_out = (int)weight->shape[0];
    dims.depth = (int)input->shape[2];
    dims.height = (int)input->shape[3];
    dims.width = (int)input->shape[4];
    dims.ksize = (int)weight->shape[2];
    dims.stride = stride;
    return dims;
}


/* ---- reference path ------------------------------------------------------- */

static int ref_forward(const conv_dims *d, const d3m_tensor *input, const d3m_tensor *weight,
                       const d3m_tensor *bias, d3m_tensor *out)
{
    size_t out_voxels_xy = (size_t)(d->width / d->stride) * (size_t)(d->height / d->stride);
    size_t global[3] = {out_voxels_xy, (size_t)(d->depth / d->stride),
                        (size_t)d->batch * (size_t)d->channels_out};
    size_t local[3] = {REF_LOCAL, 1, 1};
    return d3m_launch(REF_FILE, "conv3d_ref_forward", NULL, 3, global, local, "tttitiiiiiiii",
                      input, weight, bias ? bias : weight, bias != NULL, out, d->batch,
                      d->channels_in, d->channels_out, d->depth, d->height, d->width, d->ksize,
                      d->stride);
}


static int ref_backward_input(const conv_dims *d, const d3m_tensor *grad_out,
                              const d3m_tensor *weight, d3m_tensor *grad_in)
{
    size_t global[3] = {(size_t)d->width * (size_t)d->height, (size_t)d->depth,
                        (size_t)d->batch * (size_t)d->channels_in};
    size_t local[3] = {REF_LOCAL, 1, 1};
    return d3m_launch(REF_FILE, "conv3d_ref_backward_input", NULL, 3, global, local,
                      "tttiiiiiiii", grad_out, weight, grad_in, d->batch, d->channels_in,
                      d->channels_out, d->depth, d->height, d->width, d->ksize, d->stride);
}


static int ref_backward_weight(const conv_dims *d, const d3m_tensor *grad_out,
                               const d3m_tensor *input, d3m_tensor *grad_weight)
{
    size_t taps = (size_t)(d->ksize * d->ksize * d->ksize);
    size_t global[3] = {taps, (size_t)d->channels_in, (size_t)d->channels_out};
    return d3m_launch(REF_FILE, "conv3d_ref_backward_weight", NULL, 3, global, NULL,
                      "tttiiiiiiii", grad_out, input, grad_weight, d->batch, d->channels_in,
                      d->channels_out, d->depth, d->height, d->width, d->ksize, d->stride);
}


static int ref_transpose_forward(const conv_dims *d, const d3m_tensor *input,
                                 const d3m_tensor *weight, const d3m_tensor *bias,
                                 d3m_tensor *out)
{
    size_t global[3] = {4 * (size_t)d->width * (size_t)d->height, 2 * (size_t)d->depth,
                        (size_t)d->batch * (size_t)d->channels_out};
    size_t local[3] = {REF_LOCAL, 1, 1};
    return d3m_launch(REF_FILE, "conv_transpose3d_ref_forward", NULL, 3, global, local,
                      "tttitiiiiii", input, weight, bias ? bias : weight, bias != NULL, out,
                      d->batch, d->channels_in, d->channels_out, d->depth, d->height, d->width);
}


int d3m_conv_channel_sum(const d3m_tensor *grad_out, d3m_tensor *grad_bias)
{
    size_t volume = grad_out->shape[2] * grad_out->shape[3] * grad_out->shape[4];
    size_t global = SUM_LOCAL * grad_out->shape[1], local = SUM_LOCAL;
    return d3m_launch(REF_FILE, "conv3d_channel_sum", NULL, 1, &global, &local, "ttiiiL", grad_out,
                      grad_bias, (int)grad_out->shape[0], (int)grad_out->shape[1], (int)volume,
                      SUM_LOCAL * sizeof(float));
}


/* ---- conv3d --------------------------------------------------------------- */

int d3m_conv3d_forward(const d3m_tensor *input, const d3m_tensor *weight, const d3m_tensor *bias,
                       int stride, d3m_tensor *out)
{
    size_t out_shape[5];
    D3M_TRY(d3m_conv3d_output_shape(input, weight, stride, out_shape));
    D3M_TRY(d3m_check_shape(out, "conv3d output", 5, out_shape));
    D3M_TRY(check_bias(bias, weight->shape[0], "conv3d bias"));
    D3M_TRY(check_all_int_range(input, weight, out, "conv3d"));
    D3M_TRY(check_distinct(out, input, "conv3d output"));

    conv_dims dims = conv_dims_of(input, weight, stride);
    if (!use_fast_path())
        return ref_forward(&dims, input, weight, bias, out);
    if (dims.ksize == 1)
        return d3m_conv_pointwise_forward(&dims, input, weight, bias, out);
    conv_weight_view view = {weight, 1, 0};
    return d3m_conv_fast_forward(&dims, input, view, bias, out);
}


int d3m_conv3d_backward_input(const d3m_tensor *grad_out, const d3m_tensor *weight, int stride,
                              d3m_tensor *grad_in)
{
    size_t out_shape[5];
    D3M_TRY(d3m_conv3d_output_shape(grad_in, weight, stride, out_shape));
    D3M_TRY(d3m_check_shape(grad_out, "conv3d backward_input grad_out", 5, out_shape));
    D3M_TRY(check_all_int_range(grad_out, weight, grad_in, "conv3d backward_input"));
    D3M_TRY(check_distinct(grad_in, grad_out, "conv3d grad_in"));

    conv_dims dims = conv_dims_of(grad_in, weight, stride);
    if (!use_fast_path())
        return ref_backward_input(&dims, grad_out, weight, grad_in);
    if (dims.ksize == 1)
        return d3m_conv_pointwise_backward_input(&dims, grad_out, weight, grad_in);

    /* The adjoint primitive reads grad_out (Co channels) and writes Ci. */
    conv_dims adjoint = dims;
    adjoint.channels_in = dims.channels_out;
    adjoint.channels_out = dims.channels_in;
    adjoint.depth = (int)out_shape[2];
    adjoint.height = (int)out_shape[3];
    adjoint.width = (int)out_shape[4];
    if (stride == 1) {
        /* A stride-1 conv's adjoint is the conv with the weight transposed
         * over channels and flipped over taps. */
        conv_weight_view view = {weight, 0, 1};
        return d3m_conv_fast_forward(&adjoint, grad_out, view, NULL, grad_in);
    }
    /* A stride-2 conv's adjoint is the transposed conv with the same memory
     * read as [in = Co][out = Ci]. */
    adjoint.stride = 1;
    conv_weight_view view = {weight, 0, 0};
    return d3m_conv_fast_transpose_forward(&adjoint, grad_out, view, NULL, grad_in);
}


/* grad_weight is [Co][Ci][k][k][k] with Co from grad_out, Ci from input and
 * k = 1 or 3 from grad_weight itself. */
static int check_grad_weight(const d3m_tensor *grad_out, const d3m_tensor *input,
                             const d3m_tensor *grad_weight)
{
    size_t k = grad_weight->ndim == 5 && grad_weight->shape[2] == 1 ? 1 : 3;
    size_t expected[5] = {grad_out->shape[1], input->shape[1], k, k, k};
    return d3m_check_shape(grad_weight, "conv3d grad_weight", 5, expected);
}


int d3m_conv3d_backward_weight(const d3m_tensor *grad_out, const d3m_tensor *input, int stride,
                               d3m_tensor *grad_weight, d3m_tensor *grad_bias)
{
    D3M_TRY(check_rank5(grad_out, "conv3d backward_weight grad_out"));
    D3M_TRY(check_rank5(input, "conv3d backward_weight input"));
    D3M_TRY(check_grad_weight(grad_out, input, grad_weight));
    size_t out_shape[5];
    D3M_TRY(d3m_conv3d_output_shape(input, grad_weight, stride, out_shape));
    D3M_TRY(d3m_check_shape(grad_out, "conv3d backward_weight grad_out", 5, out_shape));
    D3M_TRY(check_bias(grad_bias, grad_out->shape[1], "conv3d grad_bias"));
    D3M_TRY(check_all_int_range(grad_out, input, grad_weight, "conv3d backward_weight"));
    D3M_TRY(check_distinct(grad_weight, grad_out, "conv3d grad_weight"));
    D3M_TRY(check_distinct(grad_weight, input, "conv3d grad_weight"));

    conv_dims dims = conv_dims_of(input, grad_weight, stride);
    if (!use_fast_path())
        D3M_TRY(ref_backward_weight(&dims, grad_out, input, grad_weight));
    else if (dims.ksize == 1)
        D3M_TRY(d3m_conv_pointwise_backward_weight(&dims, grad_out, input, grad_weight));
    else
        D3M_TRY(d3m_conv_fast_backward_weight(&dims, grad_out, input, grad_weight));
    if (grad_bias != NULL)
        D3M_TRY(d3m_conv_channel_sum(grad_out, grad_bias));
    return D3M_OK;
}


/* ---- conv_transpose3d ----------------------------------------------------- */

/* dims of the transposed primitive: input x [N][Ci][n...], weight [Ci][Co]. */
static conv_dims transpose_dims_of(const d3m_tensor *input, const d3m_tensor *weight)
{
    conv_dims dims;
    dims.batch = (int)input->shape[0];
    dims.channels_in = (int)input->shape[1];
    dims.channels_out = (int)weight->shape[1];
    dims.depth = (int)input->shape[2];
    dims.height = (int)input->shape[3];
    dims.width = (int)input->shape[4];
    dims.ksize = 3;
    dims.stride = 1;
    return dims;
}


/* dims of the stride-2 conv3d that is the adjoint of the transposed conv:
 * input of Co channels at the doubled extents, output of Ci channels. */
static conv_dims adjoint_of_transpose(const conv_dims *t)
{
    conv_dims dims = *t;
    dims.channels_in = t->channels_out;
    dims.channels_out = t->channels_in;
    dims.depth = 2 * t->depth;
    dims.height = 2 * t->height;
    dims.width = 2 * t->width;
    dims.stride = 2;
    return dims;
}


int d3m_conv_transpose3d_forward(const d3m_tensor *input, const d3m_tensor *weight,
                                 const d3m_tensor *bias, d3m_tensor *out)
{
    size_t out_shape[5];
    D3M_TRY(d3m_conv_transpose3d_output_shape(input, weight, out_shape));
    D3M_TRY(d3m_check_shape(out, "conv_transpose3d output", 5, out_shape));
    D3M_TRY(check_bias(bias, weight->shape[1], "conv_transpose3d bias"));
    D3M_TRY(check_all_int_range(input, weight, out, "conv_transpose3d"));
    D3M_TRY(check_distinct(out, input, "conv_transpose3d output"));

    conv_dims dims = transpose_dims_of(input, weight);
    if (use_fast_path()) {
        conv_weight_view view = {weight, 0, 0};
        return d3m_conv_fast_transpose_forward(&dims, input, view, bias, out);
    }
    return ref_transpose_forward(&dims, input, weight, bias, out);
}


int d3m_conv_transpose3d_backward_input(const d3m_tensor *grad_out, const d3m_tensor *weight,
                                        d3m_tensor *grad_in)
{
    size_t out_shape[5];
    D3M_TRY(d3m_conv_transpose3d_output_shape(grad_in, weight, out_shape));
    D3M_TRY(d3m_check_shape(grad_out, "conv_transpose3d backward_input grad_out", 5, out_shape));
    D3M_TRY(check_all_int_range(grad_out, weight, grad_in, "conv_transpose3d backward_input"));
    D3M_TRY(check_distinct(grad_in, grad_out, "conv_transpose3d grad_in"));

    /* The adjoint is conv3d with stride 2 and the weight [Ci][Co] read as
     * conv3d's [out][in]. */
    conv_dims t = transpose_dims_of(grad_in, weight);
    conv_dims dims = adjoint_of_transpose(&t);
    if (use_fast_path()) {
        conv_weight_view view = {weight, 1, 0};
        return d3m_conv_fast_forward(&dims, grad_out, view, NULL, grad_in);
    }
    return ref_forward(&dims, grad_out, weight, NULL, grad_in);
}


int d3m_conv_transpose3d_backward_weight(const d3m_tensor *grad_out, const d3m_tensor *input,
                                         d3m_tensor *grad_weight, d3m_tensor *grad_bias)
{
    D3M_TRY(check_rank5(grad_out, "conv_transpose3d backward_weight grad_out"));
    D3M_TRY(check_rank5(input, "conv_transpose3d backward_weight input"));
    size_t expected[5] = {input->shape[1], grad_out->shape[1], 3, 3, 3};
    D3M_TRY(d3m_check_shape(grad_weight, "conv_transpose3d grad_weight", 5, expected));
    size_t out_shape[5];
    D3M_TRY(d3m_conv_transpose3d_output_shape(input, grad_weight, out_shape));
    D3M_TRY(d3m_check_shape(grad_out, "conv_transpose3d backward_weight grad_out", 5, out_shape));
    D3M_TRY(check_bias(grad_bias, grad_out->shape[1], "conv_transpose3d grad_bias"));
    D3M_TRY(check_all_int_range(grad_out, input, grad_weight, "conv_transpose3d backward_weight"));
    D3M_TRY(check_distinct(grad_weight, grad_out, "conv_transpose3d grad_weight"));
    D3M_TRY(check_distinct(grad_weight, input, "conv_transpose3d grad_weight"));

    /* dL/dw[ci][co][k] = sum over m of x[ci][m] g[co][2m + k - 1]: the
     * weight gradient of the adjoint stride-2 conv3d with the roles of
     * grad_out and input exchanged, in the same memory layout. */
    conv_dims t = transpose_dims_of(input, grad_weight);
    conv_dims dims = adjoint_of_transpose(&t);
    if (use_fast_path())
        D3M_TRY(d3m_conv_fast_backward_weight(&dims, input, grad_out, grad_weight));
    else
        D3M_TRY(ref_backward_weight(&dims, input, grad_out, grad_weight));
    if (grad_bias != NULL)
        D3M_TRY(d3m_conv_channel_sum(grad_out, grad_bias));
    return D3M_OK;
}
