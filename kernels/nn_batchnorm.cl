/* nn_batchnorm.cl - BatchNorm3d forward and backward for [N, C, S]
 * activations (S voxels per channel), as torch.nn.BatchNorm3d computes it.
 * The per-channel sums come from channel_partials in nn_reduce.cl; the
 * kernels here turn them into statistics and apply them. One work-item per
 * channel in the statistics kernels. The elementwise kernels run on a
 * global size {S rounded up, C, N}, so that no work-item divides to find
 * its channel (64-bit divisions made them several times slower on PoCL). */

/* Sum `groups` partials with Kahan compensation. */
inline float sum_partials(__global const float *partial, int groups)
{
    float sum = 0.0f, compensation = 0.0f;
    for (int g = 0; g < groups; g++) {
        float term = partial[g] - compensation;
        float total = sum + term;
        compensation = (total - sum) - term;
        sum = total;
    }
    return sum;
}

/* First pass: mean[c] = (sum of x over the channel) / count. */
__kernel void bn_mean(__global const float *partial, const int groups, const int channels,
                      const long count, __global float *mean)
{
    int c = get_global_id(0);
    if (c < channels)
        mean[c] = sum_partials(partial + c * groups, groups) / (float)count;
}

/* Second pass, from the sums of d = x - mean and d^2: the corrected
 * two-pass variance var = <d^2> - <d>^2 (biased, used for normalising),
 * invstd = 1 / sqrt(var + eps) and the running-statistics update with the
 * unbiased variance var count / (count - 1). */
__kernel void bn_finalize(__global const float *partial_a, __global const float *partial_b,
                          const int groups, const int channels, const long count,
                          const float momentum, const float eps, __global float *mean,
                          __global float *invstd, __global float *running_mean,
                          __global float *running_var)
{
    int c = get_global_id(0);
    if (c >= channels)
        return;
    float m = (float)count;
    float shift = sum_partials(partial_a + c * groups, groups) / m;
    float var = fmax(sum_partials(partial_b + c * groups, groups) / m - shift * shift, 0.0f);
    float batch_mean = mean[c] + shift;

    mean[c] = batch_mean;
    invstd[c] = 1.0f / sqrt(var + eps);
    running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * batch_mean;
    running_var[c] = (1.0f - momentum) * running_var[c] + momentum * var * m / (m - 1.0f);
}

/* Evaluation mode: apply the running statistics. */
__kernel void bn_eval_stats(__global const float *running_mean, __global const float *running_var,
                            const int channels, const float eps, __global float *mean,
                            __global float *invstd)
{
    int c = get_global_id(0);
    if (c < channels) {
        mean[c] = running_mean[c];
        invstd[c] = 1.0f / sqrt(running_var[c] + eps);
    }
}

/* y = (x - mean) invstd weight + bias. */
__kernel void bn_normalize(__global const float *x, __global float *y,
                           __global const float *mean, __global const float *invstd,
                           __global const float *weight, __global const float *bias,
                           const int channels, const long spatial)
{
    long s = get_global_id(0);
    int c = get_global_id(1);
    long n = get_global_id(2);
    if (s >= spatial)
        return;
    long i = (n * channels + c) * spatial + s;
    float scale = invstd[c] * weight[c];
    y[i] = (x[i] - mean[c]) * scale + bias[c];
}

/* From the sums of dy and dy (x - mean): grad_weight += sum dy xhat,
 * grad_bias += sum dy, and sums[c] = sum dy, sums[channels + c] =
 * sum dy xhat for bn_backward_input. */
__kernel void bn_backward_params(__global const float *partial_a,
                                 __global const float *partial_b, const int groups,
                                 const int channels, __global const float *invstd,
                                 __global float *sums, __global float *grad_weight,
                                 __global float *grad_bias)
{
    int c = get_global_id(0);
    if (c >= channels)
        return;
    float sum_dy = sum_partials(partial_a + c * groups, groups);
    float sum_dy_xhat = sum_partials(partial_b + c * groups, groups) * invstd[c];
    sums[c] = sum_dy;
    sums[channels + c] = sum_dy_xhat;
    grad_weight[c] += sum_dy_xhat;
    grad_bias[c] += sum_dy;
}

/* Training: dx = weight invstd (dy - sum dy / M - xhat sum(dy xhat) / M),
 * the derivative through the batch mean and variance (M = count).
 * Evaluation (training == 0): dx = weight invstd dy. */
__kernel void bn_backward_input(__global const float *dy, __global const float *x,
                                __global const float *mean, __global const float *invstd,
                                __global const float *weight, __global const float *sums,
                                const int channels, const long spatial, const long count,
                                const int training, __global float *dx)
{
    long s = get_global_id(0);
    int c = get_global_id(1);
    long n = get_global_id(2);
    if (s >= spatial)
        return;
    long i = (n * channels + c) * spatial + s;
    float scale = weight[c] * invstd[c];
    if (!training) {
        dx[i] = scale * dy[i];
        return;
    }
    float m = (float)count;
    float xhat = (x[i] - mean[c]) * invstd[c];
    dx[i] = scale * (dy[i] - sums[c] / m - xhat * sums[channels + c] / m);
}
