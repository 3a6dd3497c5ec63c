/* tensor.cl - elementwise operations and reductions on float32 tensors.
 * Every kernel takes the element count n and checks its index, because the
 * host rounds the global size up to a multiple of the work-group size. */

__kernel void tensor_fill(__global float *out, const float value, const long n)
{
    long i = get_global_id(0);
    if (i < n)
        out[i] = value;
}

__kernel void tensor_add(__global float *out, __global const float *a, __global const float *b,
                         const long n)
{
    long i = get_global_id(0);
    if (i < n)
        out[i] = a[i] + b[i];
}

__kernel void tensor_sub(__global float *out, __global const float *a, __global const float *b,
                         const long n)
{
    long i = get_global_id(0);
    if (i < n)
        out[i] = a[i] - b[i];
}

__kernel void tensor_mul(__global float *out, __global const float *a, __global const float *b,
                         const long n)
{
    long i = get_global_id(0);
    if (i < n)
        out[i] = a[i] * b[i];
}

__kernel void tensor_scale(__global float *out, __global const float *a, const float alpha,
                           const long n)
{
    long i = get_global_id(0);
    if (i < n)
        out[i] = alpha * a[i];
}

__kernel void tensor_axpy(__global float *y, __global const float *x, const float alpha,
                          const long n)
{
    long i = get_global_id(0);
    if (i < n)
        y[i] += alpha * x[i];
}

/* Reduction modes. */
#define REDUCE_SUM 0
#define REDUCE_DOT 1
#define REDUCE_MAX_ABS 2
#define REDUCE_NONFINITE 3

/* One partial result per work-group. Work-items walk the array with the
 * global stride (coalesced on GPUs) and sum with Kahan compensation; the
 * group combines its items by a pairwise tree in local memory. The host
 * adds the partials in double. The local size must be a power of two. */
__kernel void tensor_reduce(__global const float *x, __global const float *y, const long n,
                            const int mode, __global float *partials, __local float *scratch)
{
    long stride = get_global_size(0);
    float sum = 0.0f, compensation = 0.0f;
    float maximum = 0.0f;

    for (long i = get_global_id(0); i < n; i += stride) {
        float v = x[i];
        if (mode == REDUCE_DOT)
            v *= y[i];
        if (mode == REDUCE_MAX_ABS) {
            maximum = fmax(maximum, fabs(v));
        } else if (mode == REDUCE_NONFINITE) {
            if (isnan(v) || isinf(v))
                maximum = 1.0f;
        } else {
            float term = v - compensation;
            float t = sum + term;
            compensation = (t - sum) - term;
            sum = t;
        }
    }

    int lid = get_local_id(0);
    int use_max = mode == REDUCE_MAX_ABS || mode == REDUCE_NONFINITE;
    scratch[lid] = use_max ? maximum : sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = get_local_size(0) / 2; width > 0; width /= 2) {
        if (lid < width)
            scratch[lid] = use_max ? fmax(scratch[lid], scratch[lid + width])
                                   : scratch[lid] + scratch[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        partials[get_group_id(0)] = scratch[0];
}
