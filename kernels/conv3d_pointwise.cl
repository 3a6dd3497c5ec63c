/* conv3d_pointwise.cl - the 1x1x1 conv3d (no padding, stride 1 or 2) as a
 * matrix product per voxel: the fast path for k = 1. With stride 1 a
 * work-item handles 16 consecutive voxels as float16 vectors; kernels with
 * one work-item per element ran 5 to 12 times slower on PoCL 3.1. Stride
 * 2, which the network does not use, keeps one work-item per element.
 *
 * Layouts: tensors [N][C][D][H][W], weight [Co][Ci]; depth, height and
 * width are the input's extents. The host rounds global sizes up, so every
 * kernel checks its indices. */

/* out[n][co][o] = bias[co] + sum over ci of weight[co][ci] input[n][ci][s o].
 * Global size: (output voxels, channels_out, batch). */
__kernel void conv3d_pointwise_forward(__global const float *input, __global const float *weight,
                                       __global const float *bias, const int has_bias,
                                       __global float *output, const int batch,
                                       const int channels_in, const int channels_out,
                                       const int depth, const int height, const int width,
                                       const int stride)
{
    const int out_d = depth / stride, out_h = height / stride, out_w = width / stride;
    const int out_volume = out_d * out_h * out_w, volume = depth * height * width;
    const int v = get_global_id(0), co = get_global_id(1), n = get_global_id(2);
    if (v >= out_volume || co >= channels_out || n >= batch)
        return;
    const int x = v % out_w, y = (v / out_w) % out_h, z = v / (out_w * out_h);
    __global const float *src = input + n * channels_in * volume +
                                (stride * z * height + stride * y) * width + stride * x;
    __global const float *w = weight + co * channels_in;

    float sum = has_bias ? bias[co] : 0.0f;
    for (int ci = 0; ci < channels_in; ci++)
        sum += w[ci] * src[ci * volume];
    output[(n * channels_out + co) * out_volume + v] = sum;
}

/* Stride 1 with 16 voxels per work-item: rows[c][v] for c < channels_in
 * and the 16 voxels v0 .. v0 + 15 (fewer at the end of a sample), so
 * out[n][co][v] = bias[co] + sum over c of matrix[co][c] rows[c][v]. The
 * matrix is the weight [Co][Ci] (transposed = 0) or, for the input
 * gradient, the weight read as [Ci][Co] (transposed = 1).
 * Global size: (ceil(volume / 16), channels_out, batch). */
__kernel void conv3d_pointwise_rows(__global const float *input, __global const float *weight,
                                    __global const float *bias, const int has_bias,
                                    __global float *output, const int batch,
                                    const int channels_in, const int channels_out,
                                    const int volume, const int transposed)
{
    const int vb = get_global_id(0), co = get_global_id(1), n = get_global_id(2);
    if (vb * 16 >= volume || co >= channels_out || n >= batch)
        return;
    const int v0 = vb * 16;
    __global const float *src = input + n * channels_in * volume + v0;
    __global float *dst = output + (n * channels_out + co) * volume + v0;
    const int w_step = transposed ? channels_out : 1;
    __global const float *w = weight + (transposed ? co : co * channels_in);
    const float b = has_bias ? bias[co] : 0.0f;

    if (v0 + 16 <= volume) {
        float16 sum = (float16)(b);
        for (int ci = 0; ci < channels_in; ci++)
            sum = fma((float16)(w[ci * w_step]), vload16(0, src + ci * volume), sum);
        vstore16(sum, 0, dst);
        return;
    }
    for (int v = 0; v < volume - v0; v++) {
        float sum = b;
        for (int ci = 0; ci < channels_in; ci++)
            sum += w[ci * w_step] * src[ci * volume + v];
        dst[v] = sum;
    }
}

/* grad_in[n][ci][i] = sum over co of weight[co][ci] grad_out[n][co][i / s]
 * where every coordinate of i is a multiple of s, and 0 elsewhere.
 * Global size: (input voxels, channels_in, batch). */
__kernel void conv3d_pointwise_backward_input(__global const float *grad_out,
                                              __global const float *weight,
                                              __global float *grad_in, const int batch,
                                              const int channels_in, const int channels_out,
                                              const int depth, const int height,
                                              const int width, const int stride)
{
    const int out_h = height / stride, out_w = width / stride;
    const int out_volume = (depth / stride) * out_h * out_w, volume = depth * height * width;
    const int v = get_global_id(0), ci = get_global_id(1), n = get_global_id(2);
    if (v >= volume || ci >= channels_in || n >= batch)
        return;
    const int x = v % width, y = (v / width) % height, z = v / (width * height);
    __global float *dst = grad_in + (n * channels_in + ci) * volume + v;
    if (x % stride != 0 || y % stride != 0 || z % stride != 0) {
        *dst = 0.0f;
        return;
    }
    const int o = ((z / stride) * out_h + y / stride) * out_w + x / stride;
    __global const float *g = grad_out + n * channels_out * out_volume + o;

    float sum = 0.0f;
    for (int co = 0; co < channels_out; co++)
        sum += weight[co * channels_in + ci] * g[co * out_volume];
    *dst = sum;
}

/* Stride 1: grad_weight[co][ci] += sum over n and v of
 * grad_out[n][co][v] input[n][ci][v], one work-item per (ci, co) summing
 * 16 voxels per step. Global size: (channels_in, channels_out). */
__kernel void conv3d_pointwise_weight_rows(__global const float *grad_out,
                                           __global const float *input,
                                           __global float *grad_weight, const int batch,
                                           const int channels_in, const int channels_out,
                                           const int volume)
{
    const int ci = get_global_id(0), co = get_global_id(1);
    if (ci >= channels_in || co >= channels_out)
        return;
    const int vector_end = volume / 16 * 16;
    float16 sums = (float16)(0.0f);
    float tail = 0.0f;
    for (int n = 0; n < batch; n++) {
        __global const float *g = grad_out + (n * channels_out + co) * volume;
        __global const float *src = input + (n * channels_in + ci) * volume;
        for (int v = 0; v < vector_end; v += 16)
            sums = fma(vload16(0, g + v), vload16(0, src + v), sums);
        for (int v = vector_end; v < volume; v++)
            tail += g[v] * src[v];
    }
    const float8 half_sums = sums.lo + sums.hi;
    const float4 quarter_sums = half_sums.lo + half_sums.hi;
    grad_weight[co * channels_in + ci] += quarter_sums.x + quarter_sums.y + quarter_sums.z +
                                          quarter_sums.w + tail;
}

/* grad_weight[co][ci] += sum over n and o of grad_out[n][co][o] input[n][ci][s o].
 * One work-group per (ci, co) pair reduces in local memory; the local size
 * is a power of two. Global size: (local size * channels_in, channels_out). */
__kernel void conv3d_pointwise_backward_weight(__global const float *grad_out,
                                               __global const float *input,
                                               __global float *grad_weight, const int batch,
                                               const int channels_in, const int channels_out,
                                               const int depth, const int height,
                                               const int width, const int stride,
                                               __local float *scratch)
{
    const int ci = get_group_id(0), co = get_global_id(1);
    const int lid = get_local_id(0), lsize = get_local_size(0);
    const int out_h = height / stride, out_w = width / stride;
    const int out_volume = (depth / stride) * out_h * out_w, volume = depth * height * width;

    float sum = 0.0f;
    if (ci < channels_in && co < channels_out) {
        for (int n = 0; n < batch; n++) {
            __global const float *g = grad_out + (n * channels_out + co) * out_volume;
            __global const float *src = input + (n * channels_in + ci) * volume;
            for (int o = lid; o < out_volume; o += lsize) {
                int i = o;
                if (stride != 1) {
                    const int x = o % out_w, y = (o / out_w) % out_h, z = o / (out_w * out_h);
                    i = (stride * z * height + stride * y) * width + stride * x;
                }
                sum += g[o] * src[i];
            }
        }
    }
    scratch[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int offset = lsize / 2; offset > 0; offset /= 2) {
        if (lid < offset)
            scratch[lid] += scratch[lid + offset];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0 && ci < channels_in && co < channels_out)
        grad_weight[co * channels_in + ci] += scratch[0];
}
