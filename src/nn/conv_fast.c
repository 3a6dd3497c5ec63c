/* conv_fast.c - the fast path of the periodic convolutions (kernels in
 * kernels/conv3d.cl): pad the input once, repack the weights into blocks of
 * 16 output channels, run the blocked kernels. Temporary buffers live for
 * one call; OpenCL keeps a released buffer until the kernels using it end. */
#include <limits.h>
#include <stdio.h>

#include "nn/conv_internal.h"
#include "runtime/runtime.h"

#define FAST_FILE "conv3d.cl"
#define LANES 16
#define X_BLOCK 8              /* must equal X_BLOCK in conv3d.cl */
#define M_BLOCK 8              /* must equal M_BLOCK in conv3d.cl */
#define SLACK (4 * X_BLOCK)    /* floats after a padded input that blocked reads may touch */

/* Weight-gradient partials: enough chunks for about this many work-items
 * (a few per core on CPUs, enough to fill a GPU), capped in memory. */
#define TARGET_WORK_ITEMS 8192
#define MAX_PARTIAL_FLOATS (32u << 20)
/* A float sum of n terms has a rounding error growing like sqrt(n) eps;
 * 32 planes of 32^2 voxels keep n near 3e4 for large batches. */
#define MAX_PLANES_PER_CHUNK 32


static size_t ceil_div(size_t a, size_t b)
{
    return (a + b - 1) / b;
}


/* Work-group size along dimension 0 of the blocked kernels. On PoCL 3.1
 * with 2 CPU cores (scripts/bench_conv.lua, blocks of 4 voxels then), 8 to
 * 32 work-items per group ran alike and 1 or 64 up to a third slower. GPUs
 * get 64 to fill their SIMD width. NOTE: the GPU value is a guess. */
static size_t blocked_local_size(void)
{
    d3m_runtime *rt = d3m_runtime_current();
    return rt != NULL && rt->info.is_gpu ? 64 : 8;
}


static int new_buffer(size_t floats, const char *what, d3m_tensor **out)
{
    if (floats >= (size_t)INT_MAX)
        return d3m_fail(D3M_ERR_SHAPE, "conv3d: the %s needs %zu floats, more than the 2^31 - 1 "
                        "the kernels index; use a smaller batch", what, floats);
    size_t shape[1] = {floats};
    return d3m_tensor_new(1, shape, out);
}


/* Periodically padded copy of planes x [depth][height][width], plus SLACK. */
static int pad_input(const d3m_tensor *input, int planes, int depth, int height, int width,
                     d3m_tensor **padded)
{
    size_t pd = (size_t)depth + 2, ph = (size_t)height + 2, pw = (size_t)width + 2;
    D3M_TRY(new_buffer((size_t)planes * pd * ph * pw + SLACK, "padded input", padded));
    size_t global[2] = {ph * pd, (size_t)planes};
    size_t local[2] = {64, 1};
    int status = d3m_launch(FAST_FILE, "conv3d_pad", NULL, 2, global, local, "ttiiii", input,
                            *padded, planes, depth, height, width);
    if (status != D3M_OK) {
        d3m_tensor_free(*padded);
        *padded = NULL;
    }
    return status;
}


/* Weights repacked to [ceil(n_out / 16)][n_in][27][16]. */
static int pack_weight(conv_weight_view view, int n_out, int n_in, d3m_tensor **packed)
{
    size_t blocks = ceil_div((size_t)n_out, LANES);
    D3M_TRY(new_buffer(blocks * (size_t)n_in * 27 * LANES, "packed weight", packed));
    size_t global[3] = {LANES * 27, (size_t)n_in, blocks};
    size_t local[3] = {LANES, 1, 1};
    int status = d3m_launch(FAST_FILE, "conv3d_pack_weight", NULL, 3, global, local, "ttiiiii",
                            view.weight, *packed, n_out, n_in, 27, view.out_first, view.flip);
    if (status != D3M_OK) {
        d3m_tensor_free(*packed);
        *packed = NULL;
    }
    return status;
}


int d3m_conv_fast_forward(const conv_dims *d, const d3m_tensor *input, conv_weight_view view,
                          const d3m_tensor *bias, d3m_tensor *out)
{
    d3m_tensor *padded = NULL, *packed = NULL;
    int status = pad_input(input, d->batch * d->channels_in, d->depth, d->height, d->width,
                           &padded);
    if (status == D3M_OK)
        status = pack_weight(view, d->channels_out, d->channels_in, &packed);
    if (status == D3M_OK) {
        int out_d = d->depth / d->stride, out_h = d->height / d->stride;
        int out_w = d->width / d->stride;
        size_t global[3] = {ceil_div((size_t)out_w, X_BLOCK) * (size_t)out_h, (size_t)out_d,
                            (size_t)d->batch * ceil_div((size_t)d->channels_out, LANES)};
        size_t local[3] = {blocked_local_size(), 1, 1};
        const char *kernel = d->stride == 1 ? "conv3d_fast_forward_s1" : "conv3d_fast_forward_s2";
        status = d3m_launch(FAST_FILE, kernel, NULL, 3, global, local, "tttitiiiiii", padded,
                            packed, bias ? bias : packed, bias != NULL, out, d->batch,
                            d->channels_in, d->channels_out, out_d, out_h, out_w);
    }
    d3m_tensor_free(padded);
    d3m_tensor_free(packed);
    return status;
}


int d3m_conv_fast_transpose_forward(const conv_dims *d, const d3m_tensor *input,
                                    conv_weight_view view, const d3m_tensor *bias,
                                    d3m_tensor *out)
{
    d3m_tensor *padded = NULL, *packed = NULL;
    int status = pad_input(input, d->batch * d->channels_in, d->depth, d->height, d->width,
                           &padded);
    if (status == D3M_OK)
        status = pack_weight(view, d->channels_out, d->channels_in, &packed);
    if (status == D3M_OK) {
        size_t global[3] = {ceil_div((size_t)d->width, M_BLOCK) * 2 * (size_t)d->height,
                            2 * (size_t)d->depth,
                            (size_t)d->batch * ceil_div((size_t)d->channels_out, LANES)};
        size_t local[3] = {blocked_local_size(), 1, 1};
        status = d3m_launch(FAST_FILE, "conv_transpose3d_fast_forward", NULL, 3, global, local,
                            "tttitiiiiii", padded, packed, bias ? bias : packed, bias != NULL, out,
                            d->batch, d->channels_in, d->channels_out, d->depth, d->height,
                            d->width);
    }
    d3m_tensor_free(padded);
    d3m_tensor_free(packed);
    return status;
}


/* Number of partial sums of the weight gradient: enough work-items, at most
 * MAX_PLANES_PER_CHUNK output planes summed in one float accumulator
 * (memory permitting), at most one chunk per plane, and a bounded buffer. */
static size_t weight_chunks(const conv_dims *d, size_t co_blocks, size_t planes)
{
    size_t items = 3 * (size_t)d->channels_in * co_blocks;
    size_t chunks = ceil_div(TARGET_WORK_ITEMS, items);
    size_t for_accuracy = ceil_div(planes, MAX_PLANES_PER_CHUNK);
    if (chunks < for_accuracy)
        chunks = for_accuracy;
    size_t per_chunk = co_blocks * (size_t)d->channels_in * 27 * LANES;
    if (chunks * per_chunk > MAX_PARTIAL_FLOATS)
        chunks = MAX_PARTIAL_FLOATS / per_chunk;
    if (chunks > planes)
        chunks = planes;
    return chunks < 1 ? 1 : chunks;
}


int d3m_conv_fast_backward_weight(const conv_dims *d, const d3m_tensor *grad_out,
                                  const d3m_tensor *input, d3m_tensor *grad_weight)
{
    int out_d = d->depth / d->stride, out_h = d->height / d->stride, out_w = d->width / d->stride;
    size_t co_blocks = ceil_div((size_t)d->channels_out, LANES);
    size_t out_volume = (size_t)out_d * (size_t)out_h * (size_t)out_w;
    size_t planes = (size_t)d->batch * (size_t)out_d;
    size_t chunks = weight_chunks(d, co_blocks, planes);

    d3m_tensor *grad_last = NULL, *padded = NULL, *partials = NULL;
    int status = new_buffer((size_t)d->batch * out_volume * co_blocks * LANES,
                            "channel-last gradient", &grad_last);
    if (status == D3M_OK) {
        size_t global[2] = {out_volume, (size_t)d->batch};
        size_t local[2] = {64, 1};
        status = d3m_launch(FAST_FILE, "conv3d_to_channel_last", NULL, 2, global, local, "ttiii",
                            grad_out, grad_last, d->batch, d->channels_out, (int)out_volume);
    }
    if (status == D3M_OK)
        status = pad_input(input, d->batch * d->channels_in, d->depth, d->height, d->width,
                           &padded);
    if (status == D3M_OK)
        status = new_buffer(chunks * co_blocks * (size_t)d->channels_in * 27 * LANES,
                            "weight-gradient partials", &partials);
    if (status == D3M_OK) {
        size_t global[3] = {3 * (size_t)d->channels_in, co_blocks, chunks};
        status = d3m_launch(FAST_FILE, "conv3d_fast_weight_partials", NULL, 3, global, NULL,
                            "tttiiiiiiii", grad_last, padded, partials, d->batch, d->channels_in,
                            (int)co_blocks, out_d, out_h, out_w, d->stride, (int)chunks);
    }
    if (status == D3M_OK) {
        size_t global[3] = {27, (size_t)d->channels_in, (size_t)d->channels_out};
        status = d3m_launch(FAST_FILE, "conv3d_reduce_weight_partials", NULL, 3, global, NULL,
                            "ttiii", partials, grad_weight, d->channels_in, d->channels_out,
                            (int)chunks);
    }
    d3m_tensor_free(grad_last);
    d3m_tensor_free(padded);
    d3m_tensor_free(partials);
    return status;
}
