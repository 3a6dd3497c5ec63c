/* nn_reduce.cl - per-channel reductions of [N, C, S] activations (S voxels
 * per channel), shared by batch normalisation and the parameter gradients.
 *
 * A reduction over the M = N S values of a channel is split into `groups`
 * work-groups of LOCAL_SIZE items. Within every sample, item k of group g
 * takes the voxels s = g LOCAL_SIZE + k + j groups LOCAL_SIZE (contiguous
 * across the items, and no division per element). Each item sums its share
 * with Kahan compensation, the group combines its items by a pairwise tree,
 * and one partial per (channel, group) is written. The host or a finishing
 * kernel adds the partials. With M = 50 * 32^3 and 64 groups each item sums
 * about 400 values, so the float error stays near a few ulp of the sum. */

#ifndef LOCAL_SIZE
#define LOCAL_SIZE 64   /* must match the host's local size, a power of two */
#endif

/* What channel_partials sums; every mode produces two sums a and b. */
#define MODE_SUM 0        /* a = x, b = 0 */
#define MODE_CENTERED 1   /* a = x - m[c], b = (x - m[c])^2 */
#define MODE_GRAD 2       /* a = y, b = y (x - m[c]) */

typedef struct { float sum, compensation; } kahan;

inline void kahan_add(kahan *k, float value)
{
    float term = value - k->compensation;
    float total = k->sum + term;
    k->compensation = (total - k->sum) - term;
    k->sum = total;
}

/* Pairwise sum of scratch[0 .. LOCAL_SIZE) into scratch[0]. */
inline void tree_sum(__local float *scratch, int lid)
{
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = LOCAL_SIZE / 2; width > 0; width /= 2) {
        if (lid < width)
            scratch[lid] += scratch[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/* Global size {groups * LOCAL_SIZE, channels}, local {LOCAL_SIZE, 1}; batch
 * is N.
 * partial_a and partial_b are [channels, groups]. m may be any buffer in
 * MODE_SUM (it is not read). */
__kernel void channel_partials(__global const float *x, __global const float *y,
                               __global const float *m, const int channels, const long spatial,
                               const long batch, const int groups, const int mode,
                               __global float *partial_a, __global float *partial_b)
{
    __local float scratch_a[LOCAL_SIZE];
    __local float scratch_b[LOCAL_SIZE];
    int lid = get_local_id(0);
    int group = get_group_id(0);
    int c = get_global_id(1);
    float center = mode == MODE_SUM ? 0.0f : m[c];
    long first = (long)group * LOCAL_SIZE + lid, stride = (long)groups * LOCAL_SIZE;
    kahan a = {0.0f, 0.0f}, b = {0.0f, 0.0f};

    for (long n = 0; n < batch; n++) {
        long base = (n * channels + c) * spatial;
        for (long s = first; s < spatial; s += stride) {
            long index = base + s;
            if (mode == MODE_SUM) {
                kahan_add(&a, x[index]);
            } else if (mode == MODE_CENTERED) {
                float d = x[index] - center;
                kahan_add(&a, d);
                kahan_add(&b, d * d);
            } else {
                float g = y[index];
                kahan_add(&a, g);
                kahan_add(&b, g * (x[index] - center));
            }
        }
    }

    scratch_a[lid] = a.sum;
    scratch_b[lid] = b.sum;
    tree_sum(scratch_a, lid);
    tree_sum(scratch_b, lid);
    if (lid == 0) {
        partial_a[c * groups + group] = scratch_a[0];
        partial_b[c * groups + group] = scratch_b[0];
    }
}

/* Sums over the voxels of products of two channel sets:
 * partial[(i * cy + o) * groups + group] = part of sum_{n,s} x[n,i,s] y[n,o,s]
 * for x [N, cx, S] and y [N, cy, S]. Global {groups * LOCAL_SIZE, cx * cy}. */
__kernel void pair_partials(__global const float *x, __global const float *y, const int cx,
                            const int cy, const long spatial, const long batch, const int groups,
                            __global float *partial)
{
    __local float scratch[LOCAL_SIZE];
    int lid = get_local_id(0);
    int group = get_group_id(0);
    int pair = get_global_id(1);
    int i = pair / cy, o = pair - i * cy;
    long first = (long)group * LOCAL_SIZE + lid, stride = (long)groups * LOCAL_SIZE;
    kahan a = {0.0f, 0.0f};

    for (long n = 0; n < batch; n++) {
        __global const float *xs = x + (n * cx + i) * spatial;
        __global const float *ys = y + (n * cy + o) * spatial;
        for (long s = first; s < spatial; s += stride)
            kahan_add(&a, xs[s] * ys[s]);
    }

    scratch[lid] = a.sum;
    tree_sum(scratch, lid);
    if (lid == 0)
        partial[pair * groups + group] = scratch[0];
}

/* out[k] += sum over g of partial[k * groups + g], for k < count. */
__kernel void partials_accumulate(__global const float *partial, const int groups,
                                  const int count, __global float *out)
{
    int k = get_global_id(0);
    if (k >= count)
        return;
    kahan total = {0.0f, 0.0f};
    for (int g = 0; g < groups; g++)
        kahan_add(&total, partial[k * groups + g]);
    out[k] += total.sum;
}
