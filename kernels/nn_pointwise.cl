/* nn_pointwise.cl - a 1x1x1 transposed convolution (channel mixing) on
 * [N, C, S] activations, weight in PyTorch's ConvTranspose3d layout
 * [Ci, Co]. The weight gradient uses pair_partials in nn_reduce.cl.
 * Global size {S, N}; each work-item handles one voxel of one sample. */

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
    for (int o = 0; o < cout; o++) {
        float acc = has_bias ? bias[o] : 0.0f;
        for (int i = 0; i < cin; i++)
            acc += weight[i * cout + o] * xs[i * spatial];
        y[(n * cout + o) * spatial + s] = acc;
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
    for (int i = 0; i < cin; i++) {
        float acc = 0.0f;
        for (int o = 0; o < cout; o++)
            acc += weight[i * cout + o] * dys[o * spatial];
        dx[(n * cin + i) * spatial + s] = acc;
    }
}
