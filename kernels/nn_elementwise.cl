/* nn_elementwise.cl - ReLU, channel-block copies for concatenation and the
 * MSE loss. Each kernel checks its index against the element count, because
 * the host rounds the global size up to the work-group size. */

#ifndef LOCAL_SIZE
#define LOCAL_SIZE 64   /* must match the host's local size, a power of two */
#endif

__kernel void relu_forward(__global const float *x, __global float *y, const long n)
{
    long i = get_global_id(0);
    if (i < n)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

__kernel void relu_backward(__global const float *dy, __global const float *x,
                            __global float *dx, const long n)
{
    long i = get_global_id(0);
    if (i < n)
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

/* Copy `block` channels of [N, src_channels, S] starting at src_first into
 * [N, dst_channels, S] starting at dst_first. Global size {S rounded up,
 * block, N}. */
__kernel void channel_copy(__global const float *src, const int src_channels,
                           const int src_first, __global float *dst, const int dst_channels,
                           const int dst_first, const int block, const long spatial)
{
    long s = get_global_id(0);
    long c = get_global_id(1);
    long n = get_global_id(2);
    if (s >= spatial)
        return;
    dst[(n * dst_channels + dst_first + c) * spatial + s] =
        src[(n * src_channels + src_first + c) * spatial + s];
}

/* One partial sum of (a - b)^2 per work-group: Kahan per item over a
 * strided share, then a pairwise tree. The host adds the partials. */
__kernel void mse_partials(__global const float *a, __global const float *b, const long n,
                           __global float *partials)
{
    __local float scratch[LOCAL_SIZE];
    int lid = get_local_id(0);
    long stride = get_global_size(0);
    float sum = 0.0f, compensation = 0.0f;

    for (long i = get_global_id(0); i < n; i += stride) {
        float d = a[i] - b[i];
        float term = d * d - compensation;
        float total = sum + term;
        compensation = (total - sum) - term;
        sum = total;
    }

    scratch[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = LOCAL_SIZE / 2; width > 0; width /= 2) {
        if (lid < width)
            scratch[lid] += scratch[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        partials[get_group_id(0)] = scratch[0];
}

/* grad = factor (a - b), with factor = 2 scale / numel from the host. */
__kernel void mse_backward(__global const float *a, __global const float *b,
                           const float factor, __global float *grad, const long n)
{
    long i = get_global_id(0);
    if (i < n)
        grad[i] = factor * (a[i] - b[i]);
}
