/* nn_pointwise.cl - a 1x1x1 transposed convolution (channel mixing) on
 * [N, C, S] activations, weight in PyTorch's ConvTranspose3d layout
 * [Ci, Co]. The weight gradient uses pair_partials in nn_reduce.cl.
 * Global size {S, N}; each work-item handles one voxel of one sample and
 * keeps CHUNK output channels in registers, so every input value is read
 * once per chunk. */

#define CHUNK 4

/* y[n, o, s] = bias[o] + sum_i weight[i, o] x[n, i, s]; has_bias == 0
 * ignores bias. */
__kernel void pointwise_forward(__global const float *x, __global const float *weight,
                                __global const float *bias, const int has_bias, const int cin,
                                const int cout, const long spatial, __global float *y)
{
    long s = get_global_id(0);
    long n = get_global_id(1);
    if (s >= spatial)
        return;
    __global const float *xs = x + n * cin * spatial + s;
    __global float *ys = y + n * cout * spatial + s;
    for (int o0 = 0; o0 < cout; o0 += CHUNK) {
        float acc[CHUNK];
        for (int k = 0; k < CHUNK; k++)
            acc[k] = has_bias && o0 + k < cout ? bias[o0 + k] : 0.0f;
        __global const float *xi = xs;
        for (int i = 0; i < cin; i++, xi += spatial) {
            float v = *xi;
            for (int k = 0; k < CHUNK; k++)
                if (o0 + k < cout)
                    acc[k] += weight[i * cout + o0 + k] * v;
        }
        for (int k = 0; k < CHUNK && o0 + k < cout; k++)
            ys[(o0 + k) * spatial] = acc[k];
    }
}

/* dx[n, i, s] = sum_o weight[i, o] dy[n, o, s]. */
__kernel void pointwise_backward_input(__global const float *dy, __global const float *weight,
                                       const int cin, const int cout, const long spatial,
                                       __global float *dx)
{
    long s = get_global_id(0);
    long n = get_global_id(1);
    if (s >= spatial)
        return;
    __global const float *dys = dy + n * cout * spatial + s;
    __global float *dxs = dx + n * cin * spatial + s;
    for (int o0 = 0; o0 < cout; o0 += CHUNK) {
        float g[CHUNK];
        for (int k = 0; k < CHUNK; k++)
            g[k] = o0 + k < cout ? dys[(o0 + k) * spatial] : 0.0f;
        __global float *dxi = dxs;
        for (int i = 0; i < cin; i++, dxi += spatial) {
            float acc = o0 == 0 ? 0.0f : *dxi;
            for (int k = 0; k < CHUNK && o0 + k < cout; k++)
                acc += weight[i * cout + o0 + k] * g[k];
            *dxi = acc;
        }
    }
}
